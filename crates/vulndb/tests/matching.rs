//! Matching on real advisories: an image the test builds with pinned old Python distributions,
//! an image holding a Go binary the test builds here (offline, from Debian's source of
//! golang.org/x/net 0.7.0), and old Go modules and Rust crates, matched against the shared OSV
//! data (`../shared/osv`), must give exactly the set a straightforward reference evaluation of
//! the same records gives (`fixtures/reference.py`, with Python's `packaging` for PEP 440).
//! Hand-written Debian and Alpine records, from published advisories, show source-package
//! matching, backported fixes, unfixed advisories and Debian's `unimportant` rating; a real
//! RUSTSEC record with only a CVSS v4 vector and a hand-written one with both, which version
//! rates a finding.
//!
//! The Go binary needs `go` and Debian's `golang-golang-x-net-dev` (`scripts/with-test-deps`
//! installs both); without them the test says it is skipped, or fails when
//! `STOWAWAY_SHARED_DIR` is set.

mod common;

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::{shared, skipped};
use stowaway_findings::{
    FileStatus, ImageReport, Kind, Location, OsInfo, Package, PackageType, Severity, SourcePackage,
};
use stowaway_image::Platform;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_oci, zip_of};
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

/// The report of a scan of `image`, with every analyzer and cataloger.
fn scanned(image: Image) -> ImageReport {
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
        cache: None,
    };
    stowaway_scan::scan(&Input::Path(archive), &analyzers, &options)
        .unwrap()
        .remove(0)
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
    let report = scanned(image);
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
        line: None,
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

/// Where Debian's `golang-golang-x-net-dev` installs golang.org/x/net's source.
const X_NET: &str = "/usr/share/gocode/src/golang.org/x/net";

/// A module in a `file://` GOPROXY: `@v/list`, `.info`, `.mod`, and the source `.zip` when given
/// its files (path in the module, content).
fn proxy_module(
    proxy: &Path,
    path: &str,
    version: &str,
    go_mod: &str,
    files: &[(String, Vec<u8>)],
) {
    let dir = proxy.join(path).join("@v");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("list"), format!("{version}\n")).unwrap();
    std::fs::write(
        dir.join(format!("{version}.info")),
        format!("{{\"Version\":\"{version}\"}}"),
    )
    .unwrap();
    std::fs::write(dir.join(format!("{version}.mod")), go_mod).unwrap();
    if !files.is_empty() {
        let names: Vec<String> = files
            .iter()
            .map(|(name, _)| format!("{path}@{version}/{name}"))
            .collect();
        let members: Vec<(&str, &[u8])> = names
            .iter()
            .zip(files)
            .map(|(name, (_, content))| (name.as_str(), content.as_slice()))
            .collect();
        std::fs::write(dir.join(format!("{version}.zip")), zip_of(&members)).unwrap();
    }
}

