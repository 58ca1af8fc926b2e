//! The report the rendering tests share, built in code: findings of every sort (a GHSA with
//! aliases and a fix, a CVSS 4.0 vulnerability, a secret with a line, an image-wide config
//! finding, a nested archive member, control characters), suppressed findings and a policy that
//! blocks.

use stowaway_findings::{
    Counts, FileStatus, Finding, ImageReport, Kind, Location, OsInfo, Package, PackageType,
    PolicyOutcome, Report, Severity, Suppressed, Tool, VulnerabilityDatabase, VulnerabilityDetails,
};

pub const LAYER0: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
pub const LAYER1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
pub const LAYER2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

pub fn at(layer: usize, path: &str) -> Location {
    Location {
        layer,
        layer_digest: Some([LAYER0, LAYER1, LAYER2][layer].to_string()),
        path: path.to_string(),
        member: None,
        line: None,
        status: FileStatus::Present,
        created_by: Some(format!("RUN step {layer}")),
    }
}

pub fn finding(
    id: &str,
    kind: Kind,
    severity: Severity,
    title: &str,
    location: Option<Location>,
) -> Finding {
    Finding {
        id: id.to_string(),
        kind,
        severity,
        title: title.to_string(),
        location,
        evidence: None,
        engine: "test".to_string(),
        vulnerability: None,
    }
}

pub fn vuln(
    id: &str,
    severity: Severity,
    package: &Package,
    aliases: &[&str],
    fixed: &[&str],
    severity_source: &str,
) -> Finding {
    let mut f = finding(
        id,
        Kind::Vuln,
        severity,
        &format!("{id} in {}", package.name),
        package.location.clone(),
    );
    f.engine = "osv".to_string();
    f.vulnerability = Some(Box::new(VulnerabilityDetails {
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
        package: package.name.clone(),
        purl: package.purl.clone(),
        installed_version: package.version.clone(),
        ecosystem: "test".to_string(),
        matched_name: package.name.clone(),
        fixed_versions: fixed.iter().map(|v| v.to_string()).collect(),
        severity_source: severity_source.to_string(),
    }));
    f
}

pub fn package(
    package_type: PackageType,
    name: &str,
    version: &str,
    purl: &str,
    path: &str,
) -> Package {
    let mut p = Package::new(package_type, name, version);
    p.purl = purl.to_string();
    p.location = Some(at(1, path));
    p
}

