//! The client of the scan service (`stowaway serve`, see `crates/server`): what
//! `stowaway scan IMAGE --server URL` uses, in the manner of the Jenkins plugin of a
//! MetaDefender-like service.
//!
//! - [`Client::submit_archive`] streams an image archive as the body of `POST /api/v1/scans`
//!   (`Content-Type: application/x-tar`, `Content-Length` from the file, never read whole into
//!   memory, `Expect: 100-continue` so that a server refusing it — no key, too large, queue
//!   full — says so before a byte of it is sent). [`Client::submit_reference`] asks the server
//!   to pull a registry reference instead. Both answer a [`Submitted`] with absolute URLs.
//! - [`Client::status`] reads `GET /api/v1/scans/{id}`; [`Client::wait`] polls it until the scan
//!   is done (its [`Report`], the JSON report every format derives from) or failed (an error
//!   naming the server's reason), telling the caller each status seen.
//! - Every request is retried as [`RetryPolicy`] says (see [`retry`](RetryPolicy) for which
//!   failures): exponential backoff with a cap and a total deadline, `Retry-After` honoured. A
//!   retried upload opens the file again and sends it from its first byte.
//! - Errors ([`ClientError`]) name the request and what failed; the API key is sent as
//!   `Authorization: Bearer KEY` and appears in no message and no `Debug` output.
//!
//! Blocking, on `ureq`: a CI step does one submission and a poll every few seconds, which needs
//! no async runtime.

mod error;
mod retry;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use stowaway_findings::{Report, SCHEMA_VERSION};
use ureq::http::Response;
use ureq::{Body, RequestBuilder, SendBody};

pub use error::ClientError;
pub use retry::RetryPolicy;

/// The largest error answer read for its message.
const MAX_ERROR_BYTES: u64 = 64 << 10;
/// The largest submission answer read.
const MAX_TICKET_BYTES: u64 = 64 << 10;
/// The largest status answer read: a done scan's status holds its whole report, with the
/// inventory of every file.
const MAX_STATUS_BYTES: u64 = 2 << 30;

/// What a submission says about the scan besides its input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Submission {
    /// The name the report gives the input (default: the server's choice).
    pub name: Option<String>,
    /// The `--fail-on` selector of the scan's policy (default: the server's policy).
    pub fail_on: Option<String>,
    /// An absolute http(s) URL the server tells when the scan ends.
    pub callback_url: Option<String>,
    /// Free-form metadata stored with the scan (`ci_job_url`, ...).
    pub metadata: BTreeMap<String, String>,
}

impl Submission {
    /// The query parameters of an upload: the named fields, then the metadata.
    fn query(&self) -> Vec<(&str, &str)> {
        let named = [
            ("name", &self.name),
            ("fail_on", &self.fail_on),
            ("callback_url", &self.callback_url),
        ];
        named
            .into_iter()
            .filter_map(|(key, value)| value.as_deref().map(|v| (key, v)))
            .chain(self.metadata.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .collect()
    }
}

/// The JSON body of a reference submission.
#[derive(Serialize)]
struct ReferenceBody<'a> {
    reference: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fail_on: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
    metadata: &'a BTreeMap<String, String>,
}

/// An accepted submission: the scan's id and its absolute URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub id: String,
    /// `GET`: the scan's status (and report, once done).
    pub status_url: String,
    /// `GET`: the JSON report, once done.
    pub report_url: String,
    /// The result page, for people: what a CI log links to.
    pub page_url: String,
}

/// The server's answer to a submission (`202`); its URLs are relative to the server's base.
#[derive(Deserialize)]
struct Ticket {
    id: String,
    status_url: Option<String>,
    report_url: Option<String>,
    page_url: Option<String>,
}

/// Where a scan is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanState {
    Queued,
    Scanning,
    Done,
    Failed,
    /// A state this client does not know (a newer server): still waited for.
    #[serde(other)]
    Unknown,
}

impl std::fmt::Display for ScanState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ScanState::Queued => "queued",
            ScanState::Scanning => "scanning",
            ScanState::Done => "done",
            ScanState::Failed => "failed",
            ScanState::Unknown => "in an unknown state",
        })
    }
}

/// What the scan's policy decided, once it is done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Allowed,
    Blocked,
}

