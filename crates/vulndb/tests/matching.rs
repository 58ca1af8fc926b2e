//! Matching on real advisories: an image the test builds with pinned old Python distributions,
//! and old Go modules and Rust crates, matched against the shared OSV data (`../shared/osv`),
//! must give exactly the set a straightforward reference evaluation of the same records gives
//! (`fixtures/reference.py`, with Python's `packaging` for PEP 440). Hand-written Debian and
//! Alpine records, from published advisories, show source-package matching, backported fixes,
//! unfixed advisories and Debian's `unimportant` rating.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::shared;
use stowaway_findings::{
    FileStatus, Kind, Location, OsInfo, Package, PackageType, Severity, SourcePackage,
};
use stowaway_image::Platform;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_oci};
use stowaway_scan::{Analyzer, Input, Limits, NoProgress, ScanOptions};
use stowaway_vulndb::{Database, MatchOptions, match_packages};

/// (name, version, advisory id).
type Matches = BTreeSet<(String, String, String)>;

/// What the reference evaluation says for `packages`.
fn reference(
    ordering: &str,
    ecosystem: &str,
    zip: &Path,
    packages: &[(String, String)],
) -> Matches {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reference.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args([ordering, ecosystem])
        .arg(zip)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(packages).unwrap())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "reference.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice::<Vec<(String, String, String)>>(&output.stdout)
        .unwrap()
        .into_iter()
        .collect()
}

fn database(sources: &[PathBuf]) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap();
    let mut db = Database::open_for_import(dir.path()).unwrap();
    let summary = db.import(sources, "2026-12-04T00:00:00Z").unwrap();
    assert!(summary.invalid.is_empty(), "{:?}", summary.invalid);
    drop(db);
    let db = Database::open(dir.path()).unwrap();
    (dir, db)
}

fn matches(findings: &[stowaway_findings::Finding]) -> Matches {
    findings
        .iter()
        .map(|f| {
            let v = f.vulnerability.as_ref().unwrap();
            (v.package.clone(), v.installed_version.clone(), f.id.clone())
        })
        .collect()
}

const PINNED: &[(&str, &str)] = &[
    ("requests", "2.19.0"),
    ("urllib3", "1.24.1"),
    ("PyYAML", "5.3"),
    ("Jinja2", "2.10"),
    ("Django", "3.2.0"),
    ("certifi", "2023.11.17"),
];

#[test]
fn old_python_distributions_in_an_image_match_as_the_reference_says() {
    let Some(pypi) = shared("PyPI") else { return };
    let mut layer = LayerBuilder::new();
    layer.file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
    for (name, version) in PINNED {
        layer.file(
            &format!("usr/local/lib/python3.11/site-packages/{name}-{version}.dist-info/METADATA"),
            format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n").as_bytes(),
        );
    }
    let image = Image::new(
        &["old-python:1"],
        vec![Layer::new(
            layer.build(),
            Compression::Gzip,
            "RUN pip install -r requirements.txt",
        )],
    );
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("image.tar");
    std::fs::write(&archive, docker_save_oci(&[image]).to_tar()).unwrap();
    let mut analyzers: Vec<Box<dyn Analyzer>> = stowaway_scan::analyzers::default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
    };
    let report = stowaway_scan::scan(&Input::Path(archive), &analyzers, &options)
        .unwrap()
        .remove(0);
    assert_eq!(report.packages.len(), PINNED.len());

    let (_dir, db) = database(std::slice::from_ref(&pypi));
    let findings = match_packages(
        &db,
        &report.packages,
        report.os.as_ref(),
        MatchOptions::default(),
    )
    .unwrap();
    let pinned: Vec<(String, String)> = PINNED
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let expected = reference("pep440", "PyPI", &pypi, &pinned);
    assert!(expected.len() > 20, "{expected:?}");
    assert_eq!(matches(&findings), expected);

    // A known one, in full: requests 2.19.0 and CVE-2018-18074, fixed in 2.20.0.
    let finding = findings
        .iter()
        .find(|f| {
            f.vulnerability.as_ref().unwrap().package == "requests"
                && f.vulnerability
                    .as_ref()
                    .unwrap()
                    .aliases
                    .iter()
                    .any(|a| a == "CVE-2018-18074")
        })
        .unwrap();
    assert_eq!(finding.kind, Kind::Vuln);
    let details = finding.vulnerability.as_ref().unwrap();
    assert_eq!(details.fixed_versions, ["2.20.0"]);
    assert_eq!(details.ecosystem, "PyPI");
    let location = finding.location.as_ref().unwrap();
    assert_eq!(
        location.created_by.as_deref(),
        Some("RUN pip install -r requirements.txt")
    );
    assert!(
        location
            .path
            .starts_with("usr/local/lib/python3.11/site-packages/requests-2.19.0.dist-info")
    );
    assert!(
        finding
            .evidence
            .as_ref()
            .unwrap()
            .contains("fixed in 2.20.0")
    );
}

