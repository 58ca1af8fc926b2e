//! The one error type of this crate; every message names the input and what is wrong with it.

use std::io;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// The message includes the I/O error, so it is not also a `source` (which would print it
    /// twice in an error chain).
    #[error("{input}: {error}")]
    Io { input: String, error: io::Error },
    #[error("{input}: {message}")]
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