/// A scan's status (`GET /api/v1/scans/{id}`).
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub id: String,
    pub status: ScanState,
    /// Percent done while scanning (0 to 100).
    pub progress: Option<u32>,
    /// Set once done.
    pub verdict: Option<Verdict>,
    /// The policy's one-paragraph summary, once done.
    pub summary: Option<String>,
    /// Why the scan failed.
    pub error: Option<String>,
    /// The full report, once done.
    pub report: Option<Box<Report>>,
}

/// The status answer without its report, which is read apart.
#[derive(Deserialize)]
struct StatusFields {
    id: String,
    status: ScanState,
    #[serde(default)]
    progress: Option<u32>,
    #[serde(default)]
    verdict: Option<Verdict>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

/// A failed attempt about to be tried again, as [`Client::on_retry`] is told it.
#[derive(Debug, Clone, Copy)]
pub struct Retry<'a> {
    pub method: &'a str,
    pub url: &'a str,
    /// The attempt that failed (1 for the first).
    pub attempt: u32,
    /// What failed: `503: the scan queue is full; retry later`, `io: Connection refused`, ...
    pub reason: &'a str,
    /// How long until the next attempt.
    pub wait: Duration,
}

type RetryObserver = Box<dyn Fn(&Retry) + Send + Sync>;

/// A client of one scan service.
pub struct Client {
    /// `scheme://host[:port][/prefix]`, without a trailing `/`.
    base: String,
    api_key: Option<String>,
    retry: RetryPolicy,
    agent: ureq::Agent,
    on_retry: Option<RetryObserver>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

/// Why one attempt failed.
enum AttemptError {
    /// The transport failed: maybe worth another attempt.
    Http(ureq::Error),
    /// Nothing another attempt would change (the archive cannot be read).
    Fatal(ClientError),
}

impl Client {
    /// A client of the service at `base_url` (`https://stowaway.example.com`, or with a path
    /// prefix), sending `api_key` as `Authorization: Bearer KEY` when given.
    pub fn new(
        base_url: &str,
        api_key: Option<String>,
        retry: RetryPolicy,
    ) -> Result<Client, ClientError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let bad = |reason| ClientError::BadUrl {
            url: base_url.to_string(),
            reason,
        };
        let uri: ureq::http::Uri = base
            .parse()
            .map_err(|_| bad("expected http://HOST[:PORT] or https://HOST[:PORT]"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(bad("the scheme must be http:// or https://"));
        }
        if uri.host().is_none_or(str::is_empty) {
            return Err(bad("no host"));
        }
        if uri.query().is_some() || base.contains('#') {
            return Err(bad("a server URL has no query or fragment"));
        }
        if let Some(key) = &api_key
            && ureq::http::HeaderValue::from_str(&format!("Bearer {key}")).is_err()
        {
            return Err(ClientError::BadApiKey);
        }
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is reported, not followed: the key is not sent to another host, and
            // a POST body is not replayed.
            .max_redirects(0)
            .max_redirects_will_error(false)
            .user_agent(concat!("stowaway/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(retry.connect_timeout))
            .timeout_send_request(Some(retry.io_timeout))
            .timeout_per_read(Some(retry.io_timeout))
            .timeout_per_write(Some(retry.io_timeout))
            .build();
        Ok(Client {
            base,
            api_key: api_key.filter(|key| !key.is_empty()),
            retry,
            agent: config.into(),
            on_retry: None,
        })
    }

    /// Calls `observer` before each retry (to tell the user why there is a wait).
    pub fn on_retry(mut self, observer: impl Fn(&Retry) + Send + Sync + 'static) -> Client {
        self.on_retry = Some(Box::new(observer));
        self
    }

    /// The server's base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `path` (as the server's answers give it, relative to the base) as an absolute URL;
    /// an absolute URL stays as it is.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    fn authorized<B>(&self, request: RequestBuilder<B>) -> RequestBuilder<B> {
        match &self.api_key {
            Some(key) => request.header("Authorization", format!("Bearer {key}")),
            None => request,
        }
    }

    /// Uploads the archive at `path` and queues its scan.
    pub fn submit_archive(
        &self,
        path: &Path,
        submission: &Submission,
    ) -> Result<Submitted, ClientError> {
        self.submit_archive_with_progress(path, submission, &|_, _| {})
    }

    /// [`Client::submit_archive`], calling `on_sent(bytes sent, archive size)` as the upload
    /// goes (from 0 again when an attempt is retried).
    pub fn submit_archive_with_progress(
        &self,
        path: &Path,
        submission: &Submission,
        on_sent: &dyn Fn(u64, u64),
    ) -> Result<Submitted, ClientError> {
        let url = self.url("/api/v1/scans");
        let query = submission.query();
        let idempotency = idempotency_key();
        let archive_error = |source| ClientError::Archive {
            path: path.to_path_buf(),
            source,
        };
        let response = self.send("POST", &url, None, &mut || {
            // Opened for every attempt: a retried upload starts from the first byte.
            let file = File::open(path).map_err(|e| AttemptError::Fatal(archive_error(e)))?;
            let metadata = file
                .metadata()
                .map_err(|e| AttemptError::Fatal(archive_error(e)))?;
            if !metadata.is_file() {
                return Err(AttemptError::Fatal(archive_error(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "not a regular file (an upload is sent again from its start when retried)",
                ))));
            }
            let total = metadata.len();
            on_sent(0, total);
            let mut body = Counting {
                inner: file,
                sent: 0,
                total,
                on_sent,
            };
            self.authorized(self.agent.post(&url))
                .query_pairs(query.iter().copied())
                .header("Content-Type", "application/x-tar")
                .header("Content-Length", total.to_string())
                .header("Expect", "100-continue")
                .header("Idempotency-Key", &idempotency)
                .send(SendBody::from_reader(&mut body))
                .map_err(AttemptError::Http)
        })?;
        self.submitted(&url, response)
    }