/// One image with a finding of every kind, two suppressed, and a policy (`--fail-on high`,
/// engine failures block) that blocks.
pub fn report() -> Report {
    let requests = package(
        PackageType::Python,
        "requests",
        "2.19.0",
        "pkg:pypi/requests@2.19.0",
        "usr/lib/python3/dist-packages/requests-2.19.0.dist-info/METADATA",
    );
    let openssl = package(
        PackageType::Deb,
        "openssl",
        "3.0.11-1",
        "pkg:deb/debian/openssl@3.0.11-1?arch=amd64&distro=debian-12",
        "var/lib/dpkg/status",
    );
    let zlib = package(
        PackageType::Deb,
        "zlib1g",
        "1:1.2.13.dfsg-1",
        "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12",
        "var/lib/dpkg/status",
    );
    let mut removed = package(
        PackageType::Deb,
        "curl",
        "7.88.1-10",
        "pkg:deb/debian/curl@7.88.1-10",
        "var/lib/dpkg/status",
    );
    if let Some(location) = &mut removed.location {
        location.status = FileStatus::Removed { layer: 2 };
    }

    let mut malware = finding(
        "STW-MAL-XMRIG",
        Kind::Malware,
        Severity::Critical,
        "XMRig cryptominer",
        Some(at(2, "usr/local/bin/xmrig")),
    );
    malware.evidence = Some("YARA rule Xmrig_Miner".to_string());
    let mut secret = finding(
        "STW-SECRET-AWS-KEY",
        Kind::Secret,
        Severity::High,
        "AWS access key id",
        Some(Location {
            line: Some(3),
            ..at(2, "app/.env")
        }),
    );
    secret.evidence = Some("AKIA************MPLE".to_string());
    let mut pua = finding(
        "STW-PUA-NMAP",
        Kind::Pua,
        Severity::Low,
        "Hacking tool <nmap> & \"friends\"\u{1b}[2J",
        Some(Location {
            member: Some("WEB-INF/lib/x y.jar!com/A.class".to_string()),
            ..at(2, "opt/app!1/lib.war")
        }),
    );
    pua.engine = "yara".to_string();
    let config = finding(
        "STW-CONFIG-ROOT",
        Kind::Config,
        Severity::Medium,
        "Container runs as root",
        None,
    );
    let engine = finding(
        "STW-ENGINE-TIMEOUT",
        Kind::Engine,
        Severity::Info,
        "clamav timed out on a file",
        Some(at(0, "usr/share/big.bin")),
    );

    let mut findings = vec![
        malware,
        vuln(
            "GHSA-j8r2-6x86-q33q",
            Severity::High,
            &requests,
            &["CVE-2023-32681", "PYSEC-2023-74"],
            &["2.31.0"],
            "8.1 CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
        secret,
        vuln(
            "CVE-2024-5535",
            Severity::Medium,
            &openssl,
            &[],
            &[],
            "6.3 CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:L/SC:N/SI:N/SA:N",
        ),
        config,
        pua,
        engine,
    ];
    stowaway_findings::sort_findings(&mut findings);
    let suppressed = vec![
        Suppressed {
            finding: vuln(
                "CVE-2023-45853",
                Severity::Critical,
                &zlib,
                &["DEBIAN-CVE-2023-45853"],
                &["1:1.3.dfsg-1"],
                "debian: unimportant",
            ),
            by: "vex".to_string(),
            reason: "not_affected (vulnerable_code_not_in_execute_path) by vex/zlib.openvex.json"
                .to_string(),
        },
        Suppressed {
            finding: finding(
                "STW-CONFIG-NO-HEALTHCHECK",
                Kind::Config,
                Severity::Low,
                "No HEALTHCHECK",
                None,
            ),
            by: "ignore".to_string(),
            reason: "Kubernetes probes check health".to_string(),
        },
    ];
    let counts = Counts::of(&findings);
    Report {
        schema_version: stowaway_findings::SCHEMA_VERSION.to_string(),
        tool: Tool {
            name: "stowaway".to_string(),
            version: "0.1.0".to_string(),
        },
        input: "app.tar".to_string(),
        analyzers: Vec::new(),
        vulnerability_database: VulnerabilityDatabase {
            checked: true,
            path: None,
            updated: None,
            age_days: None,
            records: 3,
            note: None,
        },
        images: vec![ImageReport {
            name: "registry.example:5000/app:1.2".to_string(),
            tags: vec!["registry.example:5000/app:1.2".to_string()],
            config_digest: Some(LAYER0.replace('0', "c")),
            manifest_digest: None,
            platform: Some("linux/amd64".to_string()),
            config: None,
            os: Some(OsInfo {
                id: "debian".to_string(),
                version_id: Some("12".to_string()),
                pretty_name: None,
                source: "etc/os-release".to_string(),
            }),
            layers: Vec::new(),
            history: Vec::new(),
            counts,
            findings,
            not_scanned: Vec::new(),
            inventory: Vec::new(),
            archive_members: Vec::new(),
            packages: vec![requests, openssl, zlib, removed],
            malware: None,
            suppressed,
        }],
        policy: Some(PolicyOutcome {
            fail_on: "high".to_string(),
            engine_failures_block: true,
            blocked: true,
            blocking: 4,
            summary:
                "7 findings (1 critical, 2 high, 2 medium, 1 low, 1 info); 2 suppressed; 4 block"
                    .to_string(),
            warnings: vec!["ignore rule for CVE-2020-1 expired on 2024-01-01".to_string()],
        }),
    }
}
