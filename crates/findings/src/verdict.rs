//! Per-file malware verdicts, in the terms MetaDefender users know: what each engine said about
//! each file (clean, infected, suspicious, potentially unwanted, failed, not scanned), its threat
//! name and scan time, and the aggregated verdict — the worst of them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{FileStatus, Finding, Kind};

/// One engine's verdict on one file, in increasing order of concern; aggregation takes the worst.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No threat detected.
    Clean,
    /// Not (wholly) scanned: a bound was hit (archive depth or size, entry count) or the archive
    /// could not be opened (encrypted, corrupt); the reason says which.
    NotScanned,
    /// The engine could not scan the file (timeout, daemon down, over its size limit): the file
    /// is not known to be clean.
    Failed,
    /// A potentially unwanted program (hacking tool, scanner, cracker, tunnel).
    Pua,
    /// Suspicious, not a known threat (packed, out of place, misleading name).
    Suspicious,
    /// A known threat.
    Infected,
}

impl Verdict {
    pub const ALL: [Verdict; 6] = [
        Verdict::Infected,
        Verdict::Suspicious,
        Verdict::Pua,
        Verdict::Failed,
        Verdict::NotScanned,
        Verdict::Clean,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::NotScanned => "not scanned",
            Verdict::Failed => "failed",
            Verdict::Pua => "potentially unwanted",
            Verdict::Suspicious => "suspicious",
            Verdict::Infected => "infected",
        }
    }

    /// The verdict an engine's finding stands for; `None` for kinds engines do not report.
    pub fn of_finding(finding: &Finding) -> Option<Verdict> {
        match finding.kind {
            Kind::Malware => Some(Verdict::Infected),
            Kind::Suspicious => Some(Verdict::Suspicious),
            Kind::Pua => Some(Verdict::Pua),
            Kind::Engine => Some(Verdict::Failed),
            _ => None,
        }
    }
}

/// Why a file was not (wholly) scanned, in the terms MetaDefender users know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotScannedCode {
    /// An archive nested deeper than `--max-depth`.
    ExceededArchiveDepth,
    /// An archive that expands beyond `--max-member-bytes`, `--max-nested-bytes` or
    /// `--max-ratio` (a possible decompression bomb).
    ExceededArchiveSize,
    /// An archive with more entries than `--max-entries`.
    ExceededArchiveFileNumber,
    /// An encrypted (password-protected) archive or member.
    EncryptedArchive,
    /// An archive that is damaged or in a form that cannot be read.
    FailedToExtract,
    /// A file larger than `--max-in-memory`: matched on its first bytes only.
    ExceededFileSize,
    /// A file that could not be read at all.
    Unreadable,
}

impl NotScannedCode {
    pub fn as_str(self) -> &'static str {
        match self {
            NotScannedCode::ExceededArchiveDepth => "exceeded archive depth",
            NotScannedCode::ExceededArchiveSize => "exceeded archive size",
            NotScannedCode::ExceededArchiveFileNumber => "exceeded archive file number",
            NotScannedCode::EncryptedArchive => "encrypted archive",
            NotScannedCode::FailedToExtract => "failed to extract",
            NotScannedCode::ExceededFileSize => "exceeded file size",
            NotScannedCode::Unreadable => "unreadable",
        }
    }
}

/// What one engine said about one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EngineResult {
    /// The engine's id, as listed in the report's `analyzers` (with its definitions).
    pub engine: String,
    pub verdict: Verdict,
    /// The threat or rule name behind a verdict other than clean.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threat: Option<String>,
    /// Time the engine spent on the file, in microseconds.
    pub time_us: u64,
}

/// Every engine's verdict on one file (or archive member) of one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileScan {
    pub path: String,
    /// Member path inside archives within the file, nested levels joined by `!`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The layer that added the file.
    pub layer: usize,
    pub status: FileStatus,
    /// The worst of the engines' verdicts and of the walker's (not scanned).
    pub verdict: Verdict,
    /// Why the file was not wholly scanned, when it was not: the code, and the words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_scanned: Option<NotScannedCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub results: Vec<EngineResult>,
}

/// How many files got each aggregated verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct VerdictCounts {
    pub clean: usize,
    pub not_scanned: usize,
    pub failed: usize,
    pub pua: usize,
    pub suspicious: usize,
    pub infected: usize,
}

impl VerdictCounts {
    pub fn get(&self, verdict: Verdict) -> usize {
        match verdict {
            Verdict::Clean => self.clean,
            Verdict::NotScanned => self.not_scanned,
            Verdict::Failed => self.failed,
            Verdict::Pua => self.pua,
            Verdict::Suspicious => self.suspicious,
            Verdict::Infected => self.infected,
        }
    }

    pub fn add(&mut self, verdict: Verdict) {
        *match verdict {
            Verdict::Clean => &mut self.clean,
            Verdict::NotScanned => &mut self.not_scanned,
            Verdict::Failed => &mut self.failed,
            Verdict::Pua => &mut self.pua,
            Verdict::Suspicious => &mut self.suspicious,
            Verdict::Infected => &mut self.infected,
        } += 1;
    }
}

/// The threats one layer brought, with the build step that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LayerThreats {
    pub layer: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// `path[!member]: threat (engine)` for every detection other than a failure.
    pub threats: Vec<String>,
}

/// The malware part of an image's report: engines, verdict counts, threats by layer, and every
/// file's per-engine results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct MalwareReport {
    /// Ids of the engines that looked at every file (details in the report's `analyzers`).
    pub engines: Vec<String>,
    /// Files and archive members scanned, over all layers.
    pub files_scanned: usize,
    /// Aggregated verdicts.
    pub verdicts: VerdictCounts,
    pub threats_by_layer: Vec<LayerThreats>,
    pub files: Vec<FileScan>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_verdict_wins() {
        let worst = [Verdict::Clean, Verdict::Failed, Verdict::Pua]
            .into_iter()
            .max();
        assert_eq!(worst, Some(Verdict::Pua));
        assert!(Verdict::Infected > Verdict::Suspicious);
        assert!(Verdict::Failed > Verdict::NotScanned);
        assert!(Verdict::NotScanned > Verdict::Clean);
        let mut counts = VerdictCounts::default();
        counts.add(Verdict::Infected);
        counts.add(Verdict::Infected);
        assert_eq!(counts.get(Verdict::Infected), 2);
        assert_eq!(counts.get(Verdict::Clean), 0);
    }
}
