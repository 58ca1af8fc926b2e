//! Progress callbacks, so the CLI can draw a bar without the scanner knowing about terminals.

use std::io::{self, Read};

/// Told how far a scan has got. Called from several threads at once.
pub trait Progress: Sync {
    /// Scanning starts: `bytes` to read in all (when known) over `layers` layers.
    fn start(&self, bytes: Option<u64>, layers: usize);
    /// `bytes` more of the input were read.
    fn advance(&self, bytes: u64);
    /// One more layer is done.
    fn layer_done(&self);
}

/// Progress that goes nowhere.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: Option<u64>, _: usize) {}
    fn advance(&self, _: u64) {}
    fn layer_done(&self) {}
}

/// Reports the bytes read through it.
pub(crate) struct ProgressReader<'a, R> {
    pub inner: R,
    pub progress: &'a dyn Progress,
}

impl<R: Read> Read for ProgressReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.advance(n as u64);
        Ok(n)
    }
}
