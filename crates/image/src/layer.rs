//! Layer decoding: recognise the compression by its bytes, inflate on a thread of its own, and
//! compute both digests (of the blob as stored, and of the uncompressed tar: the diff id) while
//! the caller reads the tar stream once.
//!
//! Inflating gzip is the slowest step of a scan and cannot be split within one stream, so a
//! compressed layer is a pipeline of four threads joined by pipes of a few reused buffers: the
//! calling thread reads the blob and hashes it, a second inflates, a third hashes the inflated
//! chunks (the diff id) as they pass, a fourth parses the tar, hashes the files and runs the
//! analyzers. The inflating thread does nothing else, so one dominant layer goes as fast as it can
//! be inflated. An uncompressed layer is the same pipeline without the inflating: the calling
//! thread reads the blob in large chunks, a second hashes them, a third walks the tar. Either way
//! the walking thread — the busiest when the malware engines run — does not also hash the whole
//! stream, and reads the tar's 512-byte headers from memory, not with a system call each.

use std::io::{self, BufRead, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread;

use sha2::Digest as _;

use crate::digest::{Digest, DigestReader};

/// How a layer blob is compressed, recognised by its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
/// Buffers in flight between the stages: enough that none waits for a buffer while the others
/// hold theirs.
const POOL: usize = 16;
const RATIO_FLOOR: u64 = 1 << 20;

/// Decodes a layer blob and calls `read_tar` with its uncompressed tar stream. After `read_tar`
/// returns, the rest of the stream is read so that the digests cover every byte. Bounds are
/// enforced on the uncompressed stream: exceeding one is an error naming the bound.
///
/// `read_tar` runs on a thread of its own, the hashing of the tar stream on another, and for a
/// compressed blob the inflating on a third; the calling thread reads the blob.
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
    let mut raw = io::Cursor::new(head).chain(blob);

    let compressed_bytes = AtomicU64::new(0);
    let compressed = &compressed_bytes;
    thread::scope(|scope| {
        let (tar_writer, relay, tar_reader) = hashing_pipe();
        let walker = scope.spawn(move || {
            // The ratio bounds only what was inflated.
            let ratio = (compression != Compression::None).then_some(compressed);
            let mut tar = Bounded::new(tar_reader, limits, ratio);
            let value = read_tar(&mut tar)?;
            // The rest, so that the bounds and the diff id cover every byte.
            io::copy(&mut tar, &mut io::sink())?;
            Ok::<_, io::Error>(value)
        });
        let hasher = scope.spawn(move || relay.run());
        // The blob read and, when it is compressed, inflated; its digest and size when they
        // differ from the diff id's.
        let read = if compression == Compression::None {
            tar_writer.pump(&mut raw, |e| e).map(|()| None)
        } else {
            let (raw_writer, raw_reader) = pipe();
            let inflater = scope.spawn(move || {
                let mut decoder: Box<dyn Read> = match compression {
                    Compression::Zstd => {
                        Box::new(zstd::stream::read::Decoder::with_buffer(raw_reader)?)
                    }
                    _ => Box::new(flate2::bufread::MultiGzDecoder::new(raw_reader)),
                };
                tar_writer.pump(&mut decoder, |e| {
                    io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "{} stream is corrupt or truncated: {e}",
                            compression.as_str()
                        ),
                    )
                })
            });
            let mut counted = Counting {
                inner: DigestReader::new(raw),
                counter: compressed,
            };
            let read = raw_writer.pump(&mut counted, |e| e);
            // The inflater's error comes before the reader's: it names the compression.
            join(inflater)
                .and(read)
                .and_then(|()| counted.inner.finish().map(Some))
        };
        // The walker's error comes first: when it stops early, the others only see that.
        let value = join(walker)?;
        let hashed = join(hasher);
        let blob = read?;
        let (diff_id, uncompressed_size) = hashed?;
        let (blob_digest, blob_size) = blob.unwrap_or_else(|| (diff_id.clone(), uncompressed_size));
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

/// The result of a pipeline thread. A panic there is a bug: let it be one here too, not an
/// error about the layer.
fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
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

type Chunk = io::Result<(Vec<u8>, usize)>;

/// A bounded pipe between two threads, carrying a small pool of reused buffers.
fn pipe() -> (PipeWriter, PipeReader) {
    let (full_tx, full_rx) = sync_channel::<Chunk>(POOL);
    let (empty_tx, empty_rx) = sync_channel::<Vec<u8>>(POOL);
    for _ in 0..POOL {
        // Cannot fail: the channel has room for the whole pool.
        let _ = empty_tx.send(vec![0; CHUNK]);
    }
    (
        PipeWriter {
            full: full_tx,
            empty: empty_rx,
        },
        PipeReader {
            full: full_rx,
            empty: empty_tx,
            current: None,
            pos: 0,
        },
    )
}

/// A pipe whose chunks pass through a [`Relay`] on their way, which hashes them; the buffers
/// go back from the reader straight to the writer.
fn hashing_pipe() -> (PipeWriter, Relay, PipeReader) {
    let (writer, mut reader) = pipe();
    let (to, from) = sync_channel::<Chunk>(POOL);
    let relay = Relay {
        from: std::mem::replace(&mut reader.full, from),
        to,
    };
    (writer, relay, reader)
}

/// The middle of a [`hashing_pipe`]: hashes every chunk and passes it on.
struct Relay {
    from: Receiver<Chunk>,
    to: SyncSender<Chunk>,
}

impl Relay {
    /// Hashes and forwards every chunk until the writer is done; returns the digest and length
    /// of all of them. The writer's errors are forwarded to the reader (and become the
    /// reader's); a reader gone first is an error here.
    fn run(self) -> io::Result<(Digest, u64)> {
        let mut hash = sha2::Sha256::new();
        let mut bytes = 0u64;
        for chunk in self.from.iter() {
            let failed = chunk.is_err();
            if let Ok((buf, n)) = &chunk {
                hash.update(&buf[..*n]);
                bytes += *n as u64;
            }
            if self.to.send(chunk).is_err() {
                return Err(io::Error::other("layer reading was abandoned"));
            }
            if failed {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the layer stream failed",
                ));
            }
        }
        Ok((Digest::from_sha256(hash), bytes))
    }
}

