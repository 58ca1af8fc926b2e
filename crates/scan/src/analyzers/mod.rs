//! The analyzers that ship with the core: OS detection and executables in unusual places.

mod os_release;
mod unusual_exec;

pub use os_release::{OS_FILES, OsRelease};
pub use unusual_exec::{UnusualExecutable, unusual_place};

use crate::analyzer::Analyzer;

/// Every built-in analyzer.
pub fn default_analyzers() -> Vec<Box<dyn Analyzer>> {
    vec![Box::new(OsRelease), Box::new(UnusualExecutable)]
}
