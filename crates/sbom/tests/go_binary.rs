//! The Go binary cataloger on real binaries that the installed Go toolchain builds here, offline:
//! a program that requires a module from a local file proxy (with a `go.sum` checksum), a module
//! replaced by a local directory, and a module replaced by another proxied module. What
//! `stowaway-gobuildinfo` reads is compared with what `go version -m` prints (the oracle), for
//! a plain build, a `-trimpath -ldflags=-s -w` build, one with a `-X main.version=` stamp, and
//! Windows (PE) and macOS (Mach-O) cross-builds; then the packages the cataloger reports, also
//! from a truncated binary and from a scanned image.
//!
//! Needs `go` (Debian's `golang-go`, which `scripts/with-test-deps` installs); without it the tests say
//! they are skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use stowaway_findings::{FileStatus, PackageType};
use stowaway_gobuildinfo::{BuildInfo, BuildSetting, Module};
use stowaway_image::Platform;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_oci, zip_of};
use stowaway_sbom::GoBinary;
use stowaway_scan::{
    Analyzer, FileMeta, HEAD_BYTES, Input, Limits, NoProgress, Output, ScanOptions,
};

struct Fixture {
    _dir: tempfile::TempDir,
    go_version: String,
    /// (name, binary) of every build.
    builds: Vec<(&'static str, PathBuf)>,
}

impl Fixture {
    fn binary(&self, name: &str) -> &Path {
        &self
            .builds
            .iter()
            .find(|(build, _)| *build == name)
            .unwrap()
            .1
    }
}

fn go_available() -> bool {
    let found = Command::new("go")
        .arg("version")
        .output()
        .is_ok_and(|output| output.status.success());
    if !found {
        eprintln!("skipped: `go` is not installed (scripts/with-test-deps installs golang-go)");
    }
    found
}

fn run(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A module in a `file://` GOPROXY: `@v/list`, `.info`, `.mod` and the source `.zip`.
fn proxy_module(proxy: &Path, path: &str, version: &str, files: &[(&str, &str)]) {
    let dir = proxy.join(path).join("@v");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("list"), format!("{version}\n")).unwrap();
    std::fs::write(
        dir.join(format!("{version}.info")),
        format!("{{\"Version\":\"{version}\"}}"),
    )
    .unwrap();
    let go_mod = files.iter().find(|(name, _)| *name == "go.mod").unwrap().1;
    std::fs::write(dir.join(format!("{version}.mod")), go_mod).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|(name, _)| format!("{path}@{version}/{name}"))
        .collect();
    let members: Vec<(&str, &[u8])> = names
        .iter()
        .zip(files)
        .map(|(name, (_, text))| (name.as_str(), text.as_bytes()))
        .collect();
    std::fs::write(dir.join(format!("{version}.zip")), zip_of(&members)).unwrap();
}

const MAIN_GO: &str = r#"package main

import (
	"fmt"

	"example.com/greet"
	"example.com/lib"
	"example.com/orig"
)

var version = "dev"

func main() { fmt.Println(greet.Hello(), lib.World(), orig.Name(), version) }
"#;

const APP_GO_MOD: &str = "module example.com/app

go 1.18

require (
	example.com/greet v1.2.3
	example.com/lib v0.0.0
	example.com/orig v1.0.0
)

replace example.com/lib => ../lib

replace example.com/orig => example.com/fork v1.0.1
";

/// Builds the program once for every test (the first build compiles the standard library).
fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            if !go_available() {
                return None;
            }
            let dir = tempfile::tempdir().unwrap();
            let root = dir.path();
            let proxy = root.join("proxy");
            proxy_module(
                &proxy,
                "example.com/greet",
                "v1.2.3",
                &[
                    ("go.mod", "module example.com/greet\n\ngo 1.18\n"),
                    (
                        "greet.go",
                        "package greet\n\nfunc Hello() string { return \"hello\" }\n",
                    ),
                ],
            );
            proxy_module(
                &proxy,
                "example.com/fork",
                "v1.0.1",
                &[
                    ("go.mod", "module example.com/fork\n\ngo 1.18\n"),
                    (
                        "orig.go",
                        "package orig\n\nfunc Name() string { return \"fork\" }\n",
                    ),
                ],
            );
            std::fs::create_dir_all(root.join("lib")).unwrap();
            std::fs::write(
                root.join("lib/go.mod"),
                "module example.com/lib\n\ngo 1.18\n",
            )
            .unwrap();
            std::fs::write(
                root.join("lib/lib.go"),
                "package lib\n\nfunc World() string { return \"world\" }\n",
            )
            .unwrap();
            let app = root.join("app");
            std::fs::create_dir_all(&app).unwrap();
            std::fs::write(app.join("go.mod"), APP_GO_MOD).unwrap();
            std::fs::write(app.join("main.go"), MAIN_GO).unwrap();

            let go = |args: &[&str], goos: &str| {
                let mut command = Command::new("go");
                command
                    .args(args)
                    .current_dir(&app)
                    .env("GOFLAGS", "-mod=mod -modcacherw")
                    .env("GOPROXY", format!("file://{}", proxy.display()))
                    .env("GOSUMDB", "off")
                    .env("GOTOOLCHAIN", "local")
                    .env("GOPATH", root.join("gopath"))
                    .env("GOMODCACHE", root.join("modcache"))
                    .env("CGO_ENABLED", "0")
                    .env("GOOS", goos)
                    .env("GOARCH", "amd64");
                run(&mut command)
            };
            let go_version = go(&["env", "GOVERSION"], "linux").trim().to_string();
            let mut builds = Vec::new();
            for (name, goos, flags) in [
                ("plain", "linux", &[][..]),
                ("stripped", "linux", &["-trimpath", "-ldflags=-s -w"][..]),
                (
                    "stamped",
                    "linux",
                    &["-ldflags=-s -w -X main.version=1.4.2"][..],
                ),
                ("windows", "windows", &["-trimpath"][..]),
                ("darwin", "darwin", &["-trimpath"][..]),
            ] {
                let out = root.join(name);
                let mut args = vec!["build", "-o", out.to_str().unwrap()];
                args.extend(flags);
                args.push(".");
                go(&args, goos);
                builds.push((name, out));
            }
            Some(Fixture {
                _dir: dir,
                go_version,
                builds,
            })
        })
        .as_ref()
}

