//! Every input layout the wild produces gives the same, exact inventory and findings: classic
//! `docker save`, Docker 25+ `docker save`, OCI layout as tar and as directory, a compressed
//! archive read as a stream; with plain, gzip and zstd layers.

mod common;

use common::*;
use stowaway_findings::{EntryType, FileStatus, ImageReport, Integrity};
use stowaway_imagebuilder::{Compression, docker_save_classic, docker_save_oci, gzip, oci_layout};

use EntryType::*;
use FileStatus::*;

fn assert_fixture(report: &ImageReport) {
    let expected = vec![
        (0, "etc".to_string(), Dir, Present),
        (0, "etc/os-release".into(), File, Present),
        (0, "etc/passwd".into(), File, Replaced { layer: 1 }),
        (0, "bin".into(), Dir, Present),
        (0, "bin/ls".into(), File, Present),
        (0, "bin/dir".into(), Hardlink, Present),
        (0, "bin/sh".into(), Symlink, Present),
        (0, "usr/bin/su".into(), File, Present),
        (0, "dev/null".into(), Char, Present),
        (0, "app".into(), Dir, Present),
        (0, "app/old.txt".into(), File, Removed { layer: 1 }),
        (0, "app/keep/inner.txt".into(), File, Removed { layer: 1 }),
        (0, "tmp/dropper".into(), File, Removed { layer: 1 }),
        (1, "app/new.txt".into(), File, Present),
        (1, "etc/passwd".into(), File, Present),
        (1, "opt/lib/app.jar".into(), File, Present),
        (2, "srv/bundle.tar.gz".into(), File, Present),
        (2, "root/.cache/kworker".into(), File, Present),
    ];
    assert_eq!(inventory(report), expected);

    let entry = |path: &str| report.inventory.iter().find(|e| e.path == path).unwrap();
    assert_eq!(entry("usr/bin/su").mode, 0o4755);
    assert_eq!(entry("bin/sh").link.as_deref(), Some("dash"));
    assert_eq!(entry("bin/dir").link.as_deref(), Some("bin/ls"));
    assert_eq!(
        entry("bin/dir").sha256,
        entry("bin/ls").sha256,
        "a hard link has its target's content"
    );
    assert_eq!(
        entry("etc/os-release")
            .sha256
            .map(|d| d.to_string())
            .as_deref(),
        Some(
            stowaway_imagebuilder::sha256(
                b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
            )
            .as_str()
        )
    );

    let members: Vec<(&str, &str)> = report
        .archive_members
        .iter()
        .map(|m| (m.path.as_str(), m.member.as_str()))
        .collect();
    assert_eq!(
        members,
        vec![
            ("opt/lib/app.jar", "META-INF/MANIFEST.MF"),
            ("opt/lib/app.jar", "a/B.class"),
            ("srv/bundle.tar.gz", "bin/tool"),
            ("srv/bundle.tar.gz", "README"),
        ]
    );

    assert_eq!(
        findings(report),
        vec![
            (
                "STW-EXEC-UNUSUAL-PLACE".to_string(),
                Some((0, "tmp/dropper".to_string(), None, Removed { layer: 1 }))
            ),
            (
                "STW-EXEC-UNUSUAL-PLACE".to_string(),
                Some((2, "root/.cache/kworker".to_string(), None, Present))
            ),
        ]
    );
    let finding = &report.findings[0];
    assert_eq!(
        finding.location.as_ref().unwrap().created_by.as_deref(),
        Some("ADD rootfs.tar /")
    );
    assert_eq!(
        finding.location.as_ref().unwrap().layer_digest,
        report.layers[0].diff_id
    );

    let os = report.os.as_ref().unwrap();
    assert_eq!(
        (os.id.as_str(), os.version_id.as_deref()),
        ("debian", Some("12"))
    );
    assert_eq!(report.layers.len(), 3);
    assert!(
        report
            .layers
            .iter()
            .all(|l| l.integrity == Integrity::Verified)
    );
    assert!(report.not_scanned.is_empty(), "{:?}", report.not_scanned);
    assert_eq!(report.counts.medium, 2);
    let history: Vec<Option<usize>> = report.history.iter().map(|h| h.layer).collect();
    assert_eq!(history, vec![Some(0), Some(1), Some(2)]);
}

const COMPRESSIONS: [Compression; 3] = [Compression::None, Compression::Gzip, Compression::Zstd];

#[test]
fn classic_docker_save() {
    for compression in COMPRESSIONS {
        let archive = docker_save_classic(&[fixture_image(compression)]).to_tar();
        let report = only(scan_bytes(&archive).unwrap());
        assert_fixture(&report);
        assert_eq!(report.name, "example/fixture:1.0");
        assert!(report.manifest_digest.is_none());
    }
}

#[test]
fn docker_25_save() {
    for compression in COMPRESSIONS {
        let archive = docker_save_oci(&[fixture_image(compression)]).to_tar();
        let report = only(scan_bytes(&archive).unwrap());
        assert_fixture(&report);
        assert_eq!(
            report.layers[1].compression,
            format!("{compression:?}").to_lowercase()
        );
    }
}

#[test]
fn oci_layout_tar_and_directory() {
    for compression in COMPRESSIONS {
        let layout = oci_layout(&[fixture_image(compression)], false);
        let report = only(scan_bytes(&layout.to_tar()).unwrap());
        assert_fixture(&report);
        assert!(report.manifest_digest.is_some());
        assert_eq!(report.name, "example/fixture:1.0");

        let dir = tempfile::tempdir().unwrap();
        layout.write_dir(dir.path()).unwrap();
        let from_dir = only(scan_path(dir.path()).unwrap());
        assert_eq!(from_dir.findings, report.findings);
        assert_eq!(from_dir.inventory, report.inventory);
    }
}

#[test]
fn compressed_archive_is_read_as_a_stream() {
    for members in [
        docker_save_classic(&[fixture_image(Compression::Gzip)]),
        docker_save_oci(&[fixture_image(Compression::None)]),
        oci_layout(&[fixture_image(Compression::Zstd)], false),
    ] {
        let plain = only(scan_bytes(&members.to_tar()).unwrap());
        let streamed = only(scan_bytes(&gzip(&members.to_tar())).unwrap());
        assert_fixture(&streamed);
        assert_eq!(streamed, plain);
    }
}

#[test]
fn layer_compression_is_recognised_by_bytes_not_names() {
    let report = only(
        scan_bytes(&docker_save_classic(&[fixture_image(Compression::Zstd)]).to_tar()).unwrap(),
    );
    assert!(report.layers.iter().all(|l| l.compression == "zstd"));
    assert!(report.layers.iter().all(|l| l.blob_digest != l.diff_id));
}