fn package(package_type: PackageType, name: &str, version: &str) -> Package {
    let mut package = Package::new(package_type, name, version);
    package.location = Some(Location {
        layer: 0,
        layer_digest: None,
        path: "usr/local/bin/app".into(),
        member: None,
        status: FileStatus::Present,
        created_by: None,
    });
    package
}

#[test]
fn old_go_modules_and_rust_crates_match_as_the_reference_says() {
    let (Some(go), Some(rust)) = (shared("Go"), shared("Rust")) else {
        return;
    };
    let (_dir, db) = database(&[go.clone(), rust.clone()]);
    for (ordering_ecosystem, zip, package_type, pinned) in [
        (
            "Go",
            &go,
            PackageType::Go,
            &[
                ("golang.org/x/net", "v0.7.0"),
                ("golang.org/x/crypto", "v0.0.0-20200622213623-75b288015ac9"),
                ("github.com/gin-gonic/gin", "v1.6.0"),
                ("stdlib", "go1.19.8"),
            ][..],
        ),
        (
            "crates.io",
            &rust,
            PackageType::Rust,
            &[
                ("smallvec", "0.6.9"),
                ("tokio", "1.8.0"),
                ("hyper", "0.14.4"),
                ("time", "0.1.43"),
            ][..],
        ),
    ] {
        let packages: Vec<Package> = pinned
            .iter()
            .map(|(name, version)| package(package_type, name, version))
            .collect();
        let findings = match_packages(&db, &packages, None, MatchOptions::default()).unwrap();
        // The reference is given versions as OSV writes them: no `v`, no `go`.
        let plain: Vec<(String, String)> = pinned
            .iter()
            .map(|(n, v)| {
                (
                    n.to_string(),
                    v.trim_start_matches("go")
                        .trim_start_matches('v')
                        .to_string(),
                )
            })
            .collect();
        let expected: Matches = reference("semver", ordering_ecosystem, zip, &plain)
            .into_iter()
            .map(|(name, version, id)| {
                let installed = pinned.iter().find(|(n, _)| *n == name).unwrap().1;
                let _ = version;
                (name, installed.to_string(), id)
            })
            .collect();
        assert!(expected.len() > 5, "{ordering_ecosystem}: {expected:?}");
        assert_eq!(matches(&findings), expected, "{ordering_ecosystem}");
    }
}

