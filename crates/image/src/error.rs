//! The one error type of this crate; every message names the input and what is wrong with it.

use std::io;

use stowaway_findings::one_line;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The message includes the I/O error, so it is not also a `source` (which would print it
    /// twice in an error chain).
    #[error("{}: {}", one_line(input), one_line(&error.to_string()))]
    Io { input: String, error: io::Error },
    /// Messages quote names and bytes from the input: shown as one printable line.
    #[error("{}: {}", one_line(input), one_line(message))]
    Invalid { input: String, message: String },
}

impl ImageError {
    pub fn invalid(input: impl Into<String>, message: impl Into<String>) -> ImageError {
        ImageError::Invalid {
            input: input.into(),
            message: message.into(),
        }
    }

    pub fn io(input: impl Into<String>, error: io::Error) -> ImageError {
        ImageError::Io {
            input: input.into(),
            error,
        }
    }
}
