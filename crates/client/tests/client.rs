//! The client against a real HTTP server (axum on tokio, in the test) that answers from a
//! script and injects faults: `503` with `Retry-After`, dropped connections, `500`s without end,
//! refusals (`401`, `403`, `413`), a failed scan, a scan that never ends, and the progress of a
//! scan up to its report. Every test states what the server received and how often.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use stowaway_client::{Client, ClientError, RetryPolicy, ScanState, Status, Submission, Verdict};
use stowaway_findings::{
    AnalyzerInfo, PolicyOutcome, Report, SCHEMA_VERSION, Tool, VulnerabilityDatabase,
};

const ID: &str = "0123456789abcdef0123456789abcdef";

/// One scripted answer.
#[derive(Clone)]
struct Reply {
    status: u16,
    retry_after: Option<u64>,
    location: Option<&'static str>,
    body: Value,
    /// Read the whole request body before answering (else answer at once, as a server refusing
    /// an upload does).
    read_body: bool,
}

impl Reply {
    fn json(status: u16, body: Value) -> Reply {
        Reply {
            status,
            retry_after: None,
            location: None,
            body,
            read_body: false,
        }
    }

    fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, json!({ "error": message }))
    }

    /// `202` with the scan's ticket, after reading the upload.
    fn accepted() -> Reply {
        Reply {
            read_body: true,
            ..Reply::json(
                202,
                json!({
                    "id": ID,
                    "status_url": format!("/api/v1/scans/{ID}"),
                    "report_url": format!("/api/v1/scans/{ID}/report.json"),
                    "page_url": format!("/scans/{ID}"),
                }),
            )
        }
    }

    fn status(state: &str, progress: Option<u32>, extra: Value) -> Reply {
        let mut body = json!({
            "id": ID,
            "status": state,
            "progress": progress,
            "attempts": 1,
            "verdict": null,
            "summary": null,
            "error": null,
            "report": null,
            "status_url": format!("/api/v1/scans/{ID}"),
            "page_url": format!("/scans/{ID}"),
        });
        if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
            body.extend(extra);
        }
        Reply::json(200, body)
    }
}

/// What the server received.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: BTreeMap<String, String>,
    authorization: Option<String>,
    content_type: Option<String>,
    content_length: Option<u64>,
    expect: Option<String>,
    idempotency_key: Option<String>,
    body: Vec<u8>,
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
    /// Connections still to drop right after their request's headers arrive.
    drop_connections: AtomicUsize,
    dropped: AtomicUsize,
}

/// The scripted server, on a runtime of its own.
struct FaultServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    _runtime: tokio::runtime::Runtime,
}

/// A listener that drops the connections the script asks for, after their request headers.
struct Dropping {
    inner: tokio::net::TcpListener,
    shared: Arc<Shared>,
}

impl axum::serve::Listener for Dropping {
    type Io = tokio::net::TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((mut stream, addr)) = self.inner.accept().await else {
                continue;
            };
            let drop_it = self
                .shared
                .drop_connections
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if !drop_it {
                return (stream, addr);
            }
            self.shared.dropped.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                use tokio::io::AsyncReadExt;
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                drop(stream);
            });
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

async fn answer(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let reply = shared
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or_else(|| Reply::error(500, "the test's script is exhausted"));
    let (parts, body) = request.into_parts();
    let text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let body = match reply.read_body {
        true => axum::body::to_bytes(body, 256 << 20)
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default(),
        false => Vec::new(),
    };
    let query = Query::<BTreeMap<String, String>>::try_from_uri(&parts.uri)
        .map(|q| q.0)
        .unwrap_or_default();
    shared.seen.lock().unwrap().push(Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_string(),
        query,
        authorization: text(header::AUTHORIZATION),
        content_type: text(header::CONTENT_TYPE),
        content_length: text(header::CONTENT_LENGTH).and_then(|v| v.parse().ok()),
        expect: text(header::EXPECT),
        idempotency_key: text(header::HeaderName::from_static("idempotency-key")),
        body,
    });
    let mut response = (
        StatusCode::from_u16(reply.status).unwrap(),
        axum::Json(reply.body),
    )
        .into_response();
    if let Some(seconds) = reply.retry_after {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, seconds.into());
    }
    if let Some(location) = reply.location {
        response
            .headers_mut()
            .insert(header::LOCATION, header::HeaderValue::from_static(location));
    }
    response
}

