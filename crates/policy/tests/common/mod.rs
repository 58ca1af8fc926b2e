//! A report with one finding of each sort the policy treats differently, built in code.

use stowaway_findings::{
    Counts, FileStatus, Finding, ImageReport, Kind, Location, Report, SCHEMA_VERSION, Severity,
    Tool, VulnerabilityDatabase, VulnerabilityDetails,
};

pub const MANIFEST_DIGEST: &str =
    "sha256:5c0d7a3e6f1b2c4d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5";

fn at(layer: usize, path: &str) -> Option<Location> {
    Some(Location {
        layer,
        layer_digest: None,
        path: path.into(),
        member: None,
        line: None,
        status: FileStatus::Present,
        created_by: None,
    })
}

fn finding(id: &str, kind: Kind, severity: Severity, location: Option<Location>) -> Finding {
    Finding {
        id: id.into(),
        kind,
        severity,
        title: format!("{id} found"),
        location,
        evidence: None,
        engine: "test".into(),
        vulnerability: None,
    }
}

fn vuln(
    id: &str,
    severity: Severity,
    aliases: &[&str],
    purl: &str,
    fixed: &[&str],
    location: Option<Location>,
) -> Finding {
    Finding {
        vulnerability: Some(Box::new(VulnerabilityDetails {
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
            package: "pkg".into(),
            purl: purl.into(),
            installed_version: "1".into(),
            ecosystem: "test".into(),
            matched_name: "pkg".into(),
            fixed_versions: fixed.iter().map(|f| f.to_string()).collect(),
            severity_source: "test".into(),
        })),
        ..finding(id, Kind::Vuln, severity, location)
    }
}

/// `example:1` with seven findings:
///
/// | id | kind | severity | where |
/// | --- | --- | --- | --- |
/// | EICAR-Test-File | malware | critical | layer 1 tmp/eicar.com |
/// | CVE-2023-4911 | vuln, no fix, libc6 deb | critical | layer 0 var/lib/dpkg/status |
/// | PYSEC-2024-1 (CVE-2024-1234, GHSA-…) | vuln, fixed in 4.2.2, django 4.2.1 | high | layer 2 |
/// | aws-access-key-id | secret | high | layer 2 app/settings.py |
/// | STW-ENGINE-FAILED | engine | high | layer 1 opt/blob.bin |
/// | STW-CFG-ROOT-USER | config | medium | image-wide |
/// | generic-password | secret | low | layer 0 usr/share/doc/app/README |
pub fn report() -> Report {
    let findings = vec![
        finding(
            "EICAR-Test-File",
            Kind::Malware,
            Severity::Critical,
            at(1, "tmp/eicar.com"),
        ),
        vuln(
            "CVE-2023-4911",
            Severity::Critical,
            &["DSA-5514-1"],
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12",
            &[],
            at(0, "var/lib/dpkg/status"),
        ),
        vuln(
            "PYSEC-2024-1",
            Severity::High,
            &["CVE-2024-1234", "GHSA-2m57-hf25-phgg"],
            "pkg:pypi/django@4.2.1",
            &["4.2.2"],
            at(
                2,
                "usr/lib/python3/dist-packages/Django-4.2.1.dist-info/METADATA",
            ),
        ),
        finding(
            "aws-access-key-id",
            Kind::Secret,
            Severity::High,
            at(2, "app/settings.py"),
        ),
        finding(
            "STW-ENGINE-FAILED",
            Kind::Engine,
            Severity::High,
            at(1, "opt/blob.bin"),
        ),
        finding("STW-CFG-ROOT-USER", Kind::Config, Severity::Medium, None),
        finding(
            "generic-password",
            Kind::Secret,
            Severity::Low,
            at(0, "usr/share/doc/app/README"),
        ),
    ];
    let image = ImageReport {
        name: "example:1".into(),
        tags: vec!["example:1".into()],
        config_digest: Some("sha256:c0ffee".into()),
        manifest_digest: Some(MANIFEST_DIGEST.into()),
        platform: Some("linux/amd64".into()),
        config: None,
        os: None,
        layers: Vec::new(),
        history: Vec::new(),
        counts: Counts::of(&findings),
        findings,
        not_scanned: Vec::new(),
        inventory: Vec::new(),
        archive_members: Vec::new(),
        packages: Vec::new(),
        malware: None,
        suppressed: Vec::new(),
    };
    Report {
        schema_version: SCHEMA_VERSION.into(),
        tool: Tool {
            name: "stowaway".into(),
            version: "0.1.0".into(),
        },
        input: "example.tar".into(),
        analyzers: Vec::new(),
        vulnerability_database: VulnerabilityDatabase {
            checked: true,
            path: None,
            updated: None,
            age_days: None,
            records: 0,
            note: None,
        },
        images: vec![image],
        policy: None,
    }
}
