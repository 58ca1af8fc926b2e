//! `stowaway db update` against real HTTP servers on 127.0.0.1: Python's `http.server` serving a
//! copy of the real OSV data in `../shared/osv` (it sends `Last-Modified` and answers
//! `If-Modified-Since` with 304), and a scripted server for `ETag`, error statuses, a connection
//! closed mid-body and a body that is not a zip. Every failure must leave the previous database
//! exactly as it was, and no temporary file behind.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use stowaway_vulndb::{Database, DbInfo, EcosystemUpdate, UpdateOutcome, update};

mod common;

/// `../shared/osv`, when its three zips are there.
fn shared_osv() -> Option<PathBuf> {
    let (pypi, _, _) = (
        common::shared("PyPI")?,
        common::shared("Go")?,
        common::shared("Rust")?,
    );
    pypi.parent()?.parent().map(Path::to_path_buf)
}

/// `python3 -m http.server` on 127.0.0.1, port chosen by the system; killed on drop.
struct PythonServer {
    child: Child,
    url: String,
}

impl PythonServer {
    fn start(root: &Path) -> Option<PythonServer> {
        let mut child = match Command::new("python3")
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
            .arg("--directory")
            .arg(root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
        {
            Ok(child) => child,
            Err(error) => {
                eprintln!("skipped: python3 cannot be started: {error}");
                return None;
            }
        };
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .split_whitespace()
            .skip_while(|word| *word != "port")
            .nth(1)
            .unwrap_or_else(|| panic!("no port in {line:?}"))
            .to_string();
        Some(PythonServer {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies `../shared/osv` (read-only) to a writable directory.
fn copy_tree(from: &Path, to: &Path) {
    for ecosystem in ["PyPI", "Go", "Rust"] {
        std::fs::create_dir_all(to.join(ecosystem)).unwrap();
        let dest = to.join(ecosystem).join("all.zip");
        std::fs::copy(from.join(ecosystem).join("all.zip"), &dest).unwrap();
        let mut permissions = std::fs::metadata(&dest).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        permissions.set_readonly(false);
        std::fs::set_permissions(&dest, permissions).unwrap();
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn info(dir: &Path) -> DbInfo {
    Database::open(dir).unwrap().info().unwrap()
}

fn outcomes(updates: &[EcosystemUpdate]) -> Vec<(&str, &UpdateOutcome)> {
    updates
        .iter()
        .map(|u| (u.ecosystem.as_str(), &u.outcome))
        .collect()
}

#[test]
fn the_shared_osv_data_updates_over_http_only_when_changed() {
    let Some(shared) = shared_osv() else {
        return;
    };
    let served = tempfile::tempdir().unwrap();
    copy_tree(&shared, served.path());
    let Some(server) = PythonServer::start(served.path()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ecosystems: Vec<String> = ["PyPI", "Go", "Rust"].map(String::from).to_vec();

    let first = update(dir.path(), &server.url, &ecosystems, "2026-12-04T00:00:00Z").unwrap();
    let records: Vec<(&str, usize, u64)> = first
        .ecosystems
        .iter()
        .map(|u| match u.outcome {
            UpdateOutcome::Downloaded { bytes, records } => (u.ecosystem.as_str(), records, bytes),
            UpdateOutcome::Unchanged => panic!("{} unchanged on the first update", u.ecosystem),
        })
        .collect();
    let size = |e: &str| {
        std::fs::metadata(shared.join(e).join("all.zip"))
            .unwrap()
            .len()
    };
    assert_eq!(
        records,
        [
            ("PyPI", 2661, size("PyPI")),
            ("Go", 4291, size("Go")),
            ("Rust", 1206, size("Rust"))
        ]
    );
    assert!(first.invalid.is_empty(), "{:?}", first.invalid);
    assert_eq!(
        first.ecosystems[0].url,
        format!("{}/PyPI/all.zip", server.url)
    );
    let before = info(dir.path());
    assert_eq!(before.records, 2661 + 4291 + 1206);
    assert_eq!(before.updated.as_deref(), Some("2026-12-04T00:00:00Z"));
    let sources: Vec<&str> = before.sources.iter().map(|s| s.0.as_str()).collect();
    assert_eq!(
        sources,
        ["PyPI", "Go", "Rust"].map(|e| format!("{}/{e}/all.zip", server.url))
    );
    assert!(
        !Database::open(dir.path())
            .unwrap()
            .lookup("crates.io", "smallvec")
            .unwrap()
            .is_empty()
    );
    assert_eq!(entries(dir.path()), ["osv.sqlite"]);
    let bytes = std::fs::read(Database::file(dir.path())).unwrap();

    // Nothing changed on the server: 304s (If-Modified-Since), and the file is not rewritten.
    let second = update(dir.path(), &server.url, &ecosystems, "2026-12-05T00:00:00Z").unwrap();
    assert_eq!(
        outcomes(&second.ecosystems),
        [
            ("PyPI", &UpdateOutcome::Unchanged),
            ("Go", &UpdateOutcome::Unchanged),
            ("Rust", &UpdateOutcome::Unchanged)
        ]
    );
    // No ecosystems given: those fetched last time.
    let third = update(dir.path(), &server.url, &[], "2026-12-05T00:00:00Z").unwrap();
    assert_eq!(second, third);
    assert_eq!(info(dir.path()), before);
    assert!(std::fs::read(Database::file(dir.path())).unwrap() == bytes);

    // The server now serves a truncated Go zip: the update fails, naming the URL, and the
    // database stays as it was.
    let go = served.path().join("Go/all.zip");
    let whole = std::fs::read(&go).unwrap();
    std::fs::write(&go, &whole[..whole.len() / 2]).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&go)
        .unwrap()
        .set_modified(SystemTime::now() + Duration::from_secs(3600))
        .unwrap();
    let error = update(dir.path(), &server.url, &ecosystems, "2026-12-06T00:00:00Z")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("{}/Go/all.zip: not a zip", server.url)),
        "{error}"
    );
    assert_eq!(info(dir.path()), before);
    assert!(std::fs::read(Database::file(dir.path())).unwrap() == bytes);
    assert_eq!(entries(dir.path()), ["osv.sqlite"]);
}

/// A server on 127.0.0.1 that answers each connection with the next scripted response (raw
/// bytes, then closes the connection) and records each request head.
struct ScriptedServer {
    url: String,
    responses: Arc<Mutex<Vec<Vec<u8>>>>,
    requests: Arc<Mutex<Vec<String>>>,
}

impl ScriptedServer {
    fn start() -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let responses: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let (script, log) = (responses.clone(), requests.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
                    head.push(byte[0]);
                }
                log.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let response = {
                    let mut script = script.lock().unwrap();
                    if script.is_empty() {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    } else {
                        script.remove(0)
                    }
                };
                let _ = stream.write_all(&response);
            }
        });
        ScriptedServer {
            url,
            responses,
            requests,
        }
    }

    fn respond(&self, responses: Vec<Vec<u8>>) {
        *self.responses.lock().unwrap() = responses;
        self.requests.lock().unwrap().clear();
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

fn response(status: &str, headers: &[&str], body: &[u8], content_length: usize) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 {status}\r\nContent-Length: {content_length}\r\nConnection: close\r\n");
    for header in headers {
        out.push_str(header);
        out.push_str("\r\n");
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn ok(etag: &str, body: &[u8]) -> Vec<u8> {
    response("200 OK", &[&format!("ETag: {etag}")], body, body.len())
}

/// A zip of OSV records, one per id, each naming PyPI package `name`.
fn osv_zip(ids: &[&str], name: &str) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for id in ids {
        zip.start_file(format!("{id}.json"), options).unwrap();
        write!(
            zip,
            r#"{{"id": "{id}", "modified": "2024-01-01T00:00:00Z", "affected": [{{"package": {{"ecosystem": "PyPI", "name": "{name}"}}, "versions": ["1.0"]}}]}}"#
        )
        .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn server_failures_leave_the_previous_database() {
    let server = ScriptedServer::start();
    let dir = tempfile::tempdir().unwrap();
    let pypi = vec!["PyPI".to_string()];
    let url = format!("{}/PyPI/all.zip", server.url);

    server.respond(vec![ok("\"v1\"", &osv_zip(&["A-1", "A-2"], "a"))]);
    let first = update(dir.path(), &server.url, &pypi, "2026-12-04T00:00:00Z").unwrap();
    assert!(
        matches!(
            first.ecosystems[0].outcome,
            UpdateOutcome::Downloaded { records: 2, .. }
        ),
        "{first:?}"
    );
    let before = info(dir.path());
    assert_eq!(before.records, 2);
    let bytes = std::fs::read(Database::file(dir.path())).unwrap();
    let unchanged = |what: &str| {
        assert_eq!(info(dir.path()), before, "{what}");
        assert!(
            std::fs::read(Database::file(dir.path())).unwrap() == bytes,
            "{what}"
        );
        assert_eq!(entries(dir.path()), ["osv.sqlite"], "{what}");
    };

    // The stored ETag is sent back; 304 is "unchanged".
    server.respond(vec![
        b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n".to_vec(),
    ]);
    let second = update(dir.path(), &server.url, &pypi, "2026-12-05T00:00:00Z").unwrap();
    assert_eq!(second.ecosystems[0].outcome, UpdateOutcome::Unchanged);
    assert!(
        server.requests()[0].contains("If-None-Match: \"v1\"")
            || server.requests()[0].contains("if-none-match: \"v1\""),
        "{:?}",
        server.requests()
    );
    unchanged("304");

    let failures: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "500",
            response("500 Internal Server Error", &[], b"oops", 4),
            "HTTP status 500",
        ),
        (
            "closed mid-body",
            {
                let zip = osv_zip(&["A-1", "A-2", "A-3"], "a");
                response(
                    "200 OK",
                    &["ETag: \"v2\""],
                    &zip[..zip.len() / 2],
                    zip.len(),
                )
            },
            "reading the body",
        ),
        (
            "not a zip",
            ok("\"v2\"", b"<html>maintenance</html>"),
            "not a zip",
        ),
    ];
    for (what, reply, reason) in failures {
        server.respond(vec![reply]);
        let error = update(dir.path(), &server.url, &pypi, "2026-12-06T00:00:00Z")
            .unwrap_err()
            .to_string();
        assert!(error.starts_with(&format!("{url}: ")), "{what}: {error}");
        assert!(error.contains(reason), "{what}: {error}");
        unchanged(what);
    }

    // All or nothing: PyPI changed, but Go fails, so PyPI's new records are not kept either.
    server.respond(vec![
        ok("\"v2\"", &osv_zip(&["A-1", "A-2", "A-3"], "a")),
        response("503 Service Unavailable", &[], b"", 0),
    ]);
    let both = vec!["PyPI".to_string(), "Go".to_string()];
    let error = update(dir.path(), &server.url, &both, "2026-12-06T00:00:00Z")
        .unwrap_err()
        .to_string();
    assert!(
        error.starts_with(&format!("{}/Go/all.zip: HTTP status 503", server.url)),
        "{error}"
    );
    unchanged("second ecosystem failed");
    let downloads = Database::open(dir.path()).unwrap().downloads().unwrap();
    assert_eq!(downloads.len(), 1);
    assert_eq!(downloads[0].etag.as_deref(), Some("\"v1\""));

    // And when it succeeds, the new records are there.
    server.respond(vec![
        ok("\"v2\"", &osv_zip(&["A-1", "A-2", "A-3"], "a")),
        ok("\"g1\"", &osv_zip(&["B-1"], "b")),
    ]);
    update(dir.path(), &server.url, &both, "2026-12-07T00:00:00Z").unwrap();
    let after = info(dir.path());
    assert_eq!(after.records, 4);
    assert_eq!(after.updated.as_deref(), Some("2026-12-07T00:00:00Z"));
    assert_eq!(entries(dir.path()), ["osv.sqlite"]);
}

#[test]
fn https_is_spoken() {
    // A plain-HTTP server answering a TLS handshake: the error is TLS's, not "no TLS support".
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("https://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        if let Ok((mut stream, _)) = listener.accept() {
            let mut hello = [0u8; 512];
            let _ = stream.read(&mut hello);
            let _ = stream.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let error = update(
        dir.path(),
        &base,
        &["PyPI".to_string()],
        "2026-12-04T00:00:00Z",
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.starts_with(&format!("{base}/PyPI/all.zip: ")),
        "{error}"
    );
    assert!(
        !error.contains("timeout") && !error.contains("not enabled"),
        "{error}"
    );
    assert!(entries(dir.path()).is_empty());
}