impl FaultServer {
    fn start(script: Vec<Reply>) -> FaultServer {
        let shared = Arc::new(Shared {
            script: Mutex::new(script.into()),
            ..Shared::default()
        });
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = Dropping {
            inner: listener,
            shared: shared.clone(),
        };
        runtime.spawn(async move { axum::serve(listener, app).await });
        FaultServer {
            shared,
            addr,
            _runtime: runtime,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    fn client(&self, policy: RetryPolicy) -> Client {
        Client::new(&self.url(), Some("k-123".into()), policy).unwrap()
    }
}

/// Millisecond backoff, so that retries cost the tests little.
fn fast(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(40),
        deadline: Duration::from_secs(20),
        connect_timeout: Duration::from_secs(5),
        io_timeout: Duration::from_secs(10),
    }
}

/// An archive-sized file of bytes that do not repeat: 3 MiB, more than any one read.
fn archive() -> (tempfile::TempDir, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let bytes: Vec<u8> = (0..3 << 20)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let path = dir.path().join("app.tar");
    std::fs::write(&path, &bytes).unwrap();
    (dir, path, bytes)
}

fn submission() -> Submission {
    Submission {
        name: Some("shop/app:1.4".into()),
        fail_on: Some("critical,malware".into()),
        callback_url: None,
        metadata: BTreeMap::from([(
            "ci_job_url".to_string(),
            "https://jenkins.example.com/job/app/17/".to_string(),
        )]),
    }
}

/// A report as the server stores it: blocked by its policy.
fn report() -> Report {
    Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: Tool {
            name: "stowaway".into(),
            version: "0.1.0".into(),
        },
        input: "shop/app:1.4".into(),
        analyzers: vec![AnalyzerInfo {
            id: "yara-x".into(),
            version: 3,
            definitions: Some("bundled 2024-05-01".into()),
        }],
        vulnerability_database: VulnerabilityDatabase {
            checked: false,
            path: None,
            updated: None,
            age_days: None,
            records: 0,
            note: Some("the server has no vulnerability database".into()),
        },
        images: Vec::new(),
        policy: Some(PolicyOutcome {
            fail_on: "critical,malware".into(),
            engine_failures_block: true,
            blocked: true,
            blocking: 1,
            summary: "1 finding: 1 malware (critical). Blocked by --fail-on critical,malware."
                .into(),
            warnings: vec!["ignore rule 3 expired on 2024-01-01".into()],
        }),
    }
}