/// Hand-written records from published advisories.
const DEBIAN_AND_ALPINE: &[(&str, &str)] = &[
    // Debian's tracker: CVE-2023-4911 ("Looney Tunables"), glibc, fixed in bookworm by
    // 2.36-9+deb12u3 (DSA-5514-1).
    (
        "DEBIAN-CVE-2023-4911.json",
        r#"{"id": "DEBIAN-CVE-2023-4911", "modified": "2023-10-03T18:15:00Z", "aliases": ["CVE-2023-4911"],
            "summary": "buffer overflow in ld.so's GLIBC_TUNABLES handling",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u3"}]}]},
                         {"package": {"ecosystem": "Debian:11", "name": "glibc"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.31-13+deb11u7"}]}]}]}"#,
    ),
    // Debian's tracker: CVE-2023-31484 (perl's CPAN.pm does not verify TLS certificates): no
    // fix in bookworm ("no-dsa", minor issue).
    (
        "DEBIAN-CVE-2023-31484.json",
        r#"{"id": "DEBIAN-CVE-2023-31484", "modified": "2023-05-01T00:00:00Z", "aliases": ["CVE-2023-31484"],
            "summary": "CPAN.pm does not verify TLS certificates when downloading distributions over HTTPS",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:N"}],
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "perl"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]}"#,
    ),
    // Debian's tracker rates CVE-2005-2541 (tar extracts setuid files as given) unimportant.
    (
        "DEBIAN-CVE-2005-2541.json",
        r#"{"id": "DEBIAN-CVE-2005-2541", "modified": "2023-01-01T00:00:00Z", "aliases": ["CVE-2005-2541"],
            "summary": "tar does not warn about setuid files it extracts",
            "affected": [{"package": {"ecosystem": "Debian:12", "name": "tar"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
                          "ecosystem_specific": {"urgency": "unimportant"}}]}"#,
    ),
    // Alpine's secdb (v3.18 main): openssl 3.1.4-r0 fixes CVE-2023-5363.
    (
        "ALPINE-CVE-2023-5363.json",
        r#"{"id": "ALPINE-CVE-2023-5363", "modified": "2023-10-25T00:00:00Z", "aliases": ["CVE-2023-5363"],
            "summary": "incorrect cipher key and IV length processing",
            "affected": [{"package": {"ecosystem": "Alpine:v3.18", "name": "openssl"},
                          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.1.4-r0"}]}]}]}"#,
    ),
];

fn os(id: &str, version: &str) -> OsInfo {
    OsInfo {
        id: id.into(),
        version_id: Some(version.into()),
        pretty_name: None,
        source: "etc/os-release".into(),
    }
}

fn os_package(package_type: PackageType, name: &str, version: &str, source: &str) -> Package {
    let mut package = package(package_type, name, version);
    package.source = Some(SourcePackage {
        name: source.into(),
        version: None,
    });
    package
}

#[test]
fn distributions_match_by_source_package_and_honour_backports() {
    let records = tempfile::tempdir().unwrap();
    for (name, json) in DEBIAN_AND_ALPINE {
        std::fs::write(records.path().join(name), json).unwrap();
    }
    let (_dir, db) = database(&[records.path().to_path_buf()]);
    let debian = [
        // Matched through its source package, glibc; the upstream version (2.36) says nothing.
        os_package(PackageType::Deb, "libc6", "2.36-9+deb12u1", "glibc"),
        // The backported fix: the same upstream version, not affected.
        os_package(PackageType::Deb, "libc-bin", "2.36-9+deb12u3", "glibc"),
        os_package(PackageType::Deb, "perl-base", "5.36.0-7+deb12u1", "perl"),
        os_package(PackageType::Deb, "tar", "1.34+dfsg-1.2+deb12u1", "tar"),
    ];
    let findings = match_packages(
        &db,
        &debian,
        Some(&os("debian", "12")),
        MatchOptions::default(),
    )
    .unwrap();
    let found: Vec<(&str, &str, Severity, Vec<String>)> = findings
        .iter()
        .map(|f| {
            let v = f.vulnerability.as_ref().unwrap();
            (
                f.id.as_str(),
                v.package.as_str(),
                f.severity,
                v.fixed_versions.clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "DEBIAN-CVE-2023-4911",
                "libc6",
                Severity::High,
                vec!["2.36-9+deb12u3".to_string()]
            ),
            ("DEBIAN-CVE-2023-31484", "perl-base", Severity::High, vec![]),
        ]
    );
    let glibc = findings[0].vulnerability.as_ref().unwrap();
    assert_eq!(
        (glibc.matched_name.as_str(), glibc.ecosystem.as_str()),
        ("glibc", "Debian:12")
    );
    assert_eq!(
        glibc.severity_source,
        "7.8 CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"
    );
    assert!(
        findings[1]
            .evidence
            .as_ref()
            .unwrap()
            .ends_with("no fix available")
    );

    // `unimportant` shows with `all`; another release's advisories never apply.
    let all = match_packages(
        &db,
        &debian,
        Some(&os("debian", "12")),
        MatchOptions {
            all: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(all.iter().any(|f| f.id == "DEBIAN-CVE-2005-2541"));
    let bullseye = match_packages(
        &db,
        &debian[..1],
        Some(&os("debian", "11")),
        MatchOptions::default(),
    )
    .unwrap();
    assert!(
        bullseye.is_empty(),
        "on Debian 11 only the Debian:11 entry applies, and 2.36-9+deb12u1 is past its fix"
    );

    let alpine = [
        os_package(PackageType::Apk, "libssl3", "3.1.3-r0", "openssl"),
        os_package(PackageType::Apk, "libcrypto3", "3.1.4-r0", "openssl"),
    ];
    let findings = match_packages(
        &db,
        &alpine,
        Some(&os("alpine", "3.18.4")),
        MatchOptions::default(),
    )
    .unwrap();
    let found: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f.id.as_str(),
                f.vulnerability.as_ref().unwrap().package.as_str(),
            )
        })
        .collect();
    assert_eq!(found, [("ALPINE-CVE-2023-5363", "libssl3")]);
    // Without a known distribution, OS packages are not matched at all.
    assert!(
        match_packages(&db, &alpine, None, MatchOptions::default())
            .unwrap()
            .is_empty()
    );
}
