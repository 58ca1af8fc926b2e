//! The engines' verdicts on one file, collected while the walker runs them: for every malware
//! engine (an analyzer whose `is_engine` is true) a verdict, the threat behind it and the time
//! spent, clean unless one of its findings says otherwise.

use std::time::Instant;

use stowaway_findings::{EngineResult, Verdict};

use crate::analyzer::{Analyzer, Output};

/// One result per engine, in the order of the analyzers.
pub(crate) struct Tally {
    pub results: Vec<EngineResult>,
}

impl Tally {
    pub fn new(analyzers: &[Box<dyn Analyzer>]) -> Tally {
        let results = analyzers
            .iter()
            .filter(|a| a.is_engine())
            .map(|a| EngineResult {
                engine: a.id().to_string(),
                verdict: Verdict::Clean,
                threat: None,
                time_us: 0,
            })
            .collect();
        Tally { results }
    }

    /// Runs `call` (one of `analyzer`'s methods, writing to `out`); for an engine, adds its time
    /// and the verdict of what it wrote.
    pub fn run(
        &mut self,
        analyzer: &dyn Analyzer,
        out: &mut Vec<Output>,
        call: impl FnOnce(&mut Vec<Output>),
    ) {
        if !analyzer.is_engine() {
            call(out);
            return;
        }
        let first = out.len();
        let started = Instant::now();
        call(out);
        let micros = started.elapsed().as_micros() as u64;
        let Some(result) = self.results.iter_mut().find(|r| r.engine == analyzer.id()) else {
            return;
        };
        result.time_us += micros;
        for output in &out[first..] {
            let Output::Finding(finding) = output else {
                continue;
            };
            if let Some(verdict) = Verdict::of_finding(finding)
                && verdict > result.verdict
            {
                result.verdict = verdict;
                result.threat = Some(finding.id.clone());
            }
        }
    }
}

/// Adds `other` (another tally of the same engines on the same file) to `results`: times add
/// up, the worse verdict wins.
pub(crate) fn absorb(results: &mut [EngineResult], other: Vec<EngineResult>) {
    for theirs in other {
        if let Some(ours) = results.iter_mut().find(|r| r.engine == theirs.engine) {
            ours.time_us += theirs.time_us;
            if theirs.verdict > ours.verdict {
                ours.verdict = theirs.verdict;
                ours.threat = theirs.threat;
            }
        }
    }
}