/// `go` and golang.org/x/net 0.7.0's source, or why the test cannot build its binary.
fn go_and_x_net() -> Result<(), String> {
    let go = Command::new("go").arg("version").output();
    if !go.is_ok_and(|output| output.status.success()) {
        return Err("`go` is not installed (scripts/with-test-deps installs golang-go)".into());
    }
    let package = Command::new("dpkg-query")
        .args(["-W", "-f", "${Version}", "golang-golang-x-net-dev"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned());
    match package {
        Some(version)
            if version.starts_with("1:0.7.0+") && Path::new(X_NET).join("html").is_dir() =>
        {
            Ok(())
        }
        found => Err(format!(
            "golang.org/x/net 0.7.0's source is not in {X_NET} (Debian's golang-golang-x-net-dev \
             1:0.7.0+dfsg-1 installs it; found {found:?}; scripts/with-test-deps installs it)"
        )),
    }
}

/// A program using golang.org/x/net/html, built offline against x/net 0.7.0 (Debian's source,
/// served from a `file://` module proxy); the binary and the toolchain's version (`go1.19.8` on
/// Debian 12).
fn build_with_old_x_net(dir: &Path) -> (Vec<u8>, String) {
    let proxy = dir.join("proxy");
    let go_mod = std::fs::read_to_string(Path::new(X_NET).join("go.mod")).unwrap();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(X_NET).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let name = entry
                .path()
                .strip_prefix(X_NET)
                .unwrap()
                .to_str()
                .unwrap()
                .to_string();
            files.push((name, std::fs::read(entry.path()).unwrap()));
        }
    }
    proxy_module(&proxy, "golang.org/x/net", "v0.7.0", &go_mod, &files);
    // What x/net requires (x/sys, x/term, x/text): the module graph may need their go.mod
    // files, never their source.
    for line in go_mod.lines() {
        let mut words = line.split_whitespace();
        if let (Some(path), Some(version), None) = (words.next(), words.next(), words.next())
            && path.starts_with("golang.org/x/")
        {
            let module = format!("module {path}\n\ngo 1.17\n");
            proxy_module(&proxy, path, version, &module, &[]);
        }
    }
    let app = dir.join("app");
    std::fs::create_dir_all(&app).unwrap();
    std::fs::write(
        app.join("go.mod"),
        "module example.com/htmlapp\n\ngo 1.17\n\nrequire golang.org/x/net v0.7.0\n",
    )
    .unwrap();
    std::fs::write(
        app.join("main.go"),
        "package main\n\nimport (\n\t\"fmt\"\n\t\"strings\"\n\n\t\"golang.org/x/net/html\"\n)\n\n\
         func main() {\n\tdoc, err := html.Parse(strings.NewReader(\"<p>old x/net</p>\"))\n\t\
         fmt.Println(doc.FirstChild != nil, err)\n}\n",
    )
    .unwrap();
    let go = |args: &[&str]| {
        let output = Command::new("go")
            .args(args)
            .current_dir(&app)
            .env("GOFLAGS", "-mod=mod -modcacherw")
            .env("GOPROXY", format!("file://{}", proxy.display()))
            .env("GOSUMDB", "off")
            .env("GONOSUMDB", "*")
            .env("GOPRIVATE", "")
            .env("GONOPROXY", "")
            .env("GOWORK", "off")
            .env("GOTOOLCHAIN", "local")
            .env("GOPATH", dir.join("gopath"))
            .env("GOMODCACHE", dir.join("modcache"))
            .env("GOCACHE", dir.join("gocache"))
            .env("CGO_ENABLED", "0")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "go {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let go_version = go(&["env", "GOVERSION"]).trim().to_string();
    let binary = dir.join("htmlapp");
    go(&["build", "-trimpath", "-o", binary.to_str().unwrap(), "."]);
    // The toolchain's own account of what it linked in.
    let recorded = go(&["version", "-m", binary.to_str().unwrap()]);
    assert!(
        recorded
            .lines()
            .any(|line| line
                .split_whitespace()
                .take(3)
                .eq(["dep", "golang.org/x/net", "v0.7.0"])),
        "{recorded}"
    );
    (std::fs::read(&binary).unwrap(), go_version)
}