    /// Asks the server to pull `reference` (`registry.example.com/app:1.4`) and scan it.
    pub fn submit_reference(
        &self,
        reference: &str,
        submission: &Submission,
    ) -> Result<Submitted, ClientError> {
        let url = self.url("/api/v1/scans");
        let body = serde_json::to_vec(&ReferenceBody {
            reference,
            name: submission.name.as_deref(),
            fail_on: submission.fail_on.as_deref(),
            callback_url: submission.callback_url.as_deref(),
            metadata: &submission.metadata,
        })
        .map_err(|e| ClientError::BadResponse {
            url: url.clone(),
            reason: format!("serialising the submission: {e}"),
        })?;
        let idempotency = idempotency_key();
        let response = self.send("POST", &url, None, &mut || {
            self.authorized(self.agent.post(&url))
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", &idempotency)
                .send(&body[..])
                .map_err(AttemptError::Http)
        })?;
        self.submitted(&url, response)
    }

    /// The [`Submitted`] of a `202` answer.
    fn submitted(&self, url: &str, response: Response<Body>) -> Result<Submitted, ClientError> {
        let ticket: Ticket = read_json(url, response, MAX_TICKET_BYTES)?;
        check_id(&ticket.id).map_err(|reason| ClientError::BadResponse {
            url: url.to_string(),
            reason: format!("the scan id {:?} {reason}", ticket.id),
        })?;
        let id = ticket.id;
        let absolute = |path: Option<String>, default: String| self.url(&path.unwrap_or(default));
        Ok(Submitted {
            status_url: absolute(ticket.status_url, format!("/api/v1/scans/{id}")),
            report_url: absolute(ticket.report_url, format!("/api/v1/scans/{id}/report.json")),
            page_url: absolute(ticket.page_url, format!("/scans/{id}")),
            id,
        })
    }

    /// The status of scan `id`.
    pub fn status(&self, id: &str) -> Result<Status, ClientError> {
        self.status_until(id, None)
    }

    fn status_until(&self, id: &str, until: Option<Instant>) -> Result<Status, ClientError> {
        check_id(id).map_err(|reason| ClientError::BadUrl {
            url: id.to_string(),
            reason,
        })?;
        let url = self.url(&format!("/api/v1/scans/{id}"));
        let response = self.send("GET", &url, until, &mut || {
            self.authorized(self.agent.get(&url))
                .header("Accept", "application/json")
                .call()
                .map_err(AttemptError::Http)
        })?;
        let mut value: Value = read_json(&url, response, MAX_STATUS_BYTES)?;
        let report = value.get_mut("report").map(Value::take);
        let bad = |reason: String| ClientError::BadResponse {
            url: url.clone(),
            reason,
        };
        let fields: StatusFields =
            serde_json::from_value(value).map_err(|e| bad(format!("the status: {e}")))?;
        let report = match report {
            None | Some(Value::Null) => None,
            Some(report) => {
                let version = report
                    .get("schema_version")
                    .and_then(Value::as_str)
                    .unwrap_or("none")
                    .to_string();
                let report: Report = serde_json::from_value(report).map_err(|e| {
                    bad(format!(
                        "the report (schema version {version}; this client reads {SCHEMA_VERSION}): {e}"
                    ))
                })?;
                Some(Box::new(report))
            }
        };
        Ok(Status {
            id: fields.id,
            status: fields.status,
            progress: fields.progress,
            verdict: fields.verdict,
            summary: fields.summary,
            error: fields.error,
            report,
        })
    }

