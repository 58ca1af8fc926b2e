//! The rpm cataloger in a scanned image, on real databases: an `rpmdb.sqlite` written by rpm
//! itself for packages built by `rpmbuild` (one of which installed a Python distribution, which
//! must name it as its owner), and a CentOS 8 Berkeley DB `Packages` (go-rpmdb's test data,
//! which `scripts/with-test-deps` unpacks into `$STOWAWAY_RPMDB_TESTDATA`) against `rpm -qa`.
//!
//! The databases come from `stowaway-rpmdb`'s test helpers; without the rpm tools or the test
//! data a test prints that it is skipped.

#[path = "../../rpmdb/tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use stowaway_findings::{ImageReport, Package, PackageType, SourcePackage};
use stowaway_image::Platform;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_oci};
use stowaway_scan::analyzers::default_analyzers;
use stowaway_scan::{Analyzer, Input, Limits, NoProgress, ScanOptions};

fn analyzers() -> Vec<Box<dyn Analyzer>> {
    let mut analyzers = default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    analyzers
}

fn scan(layer: LayerBuilder) -> ImageReport {
    let image = Image::new(
        &["rpm:test"],
        vec![Layer::new(layer.build(), Compression::Gzip, "rpm install")],
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    std::fs::write(&archive, docker_save_oci(&[image]).to_tar()).unwrap();
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    stowaway_scan::scan(&Input::Path(archive), &analyzers(), &options)
        .unwrap()
        .remove(0)
}

/// (name, version, arch, source, licenses, purl) of a package.
type Summary<'a> = (
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a SourcePackage>,
    &'a [String],
    &'a str,
);

fn rpms(report: &ImageReport) -> Vec<&Package> {
    let mut rpms: Vec<&Package> = report
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Rpm)
        .collect();
    rpms.sort_by(|a, b| a.name.cmp(&b.name));
    rpms
}

#[test]
fn sqlite_database_written_by_rpm_in_an_image() {
    if !common::have(
        "sqlite_database_written_by_rpm_in_an_image",
        &["rpmbuild", "rpm"],
    ) {
        return;
    }
    let installed = common::build_and_install();
    let db = std::fs::read(installed.sqlite()).unwrap();
    let mut layer = LayerBuilder::new();
    layer
        .file("etc/os-release", b"ID=\"rhel\"\nVERSION_ID=\"9.4\"\n")
        .file("var/lib/rpm/rpmdb.sqlite", &db)
        .file(
            "usr/lib/python3.11/site-packages/stowaway_hello-1.2.3.dist-info/METADATA",
            b"Metadata-Version: 2.1\nName: stowaway-hello\nVersion: 1.2.3\n",
        );
    let report = scan(layer);

    let arch = common::machine_arch();
    let summary: Vec<Summary> = rpms(&report)
        .into_iter()
        .map(|p| {
            (
                p.name.as_str(),
                p.version.as_str(),
                p.arch.as_deref(),
                p.source.as_ref(),
                p.licenses.as_slice(),
                p.purl.as_str(),
            )
        })
        .collect();
    let source = |name: &str| SourcePackage {
        name: name.into(),
        version: None,
    };
    let (hello_src, tool_src) = (
        source("stowaway-hello-1.2.3-4.test.src.rpm"),
        source("stowaway-tool-0.9-1.src.rpm"),
    );
    let tool_purl = format!(
        "pkg:rpm/rhel/stowaway-tool@0.9-1?arch={arch}&distro=rhel-9.4&upstream=stowaway-tool-0.9-1.src.rpm"
    );
    assert_eq!(
        summary,
        [
            (
                "stowaway-hello",
                "3:1.2.3-4.test",
                Some("noarch"),
                Some(&hello_src),
                &["MIT AND (Apache-2.0 OR BSD-3-Clause)".to_string()][..],
                "pkg:rpm/rhel/stowaway-hello@1.2.3-4.test?arch=noarch&distro=rhel-9.4&epoch=3&upstream=stowaway-hello-1.2.3-4.test.src.rpm",
            ),
            (
                "stowaway-tool",
                "0.9-1",
                Some(arch),
                Some(&tool_src),
                &["GPL-2.0-or-later".to_string()][..],
                tool_purl.as_str(),
            ),
            (
                "stowaway-tool-data",
                "0.9-1",
                Some("noarch"),
                Some(&tool_src),
                &["CC0-1.0".to_string()][..],
                "pkg:rpm/rhel/stowaway-tool-data@0.9-1?arch=noarch&distro=rhel-9.4&upstream=stowaway-tool-0.9-1.src.rpm",
            ),
        ]
    );
    for package in rpms(&report) {
        let location = package.location.as_ref().unwrap();
        assert_eq!(
            (
                location.path.as_str(),
                location.layer,
                location.status.is_present()
            ),
            ("var/lib/rpm/rpmdb.sqlite", 0, true)
        );
    }
    // The rpm that installed the Python distribution's METADATA is its owner.
    let python = report
        .packages
        .iter()
        .find(|p| p.package_type == PackageType::Python)
        .unwrap();
    assert_eq!(python.name, "stowaway-hello");
    let hello = rpms(&report)[0];
    assert_eq!(python.owner.as_ref(), Some(&hello.purl));
}

#[test]
fn centos8_berkeley_db_in_an_image() {
    if !common::have("centos8_berkeley_db_in_an_image", &["rpm"]) {
        return;
    }
    let testdata = std::env::var_os("STOWAWAY_RPMDB_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from("/usr/share/gocode/src/github.com/knqyf263/go-rpmdb/pkg/testdata")
        });
    let dbpath = testdata.join("centos8-modularitylabel");
    let Ok(db) = std::fs::read(dbpath.join("Packages")) else {
        eprintln!(
            "SKIPPED centos8_berkeley_db_in_an_image: no {} (set STOWAWAY_RPMDB_TESTDATA; scripts/with-test-deps unpacks it)",
            dbpath.display()
        );
        return;
    };
    let mut layer = LayerBuilder::new();
    layer
        .file("etc/os-release", b"ID=\"centos\"\nVERSION_ID=\"8\"\n")
        .file("usr/lib/sysimage/rpm/Packages", &db);
    let report = scan(layer);
    let ours: Vec<(String, String, Option<String>)> = rpms(&report)
        .into_iter()
        .map(|p| (p.name.clone(), p.version.clone(), p.arch.clone()))
        .collect();
    let mut theirs: Vec<(String, String, Option<String>)> =
        common::rpm_query_all(&dbpath, "bdb_ro")
            .into_iter()
            .filter(|q| q.name != "gpg-pubkey")
            .map(|q| {
                let version = match q.epoch.as_str() {
                    "(none)" => format!("{}-{}", q.version, q.release),
                    epoch => format!("{epoch}:{}-{}", q.version, q.release),
                };
                (q.name, version, Some(q.arch))
            })
            .collect();
    theirs.sort();
    let mut ours_sorted = ours.clone();
    ours_sorted.sort();
    assert_eq!(ours_sorted, theirs);
    assert_eq!(
        ours.len(),
        517,
        "CentOS 8 image: 518 headers, one of them a gpg-pubkey"
    );
    let cups = rpms(&report)
        .into_iter()
        .find(|p| p.name == "cups-libs")
        .unwrap();
    assert_eq!(
        cups.purl,
        "pkg:rpm/centos/cups-libs@2.2.6-33.el8?arch=x86_64&distro=centos-8&epoch=1&upstream=cups-2.2.6-33.el8.src.rpm"
    );
}
