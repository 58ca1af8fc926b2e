//! Layer decoding: recognise the compression by its bytes, inflate on a thread of its own, and
//! compute both digests (of the blob as stored, and of the uncompressed tar: the diff id) while
//! the caller reads the tar stream once.
//!
//! Inflating gzip is the slowest step of a scan and cannot be split within one stream, so a
//! compressed layer is inflated (and its blob hashed) on the calling thread while a second thread
//! parses the tar, hashes the files and runs the analyzers, fed through a small pool of reused
//! buffers.

use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use crate::digest::{Digest, DigestReader};

/// How a layer blob is compressed, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Recognises gzip and zstd by their magic numbers and a tar by its `ustar` header; `None`
    /// when the bytes are none of these.
    pub fn sniff(head: &[u8]) -> Option<Compression> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Compression::Zstd)
        } else if head.len() >= 262 && &head[257..262] == b"ustar" {
            Some(Compression::None)
        } else if head.len() >= 512 && head.iter().all(|&b| b == 0) {
            // An empty tar: nothing but the two zero end-of-archive blocks.
            Some(Compression::None)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

/// Bounds on what one layer may expand to.
#[derive(Debug, Clone, Copy)]
pub struct LayerLimits {
    /// Uncompressed bytes of one layer.
    pub max_bytes: u64,
    /// Uncompressed / compressed, checked once a layer has expanded past 1 MiB.
    pub max_ratio: u64,
}

/// What reading a layer established about its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerDigests {
    pub compression: Compression,
    /// Digest of the blob as stored.
    pub blob_digest: Digest,
    pub blob_size: u64,
    /// Digest of the uncompressed tar (the diff id).
    pub diff_id: Digest,
    pub uncompressed_size: u64,
}

const CHUNK: usize = 256 << 10;
const POOL: usize = 4;
const RATIO_FLOOR: u64 = 1 << 20;

/// Decodes a layer blob and calls `read_tar` with its uncompressed tar stream. After `read_tar`
/// returns, the rest of the stream is read so that the digests cover every byte. Bounds are
/// enforced on the uncompressed stream: exceeding one is an error naming the bound.
///
/// For a compressed blob, `read_tar` runs on a thread of its own while this thread inflates.
pub fn decode<T: Send>(
    blob: &mut dyn Read,
    limits: LayerLimits,
    read_tar: impl FnOnce(&mut dyn Read) -> io::Result<T> + Send,
) -> io::Result<(T, LayerDigests)> {
    let mut head = Vec::with_capacity(512);
    blob.take(512).read_to_end(&mut head)?;
    let compression = Compression::sniff(&head).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "not a layer: neither a tar archive nor gzip or zstd compressed",
        )
    })?;
    let raw = DigestReader::new(io::Cursor::new(head).chain(blob));
    if compression == Compression::None {
        let mut tar = Bounded::new(raw, limits, None);
        let value = read_tar(&mut tar)?;
        let (digest, size) = tar.into_inner().finish()?;
        return Ok((
            value,
            LayerDigests {
                compression,
                blob_digest: digest.clone(),
                blob_size: size,
                diff_id: digest,
                uncompressed_size: size,
            },
        ));
    }

    let compressed_bytes = AtomicU64::new(0);
    thread::scope(|scope| {
        let (full_tx, full_rx) = sync_channel::<io::Result<(Vec<u8>, usize)>>(POOL);
        let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(POOL);
        for _ in 0..POOL {
            // Cannot fail: the channel has room for the whole pool.
            let _ = empty_tx.send(vec![0; CHUNK]);
        }
        let compressed = &compressed_bytes;
        let consumer = scope.spawn(move || {
            let stream = ChannelReader {
                full: full_rx,
                empty: empty_tx,
                current: None,
                pos: 0,
            };
            let mut tar = Bounded::new(DigestReader::new(stream), limits, Some(compressed));
            let value = read_tar(&mut tar)?;
            let (diff_id, size) = tar.into_inner().finish()?;
            Ok::<_, io::Error>((value, diff_id, size))
        });
        let produced = inflate(raw, compression, compressed, full_tx, empty_rx);
        // A panic there is a bug: let it be one here too, not an error about the layer.
        let consumed = consumer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        // The consumer's error comes first: when it stops early, the producer only sees that.
        let (value, diff_id, uncompressed_size) = consumed?;
        let (blob_digest, blob_size) = produced?;
        Ok((
            value,
            LayerDigests {
                compression,
                blob_digest,
                blob_size,
                diff_id,
                uncompressed_size,
            },
        ))
    })
}

