//! What can go wrong talking to the scan service. Every message names the request (method and
//! URL, never the API key) and what failed; failures that were retried say how many attempts
//! were made.

use std::path::PathBuf;
use std::time::Duration;

/// An error of the scan service's client.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server URL is not an absolute `http://` or `https://` URL.
    #[error("{url:?} is not a server URL: {reason}")]
    BadUrl { url: String, reason: &'static str },
    /// The API key cannot be sent in a header.
    #[error("the API key cannot be sent: it has characters an HTTP header cannot hold")]
    BadApiKey,
    /// The archive to upload could not be opened or read.
    #[error("reading the archive {}: {source}", path.display())]
    Archive {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The server could not be reached, or the connection failed (after retries when the
    /// failure was transient).
    #[error("{method} {url}: {source}{}", after(*attempts))]
    Transport {
        method: &'static str,
        url: String,
        attempts: u32,
        #[source]
        source: ureq::Error,
    },
    /// 401: the server needs an API key.
    #[error("{method} {url}: the server needs an API key (401: {message})")]
    Unauthorized {
        method: &'static str,
        url: String,
        message: String,
    },
    /// 403: the server refused the API key.
    #[error("{method} {url}: the server refused the API key (403: {message})")]
    Forbidden {
        method: &'static str,
        url: String,
        message: String,
    },
    /// 413: the archive is larger than the server accepts.
    #[error("{method} {url}: the archive is larger than the server accepts (413: {message})")]
    TooLarge {
        method: &'static str,
        url: String,
        message: String,
    },
    /// Any other error status (after retries when it was transient).
    #[error("{method} {url}: the server answered {status}: {message}{}", after(*attempts))]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        message: String,
        attempts: u32,
    },
    /// An answer that is not what the API describes.
    #[error("{url}: the answer is not what the scan API describes: {reason}")]
    BadResponse { url: String, reason: String },
    /// The scan ended as `failed` on the server.
    #[error("scan {id} failed on the server: {reason}")]
    ScanFailed { id: String, reason: String },
    /// The scan had not ended when the wait was over.
    #[error("scan {id} did not finish within {} s (it is {state})", waited.as_secs())]
    TimedOut {
        id: String,
        waited: Duration,
        state: String,
    },
}

impl ClientError {
    /// The HTTP status of the server's answer, when the error is one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ClientError::Unauthorized { .. } => Some(401),
            ClientError::Forbidden { .. } => Some(403),
            ClientError::TooLarge { .. } => Some(413),
            ClientError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How many attempts a request that was retried had.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            ClientError::Transport { attempts, .. } | ClientError::Status { attempts, .. } => {
                Some(*attempts)
            }
            _ => None,
        }
    }
}

fn after(attempts: u32) -> String {
    match attempts {
        0 | 1 => String::new(),
        n => format!(" (gave up after {n} attempts)"),
    }
}
