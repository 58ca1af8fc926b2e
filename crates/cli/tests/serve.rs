//! `stowaway serve` as a real process: killed with SIGKILL in the middle of scans and started
//! again, every accepted scan ends exactly once; `stowaway worker` refuses to run without a
//! shared database.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_oci};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `stowaway serve` on `port`, once it answers.
fn serve(data: &Path, port: u16) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stowaway"))
        .args(["serve", "--no-api-keys", "--workers", "1", "--lease", "4"])
        .arg("--data-dir")
        .arg(data)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "stowaway serve exited");
        assert!(Instant::now() < deadline, "stowaway serve did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn status(port: u16, id: &str) -> Value {
    let mut response = agent()
        .get(format!("http://127.0.0.1:{port}/api/v1/scans/{id}"))
        .call()
        .unwrap();
    serde_json::from_str(
        &response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap(),
    )
    .unwrap()
}

/// An image whose scan takes a while: 24 MiB of incompressible bytes in 8 files.
fn slow_archive() -> Vec<u8> {
    let mut layer = LayerBuilder::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for n in 0..8 {
        let bytes: Vec<u8> = (0..3 << 20)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        layer.file(&format!("data/blob{n}.bin"), &bytes);
    }
    let image = Image::new(
        &["slow:1"],
        vec![Layer::new(
            layer.build(),
            Compression::None,
            "COPY data /data",
        )],
    );
    docker_save_oci(&[image]).to_tar()
}

/// `(id, status, attempts, endings)` of every scan, read from the server's SQLite file.
fn rows(data: &Path) -> Vec<(String, String, i64, i64)> {
    let db = rusqlite::Connection::open(data.join("stowaway.sqlite")).unwrap();
    let mut statement = db
        .prepare("SELECT id, status, attempts, endings FROM scans ORDER BY seq")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_server_killed_mid_scan_finishes_every_accepted_scan_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut server = serve(data.path(), port);
    let archive = slow_archive();
    let ids: Vec<String> = (0..6)
        .map(|_| {
            let mut response = agent()
                .post(format!(
                    "http://127.0.0.1:{port}/api/v1/scans?fail_on=malware"
                ))
                .send(&archive[..])
                .unwrap();
            assert_eq!(response.status().as_u16(), 202);
            let ticket: Value =
                serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
            ticket["id"].as_str().unwrap().to_string()
        })
        .collect();

    // Kill it while a scan is running (as the database says after the kill); a scan may end
    // between looking and killing, so try again with the next one.
    let mut interrupted = Vec::new();
    for _ in 0..5 {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ids
            .iter()
            .any(|id| status(port, id)["status"] == "scanning")
        {
            assert!(Instant::now() < deadline, "no scan started");
            std::thread::sleep(Duration::from_millis(10));
        }
        server.kill().unwrap();
        server.wait().unwrap();
        interrupted.extend(
            rows(data.path())
                .into_iter()
                .filter(|row| row.1 == "scanning")
                .map(|row| row.0),
        );
        server = serve(data.path(), port);
        if !interrupted.is_empty() {
            break;
        }
    }
    assert!(!interrupted.is_empty(), "never killed during a scan");

    let deadline = Instant::now() + Duration::from_secs(300);
    for id in &ids {
        loop {
            let scan = status(port, id);
            if scan["status"] == "done" {
                assert_eq!(scan["verdict"], "allowed", "{scan}");
                break;
            }
            assert_ne!(scan["status"], "failed", "{scan}");
            assert!(Instant::now() < deadline, "scan {id} never ended: {scan}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let rows = rows(data.path());
    assert_eq!(rows.len(), ids.len(), "no scan lost, none added");
    for (id, status, attempts, endings) in &rows {
        assert_eq!((status.as_str(), *endings), ("done", 1), "scan {id}");
        let expected = if interrupted.contains(id) { 2 } else { 1 };
        assert!(*attempts >= expected, "scan {id}: {attempts} attempts");
    }
    assert_eq!(
        std::fs::read_dir(data.path().join("uploads"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn a_worker_needs_a_shared_database() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_stowaway"))
        .args(["worker", "--data-dir"])
        .arg(data.path())
        .env_remove("STOWAWAY_DATABASE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--database postgres://"), "{stderr}");
}
