//! The dpkg cataloger on real databases: this machine's own `/var/lib/dpkg/status` against
//! `dpkg-query` (the oracle), and an image built from real `.deb`s the way apt builds one — each
//! layer unpacks packages and rewrites the status database and the `info/*.list` files — where a
//! later layer purges a package; and a Python package a `.deb` installed knows its owner.
//!
//! The image test needs `STOWAWAY_DEBIAN_IMAGE_DEBS`, a directory of `.deb` files that
//! `scripts/with-test-deps` fills; without it the test says it is skipped.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use common::*;
use stowaway_findings::{FileStatus, ImageReport, PackageType};
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder};

fn scan(images: &[Image]) -> ImageReport {
    scan_images(images, &all_catalogers())
}

/// (name, version, architecture, source name, source version) as dpkg-query or dpkg-deb say.
type Record = (String, String, String, String, String);

fn ours(report: &ImageReport, present: bool) -> BTreeSet<Record> {
    report
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Deb)
        .filter(|p| p.location.as_ref().unwrap().status.is_present() == present)
        .map(|p| {
            let source = p.source.as_ref();
            (
                p.name.clone(),
                p.version.clone(),
                p.arch.clone().unwrap_or_default(),
                source.map_or(p.name.clone(), |s| s.name.clone()),
                source
                    .and_then(|s| s.version.clone())
                    .unwrap_or(p.version.clone()),
            )
        })
        .collect()
}

#[test]
fn this_machines_status_database_matches_dpkg_query() {
    let status = std::fs::read("/var/lib/dpkg/status").unwrap();
    let query = output_of(Command::new("dpkg-query").args([
        "-W",
        "-f",
        "${db:Status-Status}\t${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n",
    ]));
    let expected: BTreeSet<Record> = query
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            (f[0] == "installed").then(|| {
                (
                    f[1].into(),
                    f[2].into(),
                    f[3].into(),
                    f[4].into(),
                    f[5].into(),
                )
            })
        })
        .collect();
    assert!(expected.len() > 100, "{} packages", expected.len());

    let mut layer = LayerBuilder::new();
    layer
        .file("var/lib/dpkg/status", &status)
        .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
    let report = scan(&[Image::new(
        &["host:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "COPY / /")],
    )]);
    assert_eq!(ours(&report, true), expected);
    let libc = report.packages.iter().find(|p| p.name == "libc6").unwrap();
    assert!(
        libc.purl.starts_with("pkg:deb/debian/libc6@") && libc.purl.contains("distro=debian-12"),
        "{}",
        libc.purl
    );
}

fn debs() -> Option<Vec<PathBuf>> {
    let debs = stowaway_imagebuilder::debian::debs("STOWAWAY_DEBIAN_IMAGE_DEBS")?;
    assert!(
        debs.len() > 50,
        "STOWAWAY_DEBIAN_IMAGE_DEBS has too few packages"
    );
    Some(debs)
}

#[test]
fn an_image_built_from_real_debs_layer_by_layer() {
    let Some(debs) = debs() else { return };
    let name_of = |deb: &PathBuf| field(&control(deb), "Package").unwrap();
    let names: Vec<String> = debs.iter().map(name_of).collect();
    let by_name = |name: &str| &debs[names.iter().position(|n| n == name).unwrap()];
    // Layer 0: everything but curl and its libraries; layer 1: curl; layer 2: purge `hostname`.
    let late = ["curl", "libcurl4"];
    let base: Vec<&PathBuf> = debs
        .iter()
        .zip(&names)
        .filter(|(_, n)| !late.contains(&n.as_str()))
        .map(|(d, _)| d)
        .collect();
    let everything: Vec<&PathBuf> = debs.iter().collect();
    let late_debs: Vec<&PathBuf> = late.iter().map(|n| by_name(n)).collect();
    let after_purge: Vec<&PathBuf> = debs
        .iter()
        .zip(&names)
        .filter(|(_, n)| n.as_str() != "hostname")
        .map(|(d, _)| d)
        .collect();
    let layers = vec![
        apt_layer(
            &base,
            &base,
            &[],
            "RUN apt-get install -y coreutils python3 perl gcc",
        ),
        apt_layer(&late_debs, &everything, &[], "RUN apt-get install -y curl"),
        apt_layer(
            &[],
            &after_purge,
            &["hostname"],
            "RUN dpkg --purge hostname",
        ),
    ];
    let report = scan(&[Image::new(&["debian-sbom:1"], layers)]);

    let record = |deb: &PathBuf| -> Record {
        let control = control(deb);
        let name = field(&control, "Package").unwrap();
        let version = field(&control, "Version").unwrap();
        let (source, source_version) = match field(&control, "Source") {
            Some(source) => match source.split_once(" (") {
                Some((s, v)) => (s.to_string(), v.trim_end_matches(')').to_string()),
                None => (source, version.clone()),
            },
            None => (name.clone(), version.clone()),
        };
        let arch = field(&control, "Architecture").unwrap();
        (name, version, arch, source, source_version)
    };
    let expected: BTreeSet<Record> = after_purge.iter().map(|d| record(d)).collect();
    assert_eq!(ours(&report, true), expected);
    let removed: BTreeSet<Record> = [record(by_name("hostname"))].into();
    assert_eq!(ours(&report, false), removed);

    for package in report
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Deb)
    {
        let location = package.location.as_ref().unwrap();
        assert_eq!(location.path, "var/lib/dpkg/status");
        let (layer, status) = match package.name.as_str() {
            "curl" | "libcurl4" => (1, FileStatus::Present),
            "hostname" => (0, FileStatus::Removed { layer: 2 }),
            _ => (0, FileStatus::Present),
        };
        assert_eq!(
            (location.layer, location.status),
            (layer, status),
            "{}",
            package.name
        );
        let step = if layer == 1 { "curl" } else { "coreutils" };
        assert!(location.created_by.as_ref().unwrap().contains(step));
        assert!(
            package.purl.contains("distro=debian-12"),
            "{}",
            package.purl
        );
    }
    assert_eq!(report.os.as_ref().unwrap().id, "debian");

    // Licenses from the packages' copyright files: DEP-5 `License:` fields, or the
    // common-licenses files a free-form one points at.
    let licenses = |name: &str| {
        report
            .packages
            .iter()
            .find(|p| p.name == name)
            .unwrap()
            .licenses
            .clone()
    };
    assert!(
        licenses("coreutils").contains(&"GPL-3+".to_string()),
        "{:?}",
        licenses("coreutils")
    );
    assert!(
        licenses("libc6").contains(&"LGPL-2.1".to_string()),
        "{:?}",
        licenses("libc6")
    );

    // python3-six installed the `six` distribution: the Python package knows its owner.
    let deb = report
        .packages
        .iter()
        .find(|p| p.name == "python3-six")
        .unwrap();
    let six = report
        .packages
        .iter()
        .find(|p| p.package_type == PackageType::Python && p.name == "six")
        .unwrap();
    assert!(
        six.location
            .as_ref()
            .unwrap()
            .path
            .starts_with("usr/lib/python3/dist-packages/six-")
    );
    assert_eq!(six.owner.as_ref(), Some(&deb.purl));
}