    /// Polls scan `id` until it is done (its report) or failed (an error with the server's
    /// reason), for at most `timeout`; `on_status` sees every status read. The first polls
    /// come quickly (half a second apart, doubling), then every `poll_interval`: a small image
    /// is not kept waiting, a long scan does not load the server.
    pub fn wait(
        &self,
        id: &str,
        poll_interval: Duration,
        timeout: Duration,
        on_status: &dyn Fn(&Status),
    ) -> Result<Report, ClientError> {
        let started = Instant::now();
        let deadline = started.checked_add(timeout);
        let mut interval = poll_interval.min(Duration::from_millis(500));
        loop {
            let mut status = self.status_until(id, deadline)?;
            on_status(&status);
            match status.status {
                ScanState::Done => {
                    return status.report.take().map(|report| *report).ok_or_else(|| {
                        ClientError::BadResponse {
                            url: self.url(&format!("/api/v1/scans/{id}")),
                            reason: "the scan is done but its status has no report".into(),
                        }
                    });
                }
                ScanState::Failed => {
                    return Err(ClientError::ScanFailed {
                        id: id.to_string(),
                        reason: status
                            .error
                            .unwrap_or_else(|| "the server gave no reason".into()),
                    });
                }
                ScanState::Queued | ScanState::Scanning | ScanState::Unknown => {}
            }
            let now = Instant::now();
            let left = deadline.map_or(interval, |d| d.saturating_duration_since(now));
            if left.is_zero() {
                return Err(ClientError::TimedOut {
                    id: id.to_string(),
                    waited: now - started,
                    state: status.status.to_string(),
                });
            }
            std::thread::sleep(interval.min(left));
            interval = interval.saturating_mul(2).min(poll_interval);
        }
    }

    /// Sends with `attempt` until an answer is final: a success, an error that another
    /// attempt would not change, or the attempts or the deadline (the policy's, or `until`
    /// when sooner) used up.
    fn send(
        &self,
        method: &'static str,
        url: &str,
        until: Option<Instant>,
        attempt: &mut dyn FnMut() -> Result<Response<Body>, AttemptError>,
    ) -> Result<Response<Body>, ClientError> {
        let started = Instant::now();
        let mut deadline = started.checked_add(self.retry.deadline);
        if let Some(until) = until {
            deadline = Some(deadline.map_or(until, |d| d.min(until)));
        }
        let attempts = self.retry.attempts.max(1);
        let mut tried = 0;
        loop {
            tried += 1;
            // The error if this attempt is the last, its reason, and the server's wait.
            let (error, reason, server_wait) = match attempt() {
                Ok(response) if response.status().is_success() => return Ok(response),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_after = retry::retry_after(
                        response
                            .headers()
                            .get("retry-after")
                            .and_then(|v| v.to_str().ok()),
                    );
                    let message = error_message(response);
                    let reason = format!("{status}: {message}");
                    let (method, url) = (method, url.to_string());
                    let error = match status {
                        401 => ClientError::Unauthorized {
                            method,
                            url,
                            message,
                        },
                        403 => ClientError::Forbidden {
                            method,
                            url,
                            message,
                        },
                        413 => ClientError::TooLarge {
                            method,
                            url,
                            message,
                        },
                        _ => ClientError::Status {
                            method,
                            url,
                            status,
                            message,
                            attempts: tried,
                        },
                    };
                    if !retry::retryable_status(status) {
                        return Err(error);
                    }
                    let server_wait = retry_after.filter(|_| matches!(status, 429 | 503));
                    (error, reason, server_wait)
                }
                Err(AttemptError::Fatal(error)) => return Err(error),
                Err(AttemptError::Http(source)) => {
                    let retryable = retry::retryable_transport(&source);
                    let reason = source.to_string();
                    let error = ClientError::Transport {
                        method,
                        url: url.to_string(),
                        attempts: tried,
                        source,
                    };
                    if !retryable {
                        return Err(error);
                    }
                    (error, reason, None)
                }
            };
            let wait = server_wait.unwrap_or_else(|| self.retry.backoff(tried));
            let past_deadline = deadline.is_some_and(|d| Instant::now() + wait >= d);
            if tried >= attempts || past_deadline {
                return Err(error);
            }
            if let Some(observer) = &self.on_retry {
                observer(&Retry {
                    method,
                    url,
                    attempt: tried,
                    reason: &reason,
                    wait,
                });
            }
            std::thread::sleep(wait);
        }
    }
}

