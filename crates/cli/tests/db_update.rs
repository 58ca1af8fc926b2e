//! `stowaway db update` end to end: the binary against Python's `http.server` serving the real
//! Rust-crate advisories of `../shared/osv` on 127.0.0.1; what it prints per ecosystem, the
//! `304` on a second run, and exit code 2 with a one-line error when a URL fails.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn stowaway(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stowaway"))
        .args(args)
        .env_remove("STOWAWAY_DB_MIRROR")
        .output()
        .unwrap()
}

#[test]
fn db_update_downloads_then_reports_unchanged_and_fails_with_exit_2() {
    // `$STOWAWAY_SHARED_DIR` (scripts/with-test-deps sets it), else `../shared` beside the repository.
    let shared = std::env::var_os("STOWAWAY_SHARED_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
        .join("osv/Rust/all.zip");
    if !shared.is_file() {
        assert!(
            std::env::var_os("STOWAWAY_SHARED_DIR").is_none(),
            "STOWAWAY_SHARED_DIR is set but {} is not there",
            shared.display()
        );
        eprintln!(
            "skipped: {} is not there (set STOWAWAY_SHARED_DIR)",
            shared.display()
        );
        return;
    }
    let served = tempfile::tempdir().unwrap();
    std::fs::create_dir(served.path().join("Rust")).unwrap();
    std::fs::copy(&shared, served.path().join("Rust/all.zip")).unwrap();
    let Ok(mut server) = Command::new("python3")
        .args([
            "-u",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            "0",
            "--directory",
        ])
        .arg(served.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    else {
        eprintln!("skipped: python3 cannot be started");
        return;
    };
    // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.split_whitespace().skip_while(|w| *w != "port").nth(1);
    let base = format!("http://127.0.0.1:{}", port.unwrap_or("0"));
    let db = tempfile::tempdir().unwrap();
    let db_dir = db.path().to_str().unwrap();
    let update = |ecosystem: &str| {
        stowaway(&[
            "db",
            "update",
            "--db-dir",
            db_dir,
            "--mirror",
            &base,
            "--ecosystem",
            ecosystem,
        ])
    };

    let first = update("Rust");
    let second = update("Rust");
    let missing = update("npm");
    let _ = server.kill();
    let _ = server.wait();

    let stdout = |output: &Output| String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(first.status.success(), "{first:?}");
    let size = std::fs::metadata(&shared).unwrap().len();
    assert_eq!(
        stdout(&first),
        format!("Rust          downloaded {size} bytes, 1206 records  {base}/Rust/all.zip\n")
    );
    assert!(second.status.success(), "{second:?}");
    assert_eq!(
        stdout(&second),
        format!("Rust          unchanged (304)  {base}/Rust/all.zip\n")
    );
    assert_eq!(missing.status.code(), Some(2), "{missing:?}");
    assert_eq!(
        String::from_utf8_lossy(&missing.stderr),
        format!("stowaway: error: {base}/npm/all.zip: HTTP status 404 Not Found\n")
    );

    let info = stowaway(&["db", "info", "--db-dir", db_dir]);
    let info = stdout(&info);
    assert!(info.contains("records         1206"), "{info}");
    assert!(info.contains(&format!("{base}/Rust/all.zip")), "{info}");
}
