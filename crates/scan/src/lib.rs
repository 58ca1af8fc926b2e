//! Scanning: one pass over every layer of an image, analyzers on every file, then the merge.
//!
//! [`scan`] takes an input (an archive or layout on disk, a stream on stdin, or a root
//! filesystem), finds its images with `stowaway-image`, walks each distinct layer once — layers in
//! parallel — and assembles an [`ImageReport`] per image: layer summaries with verified digests,
//! the inventory with each entry's status after whiteouts, and the analyzers' findings located by
//! layer, path and archive member.
//!
//! Analyzers implement [`Analyzer`]; the walker ([`walk`]) decides which files each one sees.
//! Walks of layers can be kept in a [`LayerCache`] and read back on the next scan.

mod analyzer;
pub mod analyzers;
mod assemble;
mod cache;
mod helper;
mod limits;
pub mod merge;
mod nested;
mod progress;
mod rootfs;
mod source;
mod verdicts;
pub mod walk;

pub use analyzer::{Analyzer, FileMeta, HEAD_BYTES, Output};
pub use cache::{CacheError, Cleaned, LayerCache, cache_file};
pub use limits::Limits;
pub use progress::{NoProgress, Progress};
pub use source::{Input, ScanError, ScanOptions, scan};
pub use stowaway_findings::ImageReport;