/// What `go version -m` prints, read back into the parser's model (quoted build settings are
/// left out: their unquoting is the parser's own business, tested on its own).
fn oracle(binary: &Path) -> BuildInfo {
    let text = run(Command::new("go").arg("version").arg("-m").arg(binary));
    let mut lines = text.lines();
    let first = lines.next().unwrap();
    let mut info = BuildInfo {
        go_version: first.rsplit(": ").next().unwrap().to_string(),
        ..BuildInfo::default()
    };
    // The line a `=>` replaces: `mod` or `dep`.
    let mut last = "";
    let module = |columns: &[&str]| Module {
        path: columns[0].to_string(),
        version: columns[1].to_string(),
        sum: columns.get(2).unwrap_or(&"").to_string(),
        replace: None,
    };
    for line in lines {
        let columns: Vec<&str> = line.trim_start_matches('\t').split('\t').collect();
        match columns[0] {
            "path" => info.path = columns[1].to_string(),
            "mod" => info.main = Some(module(&columns[1..])),
            "dep" => info.deps.push(module(&columns[1..])),
            "=>" => {
                let replaced = match last {
                    "dep" => info.deps.last_mut().unwrap(),
                    _ => info.main.as_mut().unwrap(),
                };
                replaced.replace = Some(Box::new(module(&columns[1..])));
            }
            "build" => {
                let (key, value) = columns[1].split_once('=').unwrap();
                info.settings.push(BuildSetting {
                    key: key.to_string(),
                    value: value.to_string(),
                });
            }
            _ => {}
        }
        if matches!(columns[0], "mod" | "dep") {
            last = columns[0];
        }
    }
    info
}

/// A dependency: path, version, and the replacement's path and version.
type Dep<'a> = (&'a str, &'a str, Option<(&'a str, &'a str)>);

/// Both without the settings the oracle prints quoted.
fn without_quoted_settings(mut ours: BuildInfo, mut oracle: BuildInfo) -> (BuildInfo, BuildInfo) {
    let quoted: Vec<String> = oracle
        .settings
        .iter()
        .filter(|setting| setting.value.starts_with('"') || setting.key.starts_with('"'))
        .map(|setting| setting.key.clone())
        .collect();
    oracle
        .settings
        .retain(|setting| !quoted.contains(&setting.key));
    ours.settings
        .retain(|setting| !quoted.contains(&setting.key));
    (ours, oracle)
}

