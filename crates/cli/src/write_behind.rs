//! Writing a report while it is still being rendered: the rendering thread fills buffers of a
//! megabyte and a second thread writes them out. An 80 MB JSON report spends about a third of its
//! time in `write` (the kernel copying it into the page cache), which this overlaps with the
//! serialising.

use std::io::{self, Write};
use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread;

const CHUNK: usize = 1 << 20;
/// Chunks rendered but not yet written: enough to ride out a slow write, few enough to bound
/// memory.
const IN_FLIGHT: usize = 4;

/// Calls `render` on this thread while another writes what it renders to `out`. The writer's
/// error comes first: once it has failed, the rendering only sees that it stopped.
pub fn write_behind(
    mut out: impl Write + Send,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let (to_writer, chunks) = sync_channel::<Vec<u8>>(IN_FLIGHT);
    thread::scope(|scope| {
        let writer = scope.spawn(move || {
            for chunk in chunks {
                out.write_all(&chunk)?;
            }
            out.flush()
        });
        let mut sender = ChunkSender {
            buffer: Vec::with_capacity(CHUNK),
            to_writer,
        };
        let rendered = render(&mut sender).and_then(|()| sender.flush());
        drop(sender);
        let written = writer
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        written.and(rendered)
    })
}

/// The rendering end: collects writes into chunks and passes each on when it is full.
struct ChunkSender {
    buffer: Vec<u8>,
    to_writer: SyncSender<Vec<u8>>,
}

impl ChunkSender {
    fn send(&mut self) -> io::Result<()> {
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
        self.to_writer
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the writer stopped"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            self.send()?;
        }
        Ok(bytes.len())
    }

    /// Passes on what is buffered; it is written when the writer gets to it.
    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        self.send()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_rendered_is_written_in_order() {
        let mut written = Vec::new();
        let expected: Vec<u8> = (0..3 * CHUNK + 17).map(|i| (i % 251) as u8).collect();
        write_behind(&mut written, |out| {
            for piece in expected.chunks(1000) {
                out.write_all(piece)?;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(written.len(), expected.len());
        assert!(written == expected);
    }

    /// Fails every write after the first `room` bytes.
    struct Full {
        room: usize,
    }

    impl Write for Full {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            if bytes.len() > self.room {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            self.room -= bytes.len();
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn the_writers_error_is_the_one_reported() {
        let error = write_behind(Full { room: CHUNK }, |out| {
            for _ in 0..100 {
                out.write_all(&[b'x'; CHUNK])?;
            }
            Ok(())
        })
        .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::StorageFull);
        assert_eq!(error.to_string(), "disk full");
    }

    #[test]
    fn a_rendering_error_is_reported_when_the_writer_did_not_fail() {
        let mut written = Vec::new();
        let error = write_behind(&mut written, |out| {
            out.write_all(b"partial")?;
            Err(io::Error::other("cannot render"))
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "cannot render");
    }
}