#[test]
fn a_503_with_retry_after_is_waited_for_then_the_upload_is_accepted() {
    let mut busy = Reply::error(503, "the scan queue is full; retry later");
    busy.retry_after = Some(1);
    let server = FaultServer::start(vec![busy, Reply::accepted()]);
    let (_dir, path, bytes) = archive();
    let retries = Arc::new(Mutex::new(Vec::new()));
    let seen_retries = retries.clone();
    let client = server.client(fast(6)).on_retry(move |retry| {
        seen_retries
            .lock()
            .unwrap()
            .push((retry.attempt, retry.reason.to_string(), retry.wait));
    });
    let started = Instant::now();
    let submitted = client.submit_archive(&path, &submission()).unwrap();
    let elapsed = started.elapsed();

    // Retry-After (1 s) was honoured over the 10 ms backoff.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert_eq!(
        *retries.lock().unwrap(),
        [(
            1,
            "503: the scan queue is full; retry later".to_string(),
            Duration::from_secs(1)
        )]
    );
    assert_eq!(submitted.id, ID);
    let base = server.url();
    assert_eq!(submitted.status_url, format!("{base}/api/v1/scans/{ID}"));
    assert_eq!(
        submitted.report_url,
        format!("{base}/api/v1/scans/{ID}/report.json")
    );
    assert_eq!(submitted.page_url, format!("{base}/scans/{ID}"));

    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    for request in &seen {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/api/v1/scans");
        assert_eq!(request.authorization.as_deref(), Some("Bearer k-123"));
        assert_eq!(request.content_type.as_deref(), Some("application/x-tar"));
        assert_eq!(request.content_length, Some(bytes.len() as u64));
        assert_eq!(request.expect.as_deref(), Some("100-continue"));
        assert_eq!(
            request.query,
            BTreeMap::from([
                ("name".to_string(), "shop/app:1.4".to_string()),
                ("fail_on".to_string(), "critical,malware".to_string()),
                (
                    "ci_job_url".to_string(),
                    "https://jenkins.example.com/job/app/17/".to_string()
                ),
            ])
        );
    }
    // The refusal came before the body (100-continue); the accepted upload is the file.
    assert!(seen[0].body.is_empty());
    assert!(seen[1].body == bytes, "the upload differs from the file");
}

#[test]
fn an_upload_whose_connection_drops_is_sent_again_from_its_first_byte() {
    // The first connection is dropped after its headers; the second attempt's whole body is
    // read and answered 502; the third is accepted.
    let mut gateway = Reply::error(502, "bad gateway");
    gateway.read_body = true;
    let server = FaultServer::start(vec![gateway, Reply::accepted()]);
    server.shared.drop_connections.store(1, Ordering::SeqCst);
    let (_dir, path, bytes) = archive();
    let progress = Mutex::new(Vec::new());
    let submitted = server
        .client(fast(6))
        .submit_archive_with_progress(&path, &Submission::default(), &|sent, total| {
            progress.lock().unwrap().push((sent, total));
        })
        .unwrap();
    assert_eq!(submitted.id, ID);
    assert_eq!(server.shared.dropped.load(Ordering::SeqCst), 1);
    let seen = server.seen();
    assert_eq!(seen.len(), 2, "one dropped attempt, then two answered");
    for request in &seen {
        assert!(request.body == bytes, "an attempt sent something else");
        assert!(request.query.is_empty(), "{:?}", request.query);
    }
    // Every attempt of one submission carries the same idempotency key (the server answers a
    // repeat with the first attempt's scan); another submission gets another.
    let key = seen[0].idempotency_key.clone().expect("an Idempotency-Key");
    assert_eq!(key.len(), 32);
    assert!(
        seen.iter()
            .all(|r| r.idempotency_key.as_deref() == Some(key.as_str()))
    );
    let progress = progress.into_inner().unwrap();
    let total = bytes.len() as u64;
    assert_eq!(progress.last(), Some(&(total, total)));
    // Three attempts, each starting from 0.
    assert_eq!(progress.iter().filter(|(sent, _)| *sent == 0).count(), 3);
}

#[test]
fn server_errors_are_retried_until_the_attempts_are_exhausted() {
    let server = FaultServer::start(vec![
        Reply::error(
            500,
            "reading the scan: database is locked"
        );
        10
    ]);
    let error = server.client(fast(4)).status(ID).unwrap_err();
    assert_eq!(server.seen().len(), 4);
    assert_eq!(error.attempts(), Some(4));
    assert_eq!(error.status(), Some(500));
    let message = error.to_string();
    assert!(
        message.contains("database is locked") && message.contains("gave up after 4 attempts"),
        "{message}"
    );
    assert!(message.contains(&format!("GET {}/api/v1/scans/{ID}", server.url())));
}

#[test]
fn the_deadline_stops_retries_before_the_attempts_are_used_up() {
    let server = FaultServer::start(vec![Reply::error(504, "gateway timeout"); 100]);
    let policy = RetryPolicy {
        attempts: 100,
        initial_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(50),
        deadline: Duration::from_millis(400),
        ..fast(100)
    };
    let started = Instant::now();
    let error = server.client(policy).status(ID).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(3));
    let attempts = error.attempts().unwrap();
    assert!((2..20).contains(&attempts), "{attempts} attempts");
    assert_eq!(server.seen().len() as u32, attempts);
}