fn catalog(content: &[u8], complete: bool) -> Vec<String> {
    let file = FileMeta {
        path: "usr/local/bin/app",
        member: None,
        size: content.len() as u64,
        mode: 0o755,
        head: &content[..content.len().min(HEAD_BYTES)],
    };
    assert!(GoBinary.wants(&file));
    let mut out = Vec::new();
    GoBinary.analyze(&file, content, complete, &mut out);
    out.into_iter()
        .map(|output| match output {
            Output::Package(p) => {
                assert_eq!(p.package_type, PackageType::Go);
                format!("{} {}", p.name, p.version)
            }
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

fn expected_packages(fixture: &Fixture, main_version: &str) -> Vec<String> {
    vec![
        "example.com/greet v1.2.3".to_string(),
        "../lib (devel)".to_string(),
        "example.com/fork v1.0.1".to_string(),
        format!("example.com/app {main_version}"),
        format!("stdlib {}", fixture.go_version),
    ]
}

#[test]
fn build_info_equals_go_version_m() {
    let Some(fixture) = fixture() else { return };
    for (name, binary) in &fixture.builds {
        let ours = stowaway_gobuildinfo::read(&std::fs::read(binary).unwrap()).unwrap();
        let (comparable, oracle) = without_quoted_settings(ours.clone(), oracle(binary));
        assert_eq!(comparable, oracle, "{name}");

        // And what the oracle says is what was built.
        assert_eq!(ours.go_version, fixture.go_version, "{name}");
        assert_eq!(ours.path, "example.com/app");
        assert_eq!(ours.main.as_ref().unwrap().path, "example.com/app");
        assert_eq!(ours.main.as_ref().unwrap().version, "(devel)");
        let deps: Vec<Dep<'_>> = ours
            .deps
            .iter()
            .map(|dep| {
                (
                    dep.path.as_str(),
                    dep.version.as_str(),
                    dep.replace
                        .as_ref()
                        .map(|r| (r.path.as_str(), r.version.as_str())),
                )
            })
            .collect();
        assert_eq!(
            deps,
            [
                ("example.com/greet", "v1.2.3", None),
                ("example.com/lib", "v0.0.0", Some(("../lib", "(devel)"))),
                (
                    "example.com/orig",
                    "v1.0.0",
                    Some(("example.com/fork", "v1.0.1"))
                ),
            ],
            "{name}"
        );
        assert!(ours.deps[0].sum.starts_with("h1:"), "{name}");
        assert!(
            ours.deps[2]
                .replace
                .as_ref()
                .unwrap()
                .sum
                .starts_with("h1:")
        );
        assert_eq!(ours.setting("CGO_ENABLED"), Some("0"));
    }
    let stripped = fixture.binary("stripped");
    let info = stowaway_gobuildinfo::read(&std::fs::read(stripped).unwrap()).unwrap();
    assert_eq!(info.setting("-trimpath"), Some("true"));
    let stamped = fixture.binary("stamped");
    let info = stowaway_gobuildinfo::read(&std::fs::read(stamped).unwrap()).unwrap();
    assert_eq!(
        info.setting("-ldflags"),
        Some("-s -w -X main.version=1.4.2")
    );
    let windows = std::fs::read(fixture.binary("windows")).unwrap();
    assert!(windows.starts_with(b"MZ"));
    assert_eq!(
        stowaway_gobuildinfo::read(&windows)
            .unwrap()
            .setting("GOOS"),
        Some("windows")
    );
    let darwin = std::fs::read(fixture.binary("darwin")).unwrap();
    assert!(darwin.starts_with(&[0xcf, 0xfa, 0xed, 0xfe]));
    assert_eq!(
        stowaway_gobuildinfo::read(&darwin).unwrap().setting("GOOS"),
        Some("darwin")
    );
}

#[test]
fn packages_of_every_build() {
    let Some(fixture) = fixture() else { return };
    for (name, binary) in &fixture.builds {
        let main_version = if *name == "stamped" {
            "v1.4.2"
        } else {
            "(devel)"
        };
        assert_eq!(
            catalog(&std::fs::read(binary).unwrap(), true),
            expected_packages(fixture, main_version),
            "{name}"
        );
    }
}

#[test]
fn truncated_binary_still_reads_when_the_build_info_is_within() {
    let Some(fixture) = fixture() else { return };
    let content = std::fs::read(fixture.binary("plain")).unwrap();
    let magic = b"\xff Go buildinf:";
    let at = (0..content.len() - magic.len())
        .step_by(16)
        .rev()
        .find(|&i| content[i..].starts_with(magic))
        .unwrap();
    // Cut well before the end: the ELF section headers are gone.
    let cut = at + 4096;
    assert!(
        cut < content.len() / 2 + content.len() / 4,
        "{cut} of {}",
        content.len()
    );
    assert_eq!(
        catalog(&content[..cut], false),
        expected_packages(fixture, "(devel)")
    );
    assert!(catalog(&content[..at], false).is_empty());
}

#[test]
fn scanned_image_reports_the_modules_where_the_binary_is() {
    let Some(fixture) = fixture() else { return };
    let binary = std::fs::read(fixture.binary("stripped")).unwrap();
    let mut layer = LayerBuilder::new();
    layer.file_mode("usr/local/bin/app", &binary, 0o755);
    let image = Image::new(
        &["go:latest"],
        vec![Layer::new(
            layer.build(),
            Compression::Gzip,
            "COPY app /usr/local/bin/",
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    std::fs::write(&archive, docker_save_oci(&[image]).to_tar()).unwrap();
    let mut analyzers = stowaway_scan::analyzers::default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let report = stowaway_scan::scan(&Input::Path(archive), &analyzers, &options)
        .unwrap()
        .remove(0);
    let mut go: Vec<(String, String, String)> = report
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Go)
        .map(|p| {
            let location = p.location.as_ref().unwrap();
            assert_eq!(location.status, FileStatus::Present);
            (p.name.clone(), p.version.clone(), location.path.clone())
        })
        .collect();
    go.sort();
    let mut expected: Vec<(String, String, String)> = expected_packages(fixture, "(devel)")
        .into_iter()
        .map(|line| {
            let (name, version) = line.split_once(' ').unwrap();
            (name.into(), version.into(), "usr/local/bin/app".into())
        })
        .collect();
    expected.sort();
    assert_eq!(go, expected);
}