struct PipeWriter {
    full: SyncSender<Chunk>,
    empty: Receiver<Vec<u8>>,
}

impl PipeWriter {
    /// Moves all of `source` into the pipe. A read error goes to the reader too (through
    /// `describe`); when the reader is gone first, that is an error here.
    fn pump(
        self,
        source: &mut dyn Read,
        describe: impl Fn(io::Error) -> io::Error,
    ) -> io::Result<()> {
        let abandoned = || io::Error::other("layer reading was abandoned");
        loop {
            let mut buf = self.empty.recv().map_err(|_| abandoned())?;
            match read_full(source, &mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.full.send(Ok((buf, n))).map_err(|_| abandoned())?,
                Err(e) => {
                    let message = describe(e).to_string();
                    let _ = self.full.send(Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        message.clone(),
                    )));
                    return Err(io::Error::new(io::ErrorKind::InvalidData, message));
                }
            }
        }
    }
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

/// The reading end of a [`pipe`], as a `BufRead` over the received buffers (no extra copy for
/// a decoder that reads through `fill_buf`).
struct PipeReader {
    full: Receiver<Chunk>,
    empty: SyncSender<Vec<u8>>,
    current: Option<(Vec<u8>, usize)>,
    pos: usize,
}

impl BufRead for PipeReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self
            .current
            .as_ref()
            .is_none_or(|(_, len)| self.pos >= *len)
        {
            if let Some((buf, _)) = self.current.take() {
                // The writer may already be done; a returned buffer is then not needed.
                let _ = self.empty.send(buf);
            }
            match self.full.recv() {
                Ok(Ok(chunk)) => {
                    self.current = Some(chunk);
                    self.pos = 0;
                }
                Ok(Err(e)) => return Err(e),
                Err(_) => return Ok(&[]),
            }
        }
        match &self.current {
            Some((buf, len)) => Ok(&buf[self.pos..*len]),
            None => Ok(&[]),
        }
    }

    fn consume(&mut self, amount: usize) {
        self.pos += amount;
    }
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = out.len().min(available.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
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
