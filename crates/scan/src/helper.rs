//! Analysis beside the walker: a layer's files that are whole in memory (and no archives) are
//! handed, content and all, to a second thread that runs the analyzers on them, while the walking
//! thread goes on reading, hashing and recording the next files. With the malware engines on,
//! matching costs about as much as everything else the walker does, so one dominant layer would
//! otherwise leave a core idle. Files go over in batches of up to [`BATCH_FILES`] files or
//! [`BATCH_BYTES`] of content: one hand-over per small file would wake the other thread for each
//! (a Debian image has tens of thousands of files of a few kilobytes). A few batches may wait
//! for the helper, so that neither thread waits for the other, but never more than
//! [`IN_FLIGHT_BYTES`] of content (or one file, when it is larger), so memory stays bounded.
//!
//! The helper's outputs and engine verdicts are put back where the walker would have recorded
//! them, so a report does not depend on which thread analysed a file.

use std::sync::mpsc::{Receiver, Sender, SyncSender};

use stowaway_findings::EngineResult;

use crate::analyzer::{Analyzer, FileMeta, HEAD_BYTES, Output};
use crate::verdicts::Tally;

/// Batches queued for the helper at most.
pub(crate) const QUEUED_BATCHES: usize = 8;

/// Files in one batch at most.
const BATCH_FILES: usize = 32;

/// Content in one batch: once a batch holds this much, it goes.
const BATCH_BYTES: usize = 256 << 10;

/// Content handed to the helper and not analysed yet, at most (one file may be larger).
pub(crate) const IN_FLIGHT_BYTES: usize = 16 << 20;

/// A file for the helper.
pub(crate) struct Job {
    /// Where its outputs go among the walk's outputs, and the index of its verdicts entry.
    pub outputs_at: usize,
    pub verdicts_at: usize,
    pub path: String,
    pub member: Option<String>,
    pub size: u64,
    pub mode: u32,
    pub content: Vec<u8>,
    /// Indexes of the analyzers that want the file.
    pub wanting: Vec<usize>,
}

/// What the helper found in a [`Job`]'s file.
pub(crate) struct Done {
    /// Bytes of content it had.
    pub bytes: usize,
    pub outputs_at: usize,
    pub verdicts_at: usize,
    pub path: String,
    pub member: Option<String>,
    pub outputs: Vec<Output>,
    /// The engines' verdicts and times on this file (all engines; clean where they did not run).
    pub results: Vec<EngineResult>,
}

/// The walker's side of the helper: its channels, the batch being filled, and what it has
/// finished so far.
pub(crate) struct Helper {
    pub jobs: SyncSender<Vec<Job>>,
    pub done: Receiver<Vec<Done>>,
    pub finished: Vec<Done>,
    batch: Vec<Job>,
    batch_bytes: usize,
    /// Content sent and not yet seen finished.
    pub in_flight: usize,
}

impl Helper {
    pub fn new(jobs: SyncSender<Vec<Job>>, done: Receiver<Vec<Done>>) -> Helper {
        Helper {
            jobs,
            done,
            finished: Vec::new(),
            batch: Vec::new(),
            batch_bytes: 0,
            in_flight: 0,
        }
    }

    /// Adds `job` to the batch, and sends the batch when it is full. `Err` when the helper
    /// thread is gone.
    pub fn send(&mut self, job: Job) -> Result<(), ()> {
        self.batch_bytes += job.content.len();
        self.batch.push(job);
        if self.batch.len() >= BATCH_FILES || self.batch_bytes >= BATCH_BYTES {
            self.flush()?;
        }
        Ok(())
    }

    /// Sends the batch, first waiting for finished files while too much content is in flight.
    fn flush(&mut self) -> Result<(), ()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        while let Ok(done) = self.done.try_recv() {
            self.received(done);
        }
        while self.in_flight > 0 && self.in_flight + self.batch_bytes > IN_FLIGHT_BYTES {
            let done = self.done.recv().map_err(|_| ())?;
            self.received(done);
        }
        self.in_flight += self.batch_bytes;
        self.batch_bytes = 0;
        self.jobs
            .send(std::mem::take(&mut self.batch))
            .map_err(|_| ())
    }

    /// Sends what is left, hangs up and waits for every file still with the helper; everything
    /// it finished, in the order the files were sent.
    pub fn finish(mut self) -> Vec<Done> {
        // A helper that is gone has sent all it will: what it finished is still collected.
        let _ = self.flush();
        let Helper {
            jobs,
            done,
            mut finished,
            ..
        } = self;
        drop(jobs);
        finished.extend(done.iter().flatten());
        finished
    }

    fn received(&mut self, done: Vec<Done>) {
        for file in done {
            self.in_flight = self.in_flight.saturating_sub(file.bytes);
            self.finished.push(file);
        }
    }
}

/// The helper thread: analyses every batch of jobs until the walker hangs up.
pub(crate) fn serve(
    analyzers: &[Box<dyn Analyzer>],
    jobs: Receiver<Vec<Job>>,
    done: Sender<Vec<Done>>,
) {
    for batch in jobs {
        let finished = batch
            .into_iter()
            .map(|job| {
                let mut tally = Tally::new(analyzers);
                let meta = FileMeta {
                    path: &job.path,
                    member: job.member.as_deref(),
                    size: job.size,
                    mode: job.mode,
                    head: &job.content[..job.content.len().min(HEAD_BYTES)],
                };
                let outputs = analyze(
                    analyzers,
                    &job.wanting,
                    &meta,
                    &job.content,
                    true,
                    &mut tally,
                );
                Done {
                    bytes: job.content.len(),
                    outputs_at: job.outputs_at,
                    verdicts_at: job.verdicts_at,
                    outputs,
                    results: tally.results,
                    path: job.path,
                    member: job.member,
                }
            })
            .collect();
        if done.send(finished).is_err() {
            return;
        }
    }
}

/// Runs the analyzers `wanting` (indexes into `analyzers`) on a file's content (`meta.head` is
/// its first bytes), engines through `tally`.
pub(crate) fn analyze(
    analyzers: &[Box<dyn Analyzer>],
    wanting: &[usize],
    meta: &FileMeta<'_>,
    content: &[u8],
    complete: bool,
    tally: &mut Tally,
) -> Vec<Output> {
    let mut outputs = Vec::new();
    for analyzer in wanting.iter().filter_map(|&i| analyzers.get(i)) {
        tally.run(analyzer.as_ref(), &mut outputs, |out| {
            analyzer.analyze(meta, content, complete, out)
        });
    }
    outputs
}
