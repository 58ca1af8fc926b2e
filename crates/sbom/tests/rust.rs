//! The Rust catalogers on real input: a binary that `cargo auditable build --release` builds here
//! from a tiny crate with two registry dependencies and a build-time-only one, and this
//! repository's own `Cargo.lock`.
//!
//! The binary test needs `cargo-auditable`: on the `PATH`, or where `scripts/test` installs it
//! (`$XDG_CACHE_HOME/stowaway/cargo-auditable/bin`, by default under `~/.cache`), and crates.io
//! (or cargo's cache) for the dependencies; without the tool it says it is skipped.

use std::path::{Path, PathBuf};
use std::process::Command;

use stowaway_findings::PackageType;
use stowaway_sbom::{CargoLock, RustBinary};
use stowaway_scan::{Analyzer, FileMeta, HEAD_BYTES, Output};

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
        eprintln!("skipped: cargo-auditable is not installed (scripts/test installs it)");
    }
    found
}

#[test]
fn cargo_auditable_binary_lists_its_runtime_crates() {
    let Some(tool_dir) = cargo_auditable() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path();
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::write(
        app.join("Cargo.toml"),
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
    )
    .unwrap();
    std::fs::write(
        app.join("build.rs"),
        "fn main() { autocfg::new().emit_rustc_version(1, 0); }\n",
    )
    .unwrap();
    std::fs::write(
        app.join("src/main.rs"),
        "fn main() {\n    println!(\"{} {}\", itoa::Buffer::new().format(42), \
         ryu::Buffer::new().format(1.5));\n}\n",
    )
    .unwrap();
    let path = std::env::join_paths(std::iter::once(tool_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["auditable", "build", "--release", "--quiet"])
        .current_dir(app)
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", app.join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo auditable build: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let binary = std::fs::read(app.join("target/release/auditable-app")).unwrap();
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