/// A real Go binary linking golang.org/x/net 0.7.0, in an image: the catalogers find the module
/// and the standard library it was built with, and matching gives exactly the advisories the
/// reference evaluation gives for those packages.
#[test]
fn a_go_binary_with_an_old_x_net_matches_as_the_reference_says() {
    let Some(go_zip) = shared("Go") else { return };
    if let Err(why) = go_and_x_net() {
        skipped(&why);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (binary, go_version) = build_with_old_x_net(dir.path());
    let mut layer = LayerBuilder::new();
    layer.file_mode("usr/local/bin/htmlapp", &binary, 0o755);
    let image = Image::new(
        &["old-x-net:1"],
        vec![Layer::new(
            layer.build(),
            Compression::Gzip,
            "COPY htmlapp /usr/local/bin/",
        )],
    );
    let report = scanned(image);
    let mut catalogued: Vec<(&str, &str)> = report
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Go)
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    catalogued.sort();
    assert_eq!(
        catalogued,
        [
            ("example.com/htmlapp", "(devel)"),
            ("golang.org/x/net", "v0.7.0"),
            ("stdlib", go_version.as_str()),
        ]
    );

    let (_db_dir, db) = database(std::slice::from_ref(&go_zip));
    let findings = match_packages(
        &db,
        &report.packages,
        report.os.as_ref(),
        MatchOptions::default(),
    )
    .unwrap();
    // The reference is given the same packages, with versions as OSV writes them (no `v`, no
    // `go`); the main module, built from source, has no version to match.
    let versioned: Vec<(&str, &str)> = catalogued
        .iter()
        .copied()
        .filter(|(_, version)| *version != "(devel)")
        .collect();
    let plain: Vec<(String, String)> = versioned
        .iter()
        .map(|(name, version)| {
            let version = version.trim_start_matches("go").trim_start_matches('v');
            (name.to_string(), version.to_string())
        })
        .collect();
    let expected: Matches = reference("semver", "Go", &go_zip, &plain)
        .into_iter()
        .map(|(name, _, id)| {
            let installed = versioned.iter().find(|(n, _)| *n == name).unwrap().1;
            (name, installed.to_string(), id)
        })
        .collect();
    let x_net: BTreeSet<&str> = expected
        .iter()
        .filter(|(name, _, _)| name == "golang.org/x/net")
        .map(|(_, _, id)| id.as_str())
        .collect();
    // x/net 0.7.0 predates the fixes of, among others, improper rendering of text nodes in
    // x/net/html (GO-2023-1988, fixed in 0.13.0) and HTTP/2 rapid reset (GO-2023-2102, 0.17.0).
    assert!(
        x_net.contains("GO-2023-1988") && x_net.contains("GO-2023-2102") && x_net.len() >= 5,
        "{x_net:?}"
    );
    assert_eq!(matches(&findings), expected);
    let location = findings[0].location.as_ref().unwrap();
    assert_eq!(location.path, "usr/local/bin/htmlapp");
    assert_eq!(
        location.created_by.as_deref(),
        Some("COPY htmlapp /usr/local/bin/")
    );
    println!(
        "{} advisories: golang.org/x/net v0.7.0 {x_net:?}; stdlib {go_version} {:?}",
        expected.len(),
        expected
            .iter()
            .filter(|(name, _, _)| name == "stdlib")
            .map(|(_, _, id)| id.as_str())
            .collect::<Vec<_>>()
    );
}

/// Severity from CVSS: a v4.0 vector alone is scored (a real RUSTSEC record has only one);
/// beside a v3 vector, the v3 score rates the finding, though the v4 one comes first and is
/// higher (a hand-written record).
#[test]
fn severity_comes_from_cvss_v3_first_then_v4() {
    let Some(rust) = shared("Rust") else { return };
    let records = tempfile::tempdir().unwrap();
    std::fs::write(
        records.path().join("TEST-2026-0001.json"),
        r#"{"id": "TEST-2026-0001", "modified": "2026-01-01T00:00:00Z",
            "summary": "rated in both versions",
            "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
                         {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"}],
            "affected": [{"package": {"ecosystem": "crates.io", "name": "both-vectors"},
                          "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": "1.0.0"}]}]}]}"#,
    )
    .unwrap();
    let (_dir, db) = database(&[rust, records.path().to_path_buf()]);
    let packages = [
        package(PackageType::Rust, "below", "0.8.1"),
        package(PackageType::Rust, "both-vectors", "0.5.0"),
    ];
    let findings = match_packages(&db, &packages, None, MatchOptions::default()).unwrap();
    let rated = |id: &str| {
        let finding = findings.iter().find(|f| f.id == id).unwrap();
        let source = finding
            .vulnerability
            .as_ref()
            .unwrap()
            .severity_source
            .clone();
        (finding.severity, source)
    };
    // RUSTSEC-2025-0149 (CVE-2025-27591): 7.3, as Red Hat's cvss scores it too.
    assert_eq!(
        rated("RUSTSEC-2025-0149"),
        (
            Severity::High,
            "7.3 CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N".to_string()
        )
    );
    assert_eq!(
        rated("TEST-2026-0001"),
        (
            Severity::Low,
            "3.1 CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N".to_string()
        )
    );
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
