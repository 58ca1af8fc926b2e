//! Helpers shared by the scanner's integration tests: scan bytes or paths with fixed options,
//! and the fixture image most tests start from.

#![allow(dead_code)] // each test binary uses a different subset

use std::path::Path;

use stowaway_findings::{EntryType, FileStatus, ImageReport};
use stowaway_image::Platform;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, gzip, zip_of};
use stowaway_scan::analyzers::default_analyzers;
use stowaway_scan::{Input, Limits, NoProgress, ScanError, ScanOptions};

pub const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00";

pub fn options() -> ScanOptions<'static> {
    ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    }
}

pub fn scan_input(input: &Input, options: &ScanOptions) -> Result<Vec<ImageReport>, ScanError> {
    stowaway_scan::scan(input, &default_analyzers(), options)
}

pub fn scan_path(path: &Path) -> Result<Vec<ImageReport>, ScanError> {
    scan_input(&Input::Path(path.to_path_buf()), &options())
}

/// Writes `bytes` to a temp file and scans it with `options`.
pub fn scan_bytes_with(bytes: &[u8], options: &ScanOptions) -> Result<Vec<ImageReport>, ScanError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, bytes).unwrap();
    scan_input(&Input::Path(path), options)
}

pub fn scan_bytes(bytes: &[u8]) -> Result<Vec<ImageReport>, ScanError> {
    scan_bytes_with(bytes, &options())
}

pub fn only(reports: Vec<ImageReport>) -> ImageReport {
    assert_eq!(reports.len(), 1, "expected one image");
    reports.into_iter().next().unwrap()
}

/// `(layer, path, type, status)` of every inventory entry, in report order.
pub fn inventory(report: &ImageReport) -> Vec<(usize, String, EntryType, FileStatus)> {
    report
        .inventory
        .iter()
        .map(|e| (e.layer, e.path.clone(), e.entry_type, e.status))
        .collect()
}

/// Where a finding is: `(layer, path, member, status)`.
pub type Place = (usize, String, Option<String>, FileStatus);

/// `(id, place)` of every finding.
pub fn findings(report: &ImageReport) -> Vec<(String, Option<Place>)> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.id.clone(),
                f.location
                    .as_ref()
                    .map(|l| (l.layer, l.path.clone(), l.member.clone(), l.status)),
            )
        })
        .collect()
}

/// Three layers exercising overlay semantics, links, devices, modes and nested archives.
pub fn fixture_layers(compression: Compression) -> Vec<Layer> {
    let mut base = LayerBuilder::new();
    base.dir("etc")
        .file(
            "etc/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        )
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")
        .dir("bin")
        .file_mode("bin/ls", ELF, 0o755)
        .hardlink("bin/dir", "bin/ls")
        .symlink("bin/sh", "dash")
        .file_mode("usr/bin/su", b"su", 0o4755)
        .char_device("dev/null", 1, 3)
        .dir("app")
        .file("app/old.txt", b"old")
        .file("app/keep/inner.txt", b"inner")
        .file_mode("tmp/dropper", ELF, 0o755);
    let mut second = LayerBuilder::new();
    second
        .whiteout("tmp/dropper")
        .opaque("app")
        .file("app/new.txt", b"new")
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
        .file(
            "opt/lib/app.jar",
            &zip_of(&[
                ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
                ("a/B.class", b"\xca\xfe\xba\xbe"),
            ]),
        );
    let mut bundle = LayerBuilder::new();
    bundle.file("bin/tool", ELF).file("README", b"read me");
    let mut third = LayerBuilder::new();
    third
        .file("./srv/bundle.tar.gz", &gzip(&bundle.build()))
        .file_mode("./root/.cache/kworker", ELF, 0o700);
    vec![
        Layer::new(base.build(), compression, "ADD rootfs.tar /"),
        Layer::new(
            second.build(),
            compression,
            "RUN rm /tmp/dropper && install app",
        ),
        Layer::new(third.build(), compression, "COPY . /"),
    ]
}

pub fn fixture_image(compression: Compression) -> Image {
    Image::new(&["example/fixture:1.0"], fixture_layers(compression))
}
