//! `stowaway scan IMAGE --server URL` against a real `stowaway serve` process: the exit code is
//! the server's verdict, the summary and the result page are printed, the reports are written
//! here from the server's report, the CI job's URL reaches the scan's metadata, API keys are
//! sent and their refusals named; an unreachable server blocks (exit 1) unless
//! `--allow-engine-failure`; what remote mode cannot take is an error (exit 2); remote and local
//! scans find the same. And the service as a real process: killed with SIGKILL mid-scan and
//! started again, every accepted scan ends exactly once; `stowaway worker` needs a shared
//! database.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use stowaway_findings::Report;
use stowaway_imagebuilder::registry::{Registry, have_tools};
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, docker_save_classic, docker_save_oci,
};

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `stowaway serve` process, killed when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `stowaway serve` on `port` (with `extra` arguments), once it answers.
fn serve(data: &Path, port: u16, extra: &[&str]) -> Serve {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stowaway"))
        .args(["serve", "--workers", "1"])
        .args(extra)
        .arg("--data-dir")
        .arg(data)
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("STOWAWAY_DATABASE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "stowaway serve exited");
        assert!(Instant::now() < deadline, "stowaway serve did not listen");
        std::thread::sleep(Duration::from_millis(50));
    }
    Serve(child)
}

/// `stowaway ARGS` in `cwd`, with no remote settings inherited from the environment.
fn stowaway(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stowaway"));
    command
        .args(args)
        .current_dir(cwd)
        .env_remove("STOWAWAY_SERVER")
        .env_remove("STOWAWAY_API_KEY")
        .env_remove("BUILD_URL")
        .env_remove("CI_JOB_URL")
        .env_remove("GITHUB_SERVER_URL")
        .env_remove("GITHUB_REPOSITORY")
        .env_remove("GITHUB_RUN_ID")
        .stdin(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    command.output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn clean_image() -> Image {
    let mut layer = LayerBuilder::new();
    layer
        .file("etc/motd", b"welcome\n")
        .file("app/readme.txt", b"nothing to see here\n");
    let mut image = Image::new(
        &["clean:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "COPY . /")],
    );
    image.settings["User"] = "1000:1000".into();
    image
}

fn clean_archive() -> Vec<u8> {
    docker_save_oci(&[clean_image()]).to_tar()
}

fn eicar_archive() -> Vec<u8> {
    let mut layer = LayerBuilder::new();
    layer.file("srv/eicar.com", EICAR);
    let image = Image::new(
        &["eicar:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "COPY . /")],
    );
    docker_save_oci(&[image]).to_tar()
}

/// The scan's status on the server, by the id at the end of the result page's URL.
fn server_status(stderr: &str) -> Value {
    let page = stderr
        .lines()
        .find_map(|line| line.strip_prefix("stowaway: result page: "))
        .unwrap_or_else(|| panic!("no result page in {stderr}"));
    let (base, id) = page.rsplit_once("/scans/").unwrap();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut page_response = agent.get(page).call().unwrap();
    assert_eq!(page_response.status().as_u16(), 200, "{page}");
    let html = page_response.body_mut().read_to_string().unwrap();
    assert!(
        html.contains("<html") || html.contains("<!doctype"),
        "{page}"
    );
    let mut response = agent
        .get(format!("{base}/api/v1/scans/{id}"))
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

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn remote_scans_exit_with_the_servers_verdict_and_write_the_reports_here() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let clean = write(dir, "clean.tar", &clean_archive());
    let eicar = write(dir, "eicar.tar", &eicar_archive());
    let (clean, eicar) = (clean.to_str().unwrap(), eicar.to_str().unwrap());
    let port = free_port();
    let server = serve(data.path(), port, &["--no-api-keys"]);
    let url = format!("http://127.0.0.1:{port}");
    let jenkins = "https://jenkins.example.com/job/app/17/";

    // A clean image: exit 0, the table on stdout, SARIF in a file, the summary and the page.
    let sarif = dir.join("clean.sarif");
    let out = stowaway(
        dir,
        &[
            "scan",
            clean,
            "--server",
            &url,
            "--format",
            &format!("table,sarif={}", sarif.display()),
        ],
        &[("BUILD_URL", jenkins)],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stowaway: uploading "), "{stderr}");
    assert!(stderr.contains("stowaway: uploaded, scan "), "{stderr}");
    assert!(
        stderr.contains(&format!("stowaway: result page: {url}/scans/")),
        "{stderr}"
    );
    let status = server_status(&stderr);
    assert_eq!(status["verdict"], "allowed", "{status}");
    assert_eq!(status["metadata"]["ci_job_url"], jenkins, "{status}");
    assert_eq!(status["metadata"]["name"], clean, "{status}");
    let summary = status["summary"].as_str().unwrap();
    assert!(
        stderr.contains(&format!("stowaway: {summary}\n")),
        "no summary {summary:?} in {stderr}"
    );
    assert!(
        text(&out.stdout).contains("Image clean:1"),
        "{}",
        text(&out.stdout)
    );
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");

    // EICAR: exit 1, blocked by the server's policy; the JSON report written here is the
    // server's report.
    let json = dir.join("eicar.json");
    let sarif = dir.join("eicar.sarif");
    let out = stowaway(
        dir,
        &[
            "scan",
            eicar,
            "--server",
            &url,
            "--format",
            &format!("json={},sarif={}", json.display(), sarif.display()),
            "--image-name",
            "shop/app:1.4",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let status = server_status(&stderr);
    assert_eq!(status["verdict"], "blocked", "{status}");
    assert!(status["metadata"].get("ci_job_url").is_none(), "{status}");
    let summary = status["summary"].as_str().unwrap();
    assert!(summary.contains("malware"), "{summary}");
    assert!(
        stderr.contains(&format!("stowaway: {summary}\n")),
        "no summary {summary:?} in {stderr}"
    );
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let written: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(written, status["report"]);
    let report: Report = serde_json::from_value(written).unwrap();
    assert_eq!(report.input, "shop/app:1.4");
    assert!(report.policy.unwrap().blocked);
    let sarif: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .is_some_and(|results| !results.is_empty()),
        "{sarif}"
    );

    // --fail-on goes to the server: EICAR does not match `vuln`, so it passes.
    let out = stowaway(
        dir,
        &[
            "scan",
            eicar,
            "--server",
            &url,
            "--fail-on",
            "vuln",
            "--quiet",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("uploading"), "--quiet: {stderr}");
    let status = server_status(&stderr);
    assert_eq!(status["metadata"]["fail_on"], "vuln", "{status}");
    assert_eq!(status["verdict"], "allowed", "{status}");

    // With API keys: none is an error (exit 2), so is a wrong one; the right one scans.
    drop(server);
    let created = Command::new(env!("CARGO_BIN_EXE_stowaway"))
        .args(["serve", "--create-key", "ci", "--data-dir"])
        .arg(data.path())
        .env_remove("STOWAWAY_DATABASE")
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", text(&created.stderr));
    let key = text(&created.stdout).trim().to_string();
    let port = free_port();
    let _server = serve(data.path(), port, &[]);
    let url = format!("http://127.0.0.1:{port}");
    let out = stowaway(dir, &["scan", clean, "--server", &url], &[]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("needs an API key") && stderr.contains("STOWAWAY_API_KEY"),
        "{stderr}"
    );
    let out = stowaway(
        dir,
        &["scan", clean, "--server", &url, "--api-key", "not-the-key"],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refused the API key"), "{stderr}");
    assert!(
        !stderr.contains("not-the-key"),
        "the key is printed: {stderr}"
    );
    let out = stowaway(
        dir,
        &["scan", clean],
        &[("STOWAWAY_SERVER", &url), ("STOWAWAY_API_KEY", &key)],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("stowaway: result page: "), "{stderr}");
    assert!(!stderr.contains(&key), "the key is printed: {stderr}");
}

#[test]
fn an_unreachable_server_blocks_unless_engine_failures_are_allowed() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let clean = write(dir, "clean.tar", &clean_archive());
    let clean = clean.to_str().unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());

    let started = Instant::now();
    let out = stowaway(
        dir,
        &["scan", clean, "--server", &url, "--server-timeout", "3"],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("stowaway: blocked: the scan could not complete: ")
            && stderr.contains(&format!("POST {url}/api/v1/scans")),
        "{stderr}"
    );
    assert!(stderr.contains("retrying in 1 s"), "not retried: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(30));

    let out = stowaway(
        dir,
        &[
            "scan",
            clean,
            "--server",
            &url,
            "--server-timeout",
            "3",
            "--allow-engine-failure",
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("stowaway: warning: the scan could not complete: ")
            && stderr.contains("--allow-engine-failure"),
        "{stderr}"
    );
    assert!(!stderr.contains("blocked"), "{stderr}");
}

#[test]
fn what_remote_mode_cannot_take_is_an_error() {
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let clean = write(dir, "clean.tar", &clean_archive());
    let clean = clean.to_str().unwrap();
    // Nothing listens: none of these may get as far as connecting.
    let url = format!("http://127.0.0.1:{}", free_port());
    let dir_arg = dir.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["scan", "-"], "not `-`"),
        (&["scan", dir_arg], "is a directory"),
        (&["scan", "--rootfs", dir_arg], "not --rootfs"),
        (&["scan", "missing.tar"], "missing.tar"),
        (
            &[
                "scan",
                clean,
                "--clamd",
                "tcp:127.0.0.1:3310",
                "--skip-vulns",
            ],
            "--clamd, --skip-vulns only work(s) in a local scan",
        ),
        (
            &["scan", clean, "--server", "ftp://example.com"],
            "not a server URL",
        ),
    ];
    for (args, expected) in cases {
        let out = stowaway(dir, args, &[("STOWAWAY_SERVER", &url)]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("could not complete"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_registry_reference_is_pulled_by_the_server() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let registry = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let dir = work.path();
    let archive = write(
        dir,
        "clean.tar",
        &docker_save_classic(&[clean_image()]).to_tar(),
    );
    registry.push(
        &format!("docker-archive:{}", archive.display()),
        "shop/clean:1",
        &[],
    );
    let reference = format!("{}/shop/clean:1", registry.host);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = serve(
        data.path(),
        port,
        &["--no-api-keys", "--insecure-registry", &registry.host],
    );
    let url = format!("http://127.0.0.1:{port}");
    let json = dir.join("report.json");
    let out = stowaway(
        dir,
        &[
            "scan",
            &reference,
            "--server",
            &url,
            "--format",
            &format!("json={}", json.display()),
        ],
        &[(
            "CI_JOB_URL",
            "https://gitlab.example.com/shop/app/-/jobs/42",
        )],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!("asking {url} to pull and scan {reference}"))
            && stderr.contains("stowaway: submitted, scan "),
        "{stderr}"
    );
    let status = server_status(&stderr);
    assert_eq!(status["reference"], reference.as_str(), "{status}");
    assert_eq!(
        status["metadata"]["ci_job_url"],
        "https://gitlab.example.com/shop/app/-/jobs/42"
    );
    let report: Report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(report.input, reference);
    assert_eq!(report.images.len(), 1);
    assert!(!report.policy.unwrap().blocked);
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
    let mut server = serve(data.path(), port, &["--no-api-keys", "--lease", "4"]);
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
        drop(server);
        interrupted.extend(
            rows(data.path())
                .into_iter()
                .filter(|row| row.1 == "scanning")
                .map(|row| row.0),
        );
        server = serve(data.path(), port, &["--no-api-keys", "--lease", "4"]);
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
    drop(server);
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

/// A token of GitHub's format (not a real one), split so this file holds none.
const GITHUB_TOKEN: &str = concat!("ghp_", "R8fK2mQ9vXw4LpT7nYb3HcJ6dSa1EuZ0gVx5");

fn secrets_archive() -> Vec<u8> {
    let mut layer = LayerBuilder::new();
    layer.file(
        "srv/app/.env",
        format!("DEBUG=0\nGITHUB_TOKEN={GITHUB_TOKEN}\n").as_bytes(),
    );
    let mut image = Image::new(
        &["secrets:1"],
        vec![Layer::new(
            layer.build(),
            Compression::Gzip,
            "COPY app /srv/app",
        )],
    );
    image.settings["User"] = "1000:1000".into();
    docker_save_oci(&[image]).to_tar()
}

#[test]
fn remote_and_local_scans_of_clean_eicar_and_secrets_images_find_the_same() {
    let data = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let _server = serve(data.path(), port, &["--no-api-keys"]);
    let url = format!("http://127.0.0.1:{port}");
    for (name, archive, code) in [
        ("clean", clean_archive(), 0),
        ("eicar", eicar_archive(), 1),
        ("secrets", secrets_archive(), 1),
    ] {
        let path = write(work.path(), &format!("{name}.tar"), &archive);
        let path = path.to_str().unwrap();
        let local = stowaway(
            work.path(),
            &["scan", path, "--format", "json", "--no-cache"],
            &[],
        );
        assert_eq!(
            local.status.code(),
            Some(code),
            "{name}: {}",
            text(&local.stderr)
        );
        let remote = stowaway(
            work.path(),
            &["scan", path, "--server", &url, "--format", "json"],
            &[],
        );
        assert_eq!(
            remote.status.code(),
            Some(code),
            "{name}: {}",
            text(&remote.stderr)
        );
        let findings = |out: &Output| {
            let report: Report = serde_json::from_slice(&out.stdout).unwrap();
            report.images[0].findings.clone()
        };
        assert_eq!(findings(&local), findings(&remote), "{name}");
        assert!(code == 0 || !findings(&remote).is_empty(), "{name}");
        assert!(!text(&remote.stdout).contains(GITHUB_TOKEN), "{name}");
    }
}