/// The producer: reads the blob, hashes it, inflates it into pooled buffers.
fn inflate<R: Read>(
    raw: DigestReader<R>,
    compression: Compression,
    compressed_bytes: &AtomicU64,
    full: SyncSender<io::Result<(Vec<u8>, usize)>>,
    empty: Receiver<Vec<u8>>,
) -> io::Result<(Digest, u64)> {
    let mut counted = Counting {
        inner: raw,
        counter: compressed_bytes,
    };
    let mut decoder: Box<dyn Read> = match compression {
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(
            io::BufReader::with_capacity(CHUNK, &mut counted),
        )),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(&mut counted)?),
        Compression::None => Box::new(&mut counted),
    };
    loop {
        let Ok(mut buf) = empty.recv() else {
            // The consumer stopped early (an error on its side); nothing more to do.
            return Err(io::Error::other("layer reading was abandoned"));
        };
        match read_full(&mut decoder, &mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if full.send(Ok((buf, n))).is_err() {
                    return Err(io::Error::other("layer reading was abandoned"));
                }
            }
            Err(e) => {
                let message = format!(
                    "{} stream is corrupt or truncated: {e}",
                    compression.as_str()
                );
                let _ = full.send(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    message.clone(),
                )));
                return Err(io::Error::new(io::ErrorKind::InvalidData, message));
            }
        }
    }
    drop(decoder);
    drop(full);
    counted.inner.finish()
}

fn read_full(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

struct Counting<'a, R> {
    inner: R,
    counter: &'a AtomicU64,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The consumer side of the producer's channel, as a `Read`.
struct ChannelReader {
    full: Receiver<io::Result<(Vec<u8>, usize)>>,
    empty: SyncSender<Vec<u8>>,
    current: Option<(Vec<u8>, usize)>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if let Some((buf, len)) = &self.current {
                if self.pos < *len {
                    let n = out.len().min(len - self.pos);
                    out[..n].copy_from_slice(&buf[self.pos..self.pos + n]);
                    self.pos += n;
                    return Ok(n);
                }
                if let Some((buf, _)) = self.current.take() {
                    // The producer may already be done; a returned buffer is then not needed.
                    let _ = self.empty.send(buf);
                }
            }
            match self.full.recv() {
                Ok(Ok(chunk)) => {
                    self.current = Some(chunk);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(0),
            }
        }
    }
}

/// Enforces [`LayerLimits`] on the uncompressed stream.
struct Bounded<'a, R> {
    inner: R,
    limits: LayerLimits,
    read: u64,
    compressed: Option<&'a AtomicU64>,
}

impl<'a, R: Read> Bounded<'a, R> {
    fn new(inner: R, limits: LayerLimits, compressed: Option<&'a AtomicU64>) -> Self {
        Bounded {
            inner,
            limits,
            read: 0,
            compressed,
        }
    }

    fn into_inner(self) -> R {
        self.inner
    }
}

impl<R: Read> Read for Bounded<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limits.max_bytes {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "expands beyond {} bytes (--max-layer-bytes); possible decompression bomb",
                    self.limits.max_bytes
                ),
            ));
        }
        if let Some(compressed) = self.compressed {
            let compressed = compressed.load(Ordering::Relaxed).max(1);
            if self.read > RATIO_FLOOR && self.read / compressed > self.limits.max_ratio {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!(
                        "expands more than {}:1 (--max-ratio); possible decompression bomb",
                        self.limits.max_ratio
                    ),
                ));
            }
        }
        Ok(n)
    }
}
