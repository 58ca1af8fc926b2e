//! A real OCI registry for tests: Debian's `docker-registry` (the CNCF distribution registry)
//! on a free loopback port with its storage in a temp dir, and images pushed into it with
//! `skopeo`, as a user's pipeline would push them.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Whether every tool is on `PATH`. When one is missing the test says it is skipped, unless
/// `STOWAWAY_SHARED_DIR` is set (CI, `scripts/with-test-deps`), where it fails.
pub fn have_tools(tools: &[&str]) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| !std::env::split_paths(&path).any(|dir| dir.join(tool).is_file()))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let message = format!(
        "{} not installed (Debian: docker-registry skopeo apache2-utils openssl)",
        missing.join(", ")
    );
    if std::env::var_os("STOWAWAY_SHARED_DIR").is_some() {
        panic!("{message}; scripts/with-test-deps installs them");
    }
    eprintln!("skipped: {message}");
    false
}

/// A loopback port nobody listens on (at the time of asking).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A registry process, killed when dropped.
pub struct Registry {
    child: Child,
    pub host: String,
    pub dir: tempfile::TempDir,
    log: PathBuf,
}

impl Registry {
    /// Starts a registry whose config has `auth` (YAML under `auth:`, or empty for none).
    pub fn start(auth: &str) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        let auth = if auth.is_empty() {
            String::new()
        } else {
            format!("auth:\n{auth}")
        };
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n\
                 http:\n  addr: {host}\n  secret: stowaway-test\n{auth}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = dir.path().join("registry.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let mut registry = Registry {
            child,
            host,
            dir,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect(&registry.host).is_err() {
            if let Some(status) = registry.child.try_wait().unwrap() {
                panic!(
                    "docker-registry exited ({status}):\n{}",
                    registry.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not listen:\n{}",
                registry.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        registry
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// How many blob downloads the registry served (`GET …/blobs/…` answered 200), from its
    /// access log.
    pub fn blob_downloads(&self) -> usize {
        // The access log line is written just after the response.
        std::thread::sleep(Duration::from_millis(200));
        self.log_text()
            .lines()
            .filter(|line| line.contains("\"GET /v2/") && line.contains("/blobs/sha256:"))
            .filter(|line| line.contains("HTTP/1.1\" 200 "))
            .count()
    }

    /// The file the registry serves the blob `digest` from.
    pub fn stored_blob(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// `skopeo copy SOURCE docker://HOST/DEST` (plain http), with `extra` arguments.
    pub fn push(&self, source: &str, dest: &str, extra: &[&str]) {
        let output = Command::new("skopeo")
            .args([
                "copy",
                "--quiet",
                "--insecure-policy",
                "--dest-tls-verify=false",
            ])
            .args(extra)
            .arg(source)
            .arg(format!("docker://{}/{dest}", self.host))
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "skopeo copy {source} failed: {}\nregistry log:\n{}",
            String::from_utf8_lossy(&output.stderr),
            self.log_text()
        );
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