#[test]
fn refusals_are_named_and_not_retried() {
    let (_dir, path, _) = archive();
    let cases = [
        (
            401,
            "an API key is required: Authorization: Bearer KEY, or apikey: KEY",
            "the server needs an API key",
        ),
        (403, "unknown API key", "the server refused the API key"),
        (
            413,
            "the upload is larger than 1048576 bytes",
            "the archive is larger than the server accepts",
        ),
        (
            400,
            "fail_on: 'sever' is not a severity",
            "the server answered 400",
        ),
    ];
    for (status, server_says, we_say) in cases {
        let server = FaultServer::start(vec![Reply::error(status, server_says), Reply::accepted()]);
        let error = server
            .client(fast(6))
            .submit_archive(&path, &submission())
            .unwrap_err();
        let message = error.to_string();
        assert!(message.contains(we_say), "{status}: {message}");
        assert!(message.contains(server_says), "{status}: {message}");
        assert!(!message.contains("k-123"), "the key is in {message}");
        assert_eq!(error.status(), Some(status));
        assert_eq!(server.seen().len(), 1, "{status} was retried");
    }
}

#[test]
fn a_reference_is_submitted_as_json() {
    let server = FaultServer::start(vec![Reply::accepted()]);
    let submitted = server
        .client(fast(1))
        .submit_reference("registry.example.com/shop/app:1.4", &submission())
        .unwrap();
    assert_eq!(submitted.page_url, format!("{}/scans/{ID}", server.url()));
    let seen = server.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].content_type.as_deref(), Some("application/json"));
    assert!(seen[0].query.is_empty());
    let body: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(
        body,
        json!({
            "reference": "registry.example.com/shop/app:1.4",
            "name": "shop/app:1.4",
            "fail_on": "critical,malware",
            "metadata": {"ci_job_url": "https://jenkins.example.com/job/app/17/"},
        })
    );
}

#[test]
fn polling_follows_the_scan_until_its_report() {
    let expected = report();
    let server = FaultServer::start(vec![
        Reply::status("queued", None, json!({})),
        Reply::status("scanning", Some(40), json!({})),
        // A restarting server between two polls.
        Reply::error(503, "starting"),
        Reply::status("scanning", Some(80), json!({})),
        Reply::status(
            "done",
            Some(100),
            json!({
                "verdict": "blocked",
                "summary": expected.policy.as_ref().unwrap().summary,
                "report": serde_json::to_value(&expected).unwrap(),
            }),
        ),
    ]);
    let statuses = Mutex::new(Vec::new());
    let on_status = |status: &Status| {
        statuses
            .lock()
            .unwrap()
            .push((status.status, status.progress, status.verdict));
    };
    let report = server
        .client(fast(3))
        .wait(
            ID,
            Duration::from_millis(10),
            Duration::from_secs(20),
            &on_status,
        )
        .unwrap();
    assert_eq!(report, expected);
    assert_eq!(
        statuses.into_inner().unwrap(),
        [
            (ScanState::Queued, None, None),
            (ScanState::Scanning, Some(40), None),
            (ScanState::Scanning, Some(80), None),
            (ScanState::Done, Some(100), Some(Verdict::Blocked)),
        ]
    );
    let seen = server.seen();
    assert_eq!(seen.len(), 5);
    for request in &seen {
        assert_eq!(request.method, "GET");
        assert_eq!(request.path, format!("/api/v1/scans/{ID}"));
        assert_eq!(request.authorization.as_deref(), Some("Bearer k-123"));
    }
}

