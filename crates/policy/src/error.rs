//! What can go wrong loading a policy: each error names the file (or flag) and what was wrong.

use std::path::PathBuf;

use stowaway_findings::FailOnError;

#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A policy file or VEX document could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The policy file is not valid: bad YAML, an unknown field, a rule without a reason, ...
    #[error("policy file {}: {message}", path.display())]
    File { path: PathBuf, message: String },
    /// `--fail-on` on the command line is not a valid selector list.
    #[error("--fail-on: {0}")]
    FailOn(#[from] FailOnError),
    /// A VEX document is not valid OpenVEX.
    #[error("VEX document {}: {message}", path.display())]
    Vex { path: PathBuf, message: String },
}