/// A scan id as the server makes them: letters, digits, `-` and `_` (it goes into a URL path).
fn check_id(id: &str) -> Result<(), &'static str> {
    let valid = (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'));
    valid
        .then_some(())
        .ok_or("is not a scan id (letters, digits, '-', '_')")
}

/// The body of a success answer as JSON, at most `limit` bytes.
fn read_json<T: serde::de::DeserializeOwned>(
    url: &str,
    response: Response<Body>,
    limit: u64,
) -> Result<T, ClientError> {
    let mut body = response.into_body();
    let reader = BufReader::new(body.with_config().limit(limit).reader());
    serde_json::from_reader(reader).map_err(|e| ClientError::BadResponse {
        url: url.to_string(),
        reason: format!("reading the JSON answer: {e}"),
    })
}

/// The message of an error answer: its JSON `error`, else its text, else the status's reason;
/// for a redirect (not followed), where it points.
fn error_message(response: Response<Body>) -> String {
    let status = response.status();
    if status.is_redirection() {
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("nowhere");
        return format!("redirected to {location} (give the URL it ends at as the server URL)");
    }
    let mut body = response.into_body();
    let text = body
        .with_config()
        .limit(MAX_ERROR_BYTES)
        .read_to_string()
        .unwrap_or_default();
    let from_json = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string));
    let text = text.trim();
    match from_json {
        Some(message) => message,
        None if !text.is_empty() => text.chars().take(300).collect(),
        None => status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string(),
    }
}

/// The archive as an upload body, counting what is sent.
struct Counting<'a> {
    inner: File,
    sent: u64,
    total: u64,
    on_sent: &'a dyn Fn(u64, u64),
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.sent += n as u64;
        (self.on_sent)(self.sent, self.total);
        Ok(n)
    }
}

/// A key the same on every attempt of one submission, so that a retry after a lost `202` gets the
/// scan the first attempt queued instead of a second one: 16 random bytes as hex.
fn idempotency_key() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: the time and the process still make a key no other run repeats.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        return format!("{nanos:x}-{:x}", std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_made_absolute_from_the_base() {
        let client = Client::new(
            "https://scan.example.com/stowaway/",
            None,
            RetryPolicy::default(),
        )
        .unwrap();
        assert_eq!(client.base_url(), "https://scan.example.com/stowaway");
        assert_eq!(
            client.url("/scans/ab12"),
            "https://scan.example.com/stowaway/scans/ab12"
        );
        assert_eq!(
            client.url("scans/ab12"),
            "https://scan.example.com/stowaway/scans/ab12"
        );
        assert_eq!(client.url("http://other/x"), "http://other/x");
    }

    #[test]
    fn bad_server_urls_and_keys_are_refused() {
        for bad in [
            "scan.example.com",
            "ftp://scan.example.com",
            "http://",
            "http://h/?x=1",
        ] {
            let error = Client::new(bad, None, RetryPolicy::default()).unwrap_err();
            assert!(
                matches!(error, ClientError::BadUrl { .. }),
                "{bad}: {error}"
            );
        }
        let error = Client::new(
            "http://127.0.0.1:1",
            Some("key\nX-Injected: 1".into()),
            RetryPolicy::default(),
        )
        .unwrap_err();
        assert!(matches!(error, ClientError::BadApiKey), "{error}");
    }

    #[test]
    fn the_key_is_not_in_debug_output() {
        let client = Client::new(
            "http://127.0.0.1:1",
            Some("s3cr3t-key".into()),
            RetryPolicy::default(),
        )
        .unwrap();
        let debug = format!("{client:?}");
        assert!(!debug.contains("s3cr3t-key"), "{debug}");
        assert!(debug.contains("<hidden>"), "{debug}");
    }

    #[test]
    fn the_submission_is_the_query() {
        let submission = Submission {
            name: Some("app:1".into()),
            fail_on: Some("critical,malware".into()),
            callback_url: None,
            metadata: BTreeMap::from([("ci_job_url".into(), "https://ci/job/1".into())]),
        };
        assert_eq!(
            submission.query(),
            [
                ("name", "app:1"),
                ("fail_on", "critical,malware"),
                ("ci_job_url", "https://ci/job/1")
            ]
        );
    }
}