#[test]
fn a_failed_scan_surfaces_the_servers_reason() {
    let reason = "pulling registry.example.com/shop/app:1.4: manifest unknown";
    let server = FaultServer::start(vec![
        Reply::status("queued", None, json!({})),
        Reply::status("failed", None, json!({ "error": reason })),
    ]);
    let error = server
        .client(fast(3))
        .wait(
            ID,
            Duration::from_millis(10),
            Duration::from_secs(20),
            &|_| {},
        )
        .unwrap_err();
    match &error {
        ClientError::ScanFailed { id, reason: got } => {
            assert_eq!(id, ID);
            assert_eq!(got, reason);
        }
        other => panic!("not a failed scan: {other}"),
    }
    assert!(error.to_string().contains(reason), "{error}");
    assert_eq!(server.seen().len(), 2);
}

#[test]
fn a_scan_that_does_not_end_in_time_times_out() {
    let server = FaultServer::start(vec![Reply::status("scanning", Some(5), json!({})); 1000]);
    let started = Instant::now();
    let error = server
        .client(fast(3))
        .wait(
            ID,
            Duration::from_millis(20),
            Duration::from_millis(300),
            &|_| {},
        )
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(300) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
    match &error {
        ClientError::TimedOut { id, state, .. } => {
            assert_eq!(id, ID);
            assert_eq!(state, "scanning");
        }
        other => panic!("not a timeout: {other}"),
    }
    let polls = server.seen().len();
    assert!((3..=30).contains(&polls), "{polls} polls");
}

#[test]
fn a_report_of_another_schema_is_named() {
    let server = FaultServer::start(vec![Reply::status(
        "done",
        Some(100),
        json!({ "verdict": "allowed", "report": { "schema_version": "99", "images": 3 } }),
    )]);
    let error = server.client(fast(1)).status(ID).unwrap_err();
    assert!(matches!(error, ClientError::BadResponse { .. }), "{error}");
    let message = error.to_string();
    assert!(
        message.contains("schema version 99") && message.contains(SCHEMA_VERSION),
        "{message}"
    );
}

#[test]
fn an_unreachable_server_is_retried_then_named() {
    // A port nobody listens on: connections are refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let retries = Arc::new(AtomicUsize::new(0));
    let counted = retries.clone();
    let client = Client::new(&url, None, fast(3))
        .unwrap()
        .on_retry(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        });
    let (_dir, path, _) = archive();
    let error = client.submit_archive(&path, &submission()).unwrap_err();
    assert!(
        matches!(error, ClientError::Transport { .. }),
        "not a transport error: {error}"
    );
    assert_eq!(error.attempts(), Some(3));
    assert_eq!(retries.load(Ordering::SeqCst), 2);
    let message = error.to_string();
    assert!(
        message.contains(&format!("POST {url}/api/v1/scans")) && message.contains("3 attempts"),
        "{message}"
    );
}

#[test]
fn an_archive_that_cannot_be_read_is_not_retried() {
    let server = FaultServer::start(vec![Reply::accepted()]);
    let dir = tempfile::tempdir().unwrap();
    for path in [dir.path().join("missing.tar"), dir.path().to_path_buf()] {
        let error = server
            .client(fast(6))
            .submit_archive(&path, &Submission::default())
            .unwrap_err();
        assert!(matches!(error, ClientError::Archive { .. }), "{error}");
        assert!(
            error.to_string().contains(&path.display().to_string()),
            "{error}"
        );
    }
    assert!(server.seen().is_empty());
}

#[test]
fn a_redirect_is_named_not_followed() {
    let mut moved = Reply::json(301, json!({}));
    moved.location = Some("https://stowaway.example.com/api/v1/scans");
    let server = FaultServer::start(vec![moved, Reply::accepted()]);
    let error = server
        .client(fast(6))
        .submit_reference("alpine:3.20", &Submission::default())
        .unwrap_err();
    assert_eq!(error.status(), Some(301));
    let message = error.to_string();
    assert!(
        message.contains("redirected to https://stowaway.example.com/api/v1/scans"),
        "{message}"
    );
    // Neither followed (the key stays with the server it was given for) nor retried.
    assert_eq!(server.seen().len(), 1);
}
