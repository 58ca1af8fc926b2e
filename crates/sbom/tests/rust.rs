//! The Rust catalogers on real input: a binary that `cargo auditable build --release` builds here
//! from a tiny crate with two registry dependencies and a build-time-only one, and this
//! repository's own `Cargo.lock`; and a binary linking an old crate, matched against the real
//! RUSTSEC advisories.
//!
//! The binary test needs `cargo-auditable`: on the `PATH`, or where `scripts/with-test-deps` installs it
//! (`$XDG_CACHE_HOME/stowaway/cargo-auditable/bin`, by default under `~/.cache`), and crates.io
//! (or cargo's cache) for the dependencies; without the tool it says it is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use std::collections::BTreeSet;

use stowaway_findings::{FileStatus, Location, Package, PackageType};
use stowaway_sbom::{CargoLock, RustBinary};
use stowaway_scan::{Analyzer, FileMeta, HEAD_BYTES, Output};
use stowaway_vulndb::{Database, MatchOptions, match_packages};

fn catalog(analyzer: &dyn Analyzer, path: &str, content: &[u8]) -> Vec<(String, String)> {
    let file = FileMeta {
        path,
        member: None,
        size: content.len() as u64,
        mode: 0o755,
        head: &content[..content.len().min(HEAD_BYTES)],
    };
    assert!(analyzer.wants(&file), "{path}");
    let mut out = Vec::new();
    analyzer.analyze(&file, content, true, &mut out);
    out.into_iter()
        .map(|output| match output {
            Output::Package(p) => {
                assert_eq!(p.package_type, PackageType::Rust);
                (p.name, p.version)
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

/// The directory holding `cargo-auditable`, if it is installed.
fn cargo_auditable() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .map(|cache| cache.join("stowaway/cargo-auditable/bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .chain(cache)
        .find(|dir| dir.join("cargo-auditable").is_file());
    if found.is_none() {
        eprintln!("skipped: cargo-auditable is not installed (scripts/with-test-deps installs it)");
    }
    found
}

/// Builds a binary crate with `cargo auditable build --release` in `dir`: its `Cargo.toml`, an
/// optional `build.rs`, and `src/main.rs`; the binary's bytes.
fn build_auditable(
    tool_dir: PathBuf,
    dir: &Path,
    name: &str,
    manifest: &str,
    build: Option<&str>,
    main: &str,
) -> Vec<u8> {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    if let Some(build) = build {
        std::fs::write(dir.join("build.rs"), build).unwrap();
    }
    std::fs::write(dir.join("src/main.rs"), main).unwrap();
    let path = std::env::join_paths(std::iter::once(tool_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["auditable", "build", "--release", "--quiet"])
        .current_dir(dir)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo auditable build: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(dir.join("target/release").join(name)).unwrap()
}

#[test]
fn cargo_auditable_binary_lists_its_runtime_crates() {
    let Some(tool_dir) = cargo_auditable() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path();
    let binary = build_auditable(
        tool_dir,
        app,
        "auditable-app",
        r#"[package]
name = "auditable-app"
version = "0.3.1"
edition = "2021"

[dependencies]
itoa = "=1.0.19"
ryu = "=1.0.23"

[build-dependencies]
autocfg = "=1.5.1"

[workspace]
"#,
        Some("fn main() { autocfg::new().emit_rustc_version(1, 0); }\n"),
        "fn main() {\n    println!(\"{} {}\", itoa::Buffer::new().format(42), \
         ryu::Buffer::new().format(1.5));\n}\n",
    );
    let mut crates = catalog(&RustBinary, "usr/local/bin/auditable-app", &binary);
    crates.sort();
    // The root package and what is linked in; autocfg ran only at build time.
    assert_eq!(
        crates,
        [
            ("auditable-app".to_string(), "0.3.1".to_string()),
            ("itoa".to_string(), "1.0.19".to_string()),
            ("ryu".to_string(), "1.0.23".to_string()),
        ]
    );
    // The crate's own Cargo.lock pins all three, the build dependency included.
    let lock = std::fs::read(app.join("Cargo.lock")).unwrap();
    let mut locked = catalog(&CargoLock, "src/app/Cargo.lock", &lock);
    locked.sort();
    assert_eq!(
        locked,
        [
            ("auditable-app".to_string(), "0.3.1".to_string()),
            ("autocfg".to_string(), "1.5.1".to_string()),
            ("itoa".to_string(), "1.0.19".to_string()),
            ("ryu".to_string(), "1.0.23".to_string()),
        ]
    );
    // A binary built without cargo auditable has no audit data.
    let plain = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert!(catalog(&RustBinary, "usr/bin/test", &plain).is_empty());
}

#[test]
fn this_repositorys_cargo_lock() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let text = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
    let packages = catalog(&CargoLock, "src/stowaway/Cargo.lock", text.as_bytes());
    assert_eq!(
        packages.len(),
        text.lines().filter(|line| *line == "[[package]]").count()
    );
    // Every workspace member is there, at the workspace's version.
    let mut members = 0;
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(manifest) = std::fs::read_to_string(manifest) else {
            continue;
        };
        let name = manifest
            .lines()
            .find_map(|line| line.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .unwrap();
        assert!(
            packages.contains(&(name.to_string(), env!("CARGO_PKG_VERSION").to_string())),
            "{name}"
        );
        members += 1;
    }
    assert!(members >= 10, "{members}");
    // And registry crates with the version the file states right after their name.
    for name in ["object", "toml", "serde"] {
        let version = text
            .split("[[package]]\n")
            .find_map(|entry| {
                let rest = entry.strip_prefix(&format!("name = \"{name}\"\nversion = \""))?;
                rest.split('"').next()
            })
            .unwrap();
        assert!(
            packages.contains(&(name.to_string(), version.to_string())),
            "{name}"
        );
    }
}

/// A binary linking an old crate with known advisories: what the catalogers find in it matches,
/// against the shared RUSTSEC data, exactly the advisories the reference evaluation
/// (`crates/vulndb/tests/fixtures/reference.py`) finds for it.
#[test]
fn an_old_crate_in_a_binary_matches_its_advisories() {
    let Some(tool_dir) = cargo_auditable() else {
        return;
    };
    let shared = std::env::var_os("STOWAWAY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let rustsec = shared.join("osv/Rust/all.zip");
    if !rustsec.is_file() {
        eprintln!(
            "skipped: {} is not there (set STOWAWAY_SHARED_DIR)",
            rustsec.display()
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let binary = build_auditable(
        tool_dir,
        dir.path(),
        "old-crate-app",
        "[package]\nname = \"old-crate-app\"\nversion = \"1.0.0\"\nedition = \"2021\"\n\n[dependencies]\nsmallvec = \"=0.6.13\"\n\n[workspace]\n",
        None,
        "fn main() {\n    let v: smallvec::SmallVec<[u8; 4]> = smallvec::SmallVec::from_slice(&[1, 2]);\n    println!(\"{}\", v.len());\n}\n",
    );
    let packages: Vec<Package> = {
        let file = FileMeta {
            path: "usr/local/bin/old-crate-app",
            member: None,
            size: binary.len() as u64,
            mode: 0o755,
            head: &binary[..binary.len().min(HEAD_BYTES)],
        };
        let mut out = Vec::new();
        RustBinary.analyze(&file, &binary, true, &mut out);
        out.into_iter()
            .filter_map(|o| match o {
                Output::Package(mut p) => {
                    p.location = Some(Location {
                        layer: 0,
                        layer_digest: None,
                        path: "usr/local/bin/old-crate-app".into(),
                        member: None,
                        line: None,
                        status: FileStatus::Present,
                        created_by: None,
                    });
                    Some(p)
                }
                _ => None,
            })
            .collect()
    };
    assert!(
        packages
            .iter()
            .any(|p| p.name == "smallvec" && p.version == "0.6.13")
    );

    let db_dir = tempfile::tempdir().unwrap();
    let mut db = Database::open_for_import(db_dir.path()).unwrap();
    db.import(std::slice::from_ref(&rustsec), "2026-12-04T00:00:00Z")
        .unwrap();
    let findings = match_packages(&db, &packages, None, MatchOptions::default()).unwrap();
    let ours: BTreeSet<String> = findings.iter().map(|f| f.id.clone()).collect();

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../vulndb/tests/fixtures/reference.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(["semver", "crates.io"])
        .arg(&rustsec)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let packages_json = serde_json::to_vec(
        &packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect::<Vec<_>>(),
    )
    .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &packages_json).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let reference: BTreeSet<String> =
        serde_json::from_slice::<Vec<(String, String, String)>>(&output.stdout)
            .unwrap()
            .into_iter()
            .map(|(_, _, id)| id)
            .collect();
    assert!(reference.contains("RUSTSEC-2021-0003"), "{reference:?}");
    assert_eq!(ours, reference);
}
