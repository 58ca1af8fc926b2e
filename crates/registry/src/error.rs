//! The one error type of this crate. Messages name the reference being pulled, the request (URL
//! path) and the HTTP status; they never contain credentials or tokens, and text the registry
//! sent is shown as one printable line.

use std::io;
use std::path::PathBuf;

use stowaway_findings::one_line;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// The string is not an image reference.
    #[error("'{}' is not an image reference: {message}", one_line(input))]
    Reference { input: String, message: String },
    /// The registry answered a request with an error status (other than 401).
    #[error("pulling {reference}: {} ({status}, GET {})", status_text(what, *status), one_line(path))]
    Status {
        reference: String,
        /// What was asked for: `manifest`, `blob sha256:…`.
        what: String,
        /// The URL path (and query) of the request.
        path: String,
        status: u16,
    },
    /// 401 after authenticating (or when no way to authenticate was available).
    #[error(
        "pulling {reference}: authentication failed (401, GET {}): {}",
        one_line(path),
        one_line(reason)
    )]
    Unauthorized {
        reference: String,
        path: String,
        reason: String,
    },
    /// The request did not get an answer (connection, TLS, timeout, truncated body).
    #[error("pulling {reference}: GET {}: {}", one_line(url), one_line(message))]
    Transport {
        reference: String,
        url: String,
        message: String,
    },
    /// The registry answered, but with something that is not what was asked for (a digest or
    /// size that does not match, a document that is not a manifest, no image for the platform).
    #[error("pulling {reference}: {}", one_line(message))]
    Invalid { reference: String, message: String },
    /// Reading or writing the blob cache or the layout.
    #[error("pulling {reference}: {}: {error}", path.display())]
    Io {
        reference: String,
        path: PathBuf,
        error: io::Error,
    },
    /// The docker config file could not be read. The message never quotes the file's content.
    #[error("docker config {}: {message}", path.display())]
    DockerConfig { path: PathBuf, message: String },
}

fn status_text(what: &str, status: u16) -> String {
    match status {
        404 => format!("{what} not found"),
        403 => format!("access denied to {what}"),
        429 => format!("{what}: too many requests, the registry asks to slow down"),
        500..=599 => format!("{what}: the registry failed"),
        _ => format!("{what}: unexpected HTTP status"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_reference_path_and_status() {
        let error = RegistryError::Status {
            reference: "127.0.0.1:5000/ns/app:1.0".into(),
            what: "manifest".into(),
            path: "/v2/ns/app/manifests/1.0".into(),
            status: 404,
        };
        assert_eq!(
            error.to_string(),
            "pulling 127.0.0.1:5000/ns/app:1.0: manifest not found (404, GET /v2/ns/app/manifests/1.0)"
        );
        let error = RegistryError::Invalid {
            reference: "r".into(),
            message: "bad\nline".into(),
        };
        assert_eq!(error.to_string(), "pulling r: bad\\nline");
    }
}
