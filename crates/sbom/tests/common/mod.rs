//! Helpers shared by the catalogers' integration tests: scanning built images, caching what the
//! tests download or install, layers made from directories, and layers made from real `.deb`s
//! the way apt makes them (files, status database, file lists).

#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

use stowaway_findings::ImageReport;
use stowaway_image::Platform;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_oci};
use stowaway_scan::{Analyzer, Input, Limits, NoProgress, ScanOptions};

/// Every cataloger, after the core analyzers (OS detection for the PURLs' `distro`).
pub fn all_catalogers() -> Vec<Box<dyn Analyzer>> {
    let mut analyzers = stowaway_scan::analyzers::default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    analyzers
}

/// Scans `layers` saved as a Docker 25+ archive with `analyzers`.
pub fn scan_layers(layers: Vec<Layer>, analyzers: &[Box<dyn Analyzer>]) -> ImageReport {
    scan_images(&[Image::new(&["sbom:test"], layers)], analyzers)
}

/// Scans `images` saved as a Docker 25+ archive with `analyzers`; the first image's report.
pub fn scan_images(images: &[Image], analyzers: &[Box<dyn Analyzer>]) -> ImageReport {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    std::fs::write(&archive, docker_save_oci(images).to_tar()).unwrap();
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    stowaway_scan::scan(&Input::Path(archive), analyzers, &options)
        .unwrap()
        .remove(0)
}

/// `${XDG_CACHE_HOME:-$HOME/.cache}/stowaway/sbom-tests`.
pub fn cache_root() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"));
    base.join("stowaway/sbom-tests")
}

/// `<cache>/<name>`, made by `make` in a fresh directory the first time; a directory is only
/// ever cached complete.
pub fn prepared(name: &str, make: impl FnOnce(&Path)) -> PathBuf {
    let dir = cache_root().join(name);
    if dir.join(".complete").exists() {
        return dir;
    }
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let work = cache_root().join(format!("{name}.tmp-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    make(&work);
    std::fs::write(work.join(".complete"), b"").unwrap();
    if std::fs::rename(&work, &dir).is_err() {
        std::fs::remove_dir_all(&work).unwrap();
    }
    assert!(dir.join(".complete").exists());
    dir
}

/// A layer with the regular files under `dir`, at `prefix`, leaving out entries named in `skip`.
pub fn dir_layer(dir: &Path, prefix: &str, skip: &[&str], step: &str) -> Layer {
    fn add(builder: &mut LayerBuilder, dir: &Path, name: &str, skip: &[&str]) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if skip.contains(&file_name.as_str()) {
                continue;
            }
            let path = format!("{name}/{file_name}");
            let kind = entry.file_type().unwrap();
            if kind.is_dir() {
                add(builder, &entry.path(), &path, skip);
            } else if kind.is_file() {
                builder.file(&path, &std::fs::read(entry.path()).unwrap());
            }
        }
    }
    let mut builder = LayerBuilder::new();
    add(&mut builder, dir, prefix, skip);
    Layer::new(builder.build(), Compression::Gzip, step)
}

/// Runs `command`, which must succeed; its standard output.
pub fn output_of(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// `dpkg-deb -f`: the package's control fields.
pub fn control(deb: &Path) -> String {
    output_of(Command::new("dpkg-deb").arg("-f").arg(deb))
}

/// One field of control data.
pub fn field(control: &str, name: &str) -> Option<String> {
    control.lines().find_map(|line| {
        line.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(": "))
            .map(str::to_string)
    })
}

/// The package's record in the status database, as dpkg writes it after installing it.
fn status_paragraph(deb: &Path) -> String {
    let mut paragraph = String::new();
    for line in control(deb).lines() {
        paragraph.push_str(line);
        paragraph.push('\n');
        if line.starts_with("Package: ") {
            paragraph.push_str("Status: install ok installed\n");
        }
    }
    paragraph
}

/// `/var/lib/dpkg/info/<name>.list`: every path the package installed, `/.` first.
fn file_list(deb: &Path) -> String {
    let listing = output_of(
        Command::new("sh")
            .arg("-c")
            .arg("dpkg-deb --fsys-tarfile \"$0\" | tar -t")
            .arg(deb),
    );
    listing
        .lines()
        .map(
            |line| match line.trim_start_matches('.').trim_end_matches('/') {
                "" => "/.\n".to_string(),
                path => format!("{path}\n"),
            },
        )
        .collect()
}

/// A layer as `apt-get install` leaves it: the packages' files, the whole new status database
/// (`installed`, in order) and the packages' file lists. `purged` lose their list (a whiteout).
pub fn apt_layer(
    install: &[&PathBuf],
    installed: &[&PathBuf],
    purged: &[&str],
    step: &str,
) -> Layer {
    let root = tempfile::tempdir().unwrap();
    for deb in install {
        output_of(Command::new("dpkg-deb").arg("-x").arg(deb).arg(root.path()));
    }
    let info = root.path().join("var/lib/dpkg/info");
    std::fs::create_dir_all(&info).unwrap();
    for deb in install {
        let name = field(&control(deb), "Package").unwrap();
        std::fs::write(info.join(format!("{name}.list")), file_list(deb)).unwrap();
    }
    let status: Vec<String> = installed.iter().map(|deb| status_paragraph(deb)).collect();
    std::fs::write(root.path().join("var/lib/dpkg/status"), status.join("\n")).unwrap();
    for name in purged {
        std::fs::write(info.join(format!(".wh.{name}.list")), b"").unwrap();
    }
    let tar = Command::new("tar")
        .arg("-C")
        .arg(root.path())
        .args(["-cf", "-", "."])
        .output()
        .unwrap();
    assert!(tar.status.success());
    Layer::new(tar.stdout, Compression::Gzip, step)
}

/// The `.deb` in `dir` of Debian package `package`.
pub fn deb(dir: &Path, package: &str) -> PathBuf {
    let prefix = format!("{package}_");
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
                && p.extension().is_some_and(|e| e == "deb")
        })
        .unwrap_or_else(|| panic!("no {package} .deb in {}", dir.display()))
}

/// The upstream version of a `.deb` file (`name_1:3.12.0-2+deb12u1_all.deb` → `3.12.0`).
pub fn upstream_version(deb: &Path) -> String {
    let name = deb.file_name().unwrap().to_string_lossy().into_owned();
    let version = name.split('_').nth(1).unwrap().replace("%3a", ":");
    let version = version.split_once(':').map_or(version.as_str(), |(_, v)| v);
    version
        .rsplit_once('-')
        .map_or(version, |(v, _)| v)
        .to_string()
}
