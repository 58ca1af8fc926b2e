//! The HTML report: what it shows, that untrusted text stays text, that it loads nothing, that
//! long lists are bounded, and — in Debian's chromium, headless — that it opens, shows the
//! findings and filters them from the URL fragment.
//!
//! The browser test says `skipped:` when chromium is missing, and fails then when
//! `STOWAWAY_SBOM_VALIDATORS` is set (scripts/with-test-deps sets it: CI must run it).

use std::collections::BTreeMap;

use stowaway_findings::{
    AnalyzerInfo, Counts, EngineResult, FileScan, FileStatus, Finding, HistoryEntry, ImageConfig,
    ImageReport, Integrity, Kind, LayerSummary, Location, MalwareReport, NotScanned,
    NotScannedCode, OsInfo, Package, PackageType, PolicyOutcome, Report, Severity, Suppressed,
    Tool, Verdict, VerdictCounts, VulnerabilityDatabase, VulnerabilityDetails,
};
use stowaway_imagebuilder::browser::{chromium, dump_dom};

const XSS_TAG: &str = "<script>alert(1)</script>";
const XSS_ATTR: &str = "\"onmouseover=alert(2) x=\"";

fn location(layer: usize, path: &str, line: Option<u64>, status: FileStatus) -> Location {
    Location {
        layer,
        layer_digest: Some(format!("sha256:{layer:064}")),
        path: path.into(),
        member: None,
        line,
        status,
        created_by: None,
    }
}

fn finding(
    id: &str,
    kind: Kind,
    severity: Severity,
    title: &str,
    location: Option<Location>,
    engine: &str,
) -> Finding {
    Finding {
        id: id.into(),
        kind,
        severity,
        title: title.into(),
        location,
        evidence: None,
        engine: engine.into(),
        vulnerability: None,
    }
}

fn engine(engine: &str, verdict: Verdict, threat: Option<&str>, time_us: u64) -> EngineResult {
    EngineResult {
        engine: engine.into(),
        verdict,
        threat: threat.map(Into::into),
        time_us,
    }
}

fn file(path: &str, layer: usize, verdict: Verdict, results: Vec<EngineResult>) -> FileScan {
    FileScan {
        path: path.into(),
        member: None,
        layer,
        status: FileStatus::Present,
        verdict,
        not_scanned: None,
        reason: None,
        results,
    }
}

/// The ids of the findings, each a kind at a severity; the XSS one's path, title and label carry
/// markup.
const IDS: [(&str, Kind, Severity); 6] = [
    ("Eicar-Test-Signature", Kind::Malware, Severity::Critical),
    ("STW-EXEC-TMP", Kind::Suspicious, Severity::Critical),
    ("CVE-2023-38545", Kind::Vuln, Severity::High),
    ("STW-SECRET-AWS-KEY", Kind::Secret, Severity::High),
    ("STW-CFG-ROOT-USER", Kind::Config, Severity::Medium),
    ("STW-PUA-NMAP", Kind::Pua, Severity::Low),
];

fn report() -> Report {
    let malware = finding(
        IDS[0].0,
        Kind::Malware,
        Severity::Critical,
        "EICAR test file",
        Some(location(1, "opt/app/eicar.com", None, FileStatus::Present)),
        "clamav",
    );
    let mut xss = finding(
        IDS[1].0,
        Kind::Suspicious,
        Severity::Critical,
        &format!("Executable under /tmp {XSS_TAG} {XSS_ATTR}"),
        Some(location(
            2,
            &format!("tmp/{XSS_TAG}/{XSS_ATTR}.bin"),
            None,
            FileStatus::Replaced { layer: 3 },
        )),
        "suspicious",
    );
    xss.evidence = Some(format!("ELF in /tmp {XSS_TAG}"));
    let mut vuln = finding(
        IDS[2].0,
        Kind::Vuln,
        Severity::High,
        "curl: SOCKS5 heap buffer overflow",
        Some(location(
            0,
            "var/lib/dpkg/status",
            None,
            FileStatus::Present,
        )),
        "vulndb",
    );
    vuln.vulnerability = Some(Box::new(VulnerabilityDetails {
        aliases: vec!["DSA-5517-1".into()],
        package: "libcurl4".into(),
        purl: "pkg:deb/debian/libcurl4@7.88.1-10?distro=debian-12".into(),
        installed_version: "7.88.1-10".into(),
        ecosystem: "Debian:12".into(),
        matched_name: "curl".into(),
        fixed_versions: vec!["7.88.1-10+deb12u4".into()],
        severity_source: "9.8 CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".into(),
    }));
    let mut secret = finding(
        IDS[3].0,
        Kind::Secret,
        Severity::High,
        "AWS access key id",
        Some(location(
            1,
            "app/.env",
            Some(3),
            FileStatus::Removed { layer: 2 },
        )),
        "secrets",
    );
    secret.evidence = Some("AKIA************MPLE".into());
    let config = finding(
        IDS[4].0,
        Kind::Config,
        Severity::Medium,
        "The image runs as root",
        None,
        "lint",
    );
    let pua = finding(
        IDS[5].0,
        Kind::Pua,
        Severity::Low,
        "Network scanner nmap",
        Some(location(1, "usr/bin/nmap", None, FileStatus::Present)),
        "yara",
    );
    let findings = vec![malware, xss, vuln, secret, config, pua];

    let suppressed = finding(
        "CVE-2022-0001",
        Kind::Vuln,
        Severity::Low,
        "An ignored advisory",
        Some(location(
            0,
            "var/lib/dpkg/status",
            None,
            FileStatus::Present,
        )),
        "vulndb",
    );

    let mut curl = Package::new(PackageType::Deb, "libcurl4", "7.88.1-10");
    curl.purl = "pkg:deb/debian/libcurl4@7.88.1-10?distro=debian-12".into();
    curl.licenses = vec!["curl".into()];
    curl.location = Some(location(
        0,
        "var/lib/dpkg/status",
        None,
        FileStatus::Present,
    ));
    let mut requests = Package::new(PackageType::Python, "requests", "2.31.0");
    requests.purl = "pkg:pypi/requests@2.31.0".into();
    requests.licenses = vec!["Apache-2.0".into()];
    requests.location = Some(location(
        1,
        "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA",
        None,
        FileStatus::Removed { layer: 2 },
    ));
    let mut hostile = Package::new(PackageType::Npm, XSS_TAG, XSS_ATTR);
    hostile.purl = "pkg:npm/evil@1.0.0".into();

    let mut files = vec![
        file(
            "opt/app/eicar.com",
            1,
            Verdict::Infected,
            vec![
                engine(
                    "clamav",
                    Verdict::Infected,
                    Some("Eicar-Test-Signature"),
                    1_300,
                ),
                engine("yara", Verdict::Clean, None, 310),
            ],
        ),
        file(
            "usr/bin/nmap",
            1,
            Verdict::Pua,
            vec![
                engine("clamav", Verdict::Clean, None, 4_100),
                engine("yara", Verdict::Pua, Some("HackTool_Nmap"), 2_000),
            ],
        ),
        file(
            "usr/bin/env",
            0,
            Verdict::Clean,
            vec![
                engine("clamav", Verdict::Clean, None, 800),
                engine("yara", Verdict::Clean, None, 90),
            ],
        ),
    ];
    let mut deep = file("opt/app/bundle.zip", 1, Verdict::NotScanned, vec![]);
    deep.member = Some("a.zip!b.zip".into());
    deep.not_scanned = Some(NotScannedCode::ExceededArchiveDepth);
    deep.reason = Some("nested deeper than --max-depth 2".into());
    files.push(deep);
    let mut verdicts = VerdictCounts::default();
    for f in &files {
        verdicts.add(f.verdict);
    }

    let layer = |index: usize, created_by: &str| LayerSummary {
        index,
        diff_id: Some(format!("sha256:{index:064}")),
        blob_digest: Some(format!("sha256:{:064}", index + 10)),
        compression: "gzip".into(),
        size: 1_500_000 * (index as u64 + 1),
        uncompressed_size: 4_000_000 * (index as u64 + 1),
        entries: 100 + index,
        integrity: Integrity::Verified,
        created_by: Some(created_by.into()),
    };
    let history = |layer: Option<usize>, created_by: &str| HistoryEntry {
        created: Some("2024-11-20T10:00:00Z".into()),
        created_by: Some(created_by.into()),
        empty_layer: layer.is_none(),
        layer,
    };

    let image = ImageReport {
        name: "registry.example/app:1.0".into(),
        tags: vec!["registry.example/app:1.0".into(), "app:latest".into()],
        config_digest: Some(format!("sha256:{:064}", 99)),
        manifest_digest: Some(format!("sha256:{:064}", 98)),
        platform: Some("linux/amd64".into()),
        config: Some(ImageConfig {
            user: None,
            env: vec![
                "PATH=/usr/local/bin:/usr/bin".into(),
                "AWS_SECRET_ACCESS_KEY=[REDACTED]".into(),
            ],
            entrypoint: Some(vec!["/docker-entrypoint.sh".into()]),
            cmd: Some(vec![
                "sh".into(),
                "-c".into(),
                "exec app --port 8080".into(),
            ]),
            working_dir: Some("/app".into()),
            labels: BTreeMap::from([(XSS_TAG.to_string(), XSS_ATTR.to_string())]),
            exposed_ports: vec!["8080/tcp".into()],
            volumes: vec!["/data".into()],
            healthcheck: Some(vec!["CMD-SHELL".into(), "curl -f localhost:8080".into()]),
        }),
        os: Some(OsInfo {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: Some("Debian GNU/Linux 12 (bookworm)".into()),
            source: "etc/os-release".into(),
        }),
        layers: vec![
            layer(0, "/bin/sh -c #(nop) ADD file:abc in /"),
            layer(1, "COPY app /opt/app"),
            layer(2, "RUN rm /app/.env"),
            layer(3, "RUN cp /bin/true /tmp/x.bin"),
        ],
        history: vec![
            history(Some(0), "/bin/sh -c #(nop) ADD file:abc in /"),
            history(None, "ENV PATH=/usr/local/bin:/usr/bin"),
            history(Some(1), "COPY app /opt/app"),
            history(Some(2), "RUN rm /app/.env"),
            history(Some(3), "RUN cp /bin/true /tmp/x.bin"),
        ],
        counts: Counts::of(&findings),
        findings,
        not_scanned: vec![NotScanned {
            location: Location {
                member: Some("a.zip!b.zip".into()),
                ..location(1, "opt/app/bundle.zip", None, FileStatus::Present)
            },
            code: NotScannedCode::ExceededArchiveDepth,
            reason: "nested deeper than --max-depth 2".into(),
        }],
        inventory: vec![],
        archive_members: vec![],
        packages: vec![curl, requests, hostile],
        malware: Some(MalwareReport {
            engines: vec!["clamav".into(), "yara".into()],
            files_scanned: files.len(),
            verdicts,
            threats_by_layer: vec![],
            files,
        }),
        suppressed: vec![Suppressed {
            finding: suppressed,
            by: "ignore".into(),
            reason: "Not reachable: see SEC-1234".into(),
        }],
    };
    Report {
        schema_version: stowaway_findings::SCHEMA_VERSION.into(),
        tool: Tool {
            name: "stowaway".into(),
            version: "0.9.0".into(),
        },
        input: "app.tar".into(),
        analyzers: vec![
            AnalyzerInfo {
                id: "clamav".into(),
                version: 1,
                definitions: Some("ClamAV 1.0.7/27469, daily 2024-11-20".into()),
            },
            AnalyzerInfo {
                id: "yara".into(),
                version: 3,
                definitions: Some("stowaway rules 2024-11-01".into()),
            },
        ],
        vulnerability_database: VulnerabilityDatabase {
            checked: true,
            path: Some("/var/cache/stowaway/osv.db".into()),
            updated: Some("2024-11-19T06:00:00Z".into()),
            age_days: Some(1),
            records: 123_456,
            note: None,
        },
        images: vec![image],
        policy: Some(PolicyOutcome {
            fail_on: "high".into(),
            engine_failures_block: true,
            blocked: true,
            blocking: 4,
            summary: "6 findings (2 critical, 2 high, 1 medium, 1 low); 1 suppressed; 4 block."
                .into(),
            warnings: vec!["ignore rule CVE-2020-0001 expired on 2024-01-01".into()],
        }),
    }
}

fn render(report: &Report) -> String {
    let mut out = Vec::new();
    stowaway_report::write_html(report, &mut out).expect("writing to a Vec");
    String::from_utf8(out).expect("the HTML report is UTF-8")
}

/// One start tag of a page: its name and attributes (values unescaped).
#[derive(Debug)]
struct Tag {
    name: String,
    attributes: Vec<(String, String)>,
}

impl Tag {
    fn get(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The start tags of a serialised page, read as a browser tokenizes them (quoted attribute
/// values, raw text inside `<script>` and `<style>`), and the text outside tags.
fn tokenize(html: &str) -> (Vec<Tag>, String) {
    let bytes = html.as_bytes();
    let (mut tags, mut text) = (Vec::new(), String::new());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            let next = html[i..].find('<').map_or(html.len(), |n| i + n);
            text.push_str(&html[i..next]);
            i = next;
            continue;
        }
        i += 1;
        if html[i..].starts_with('!') || html[i..].starts_with('/') {
            i = html[i..].find('>').map_or(html.len(), |n| i + n + 1);
            continue;
        }
        let name_end = html[i..]
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .map_or(html.len(), |n| i + n);
        let name = html[i..name_end].to_ascii_lowercase();
        i = name_end;
        let mut attributes = Vec::new();
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                i += 1;
                break;
            }
            let attr_end = html[i..]
                .find(|c: char| c.is_whitespace() || c == '=' || c == '>')
                .map_or(html.len(), |n| i + n);
            let attr = html[i..attr_end].to_ascii_lowercase();
            i = attr_end;
            let mut value = String::new();
            if i < bytes.len() && bytes[i] == b'=' {
                i += 1;
                let quote = bytes[i];
                if quote == b'"' || quote == b'\'' {
                    let end = html[i + 1..]
                        .find(char::from(quote))
                        .map_or(html.len(), |n| i + 1 + n);
                    value = unescape(&html[i + 1..end]);
                    i = end + 1;
                } else {
                    let end = html[i..]
                        .find(|c: char| c.is_whitespace() || c == '>')
                        .map_or(html.len(), |n| i + n);
                    value = unescape(&html[i..end]);
                    i = end;
                }
            }
            attributes.push((attr, value));
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}>");
            i = html[i..].find(&close).map_or(html.len(), |n| i + n);
        }
        tags.push(Tag { name, attributes });
    }
    (tags, unescape(&text))
}

/// What no page of this report may contain, whatever the image said: elements that load or
/// run, event-handler attributes, scripts other than its own, loads from the network.
fn assert_nothing_injected_or_loaded(tags: &[Tag]) {
    let scripts: Vec<&Tag> = tags.iter().filter(|t| t.name == "script").collect();
    assert_eq!(scripts.len(), 1, "one inline script, the page's own");
    assert_eq!(scripts[0].get("src"), None);
    for tag in tags {
        assert!(
            !matches!(
                tag.name.as_str(),
                "img" | "iframe" | "object" | "embed" | "link" | "base" | "form" | "svg" | "video"
            ),
            "an element that loads: {tag:?}"
        );
        for (name, value) in &tag.attributes {
            assert!(!name.starts_with("on"), "an event handler: {tag:?}");
            assert!(
                !value
                    .trim_start()
                    .to_ascii_lowercase()
                    .starts_with("javascript:"),
                "a javascript: URL: {tag:?}"
            );
            let remote =
                value.contains("http://") || value.contains("https://") || value.starts_with("//");
            if (name == "src" || name == "href" || name == "srcset" || name == "action") && remote {
                assert!(
                    tag.name == "a" && name == "href",
                    "only links may name the network, nothing may load from it: {tag:?}"
                );
            }
        }
    }
}

#[test]
fn shows_the_report() {
    let report = report();
    let html = render(&report);
    let (tags, text) = tokenize(&html);
    for (id, _, _) in IDS {
        assert!(text.contains(id), "finding {id} is shown");
    }
    let rows: Vec<&Tag> = tags
        .iter()
        .filter(|t| t.get("data-kind").is_some())
        .collect();
    assert_eq!(rows.len(), IDS.len(), "one filterable row per finding");
    for (row, (_, kind, severity)) in rows.iter().zip(IDS) {
        assert_eq!(row.get("data-kind"), Some(kind.as_str()));
        assert_eq!(row.get("data-severity"), Some(severity.as_str()));
    }
    // fail_on "high": the two critical and two high findings block, and are marked so.
    let blocking: Vec<bool> = rows
        .iter()
        .map(|r| r.get("data-blocking") == Some("true"))
        .collect();
    let expected: Vec<bool> = report.images[0]
        .findings
        .iter()
        .map(|f| report.is_blocking(f))
        .collect();
    assert_eq!(blocking, expected);
    assert_eq!(blocking, [true, true, true, true, false, false]);
    assert_eq!(html.matches("class=\"badge blocking\"").count(), 4);
    for shown in [
        "BLOCKED",
        "6 findings (2 critical, 2 high, 1 medium, 1 low); 1 suppressed; 4 block.",
        "ignore rule CVE-2020-0001 expired on 2024-01-01",
        "123456 advisories, updated 2024-11-19T06:00:00Z (1 days ago)",
        "stowaway 0.9.0",
        // Locations with line and status, image-wide findings.
        "layer 1: /app/.env:3",
        "removed in layer 2",
        "replaced in layer 3",
        "image-wide",
        // The vulnerability's details.
        "libcurl4",
        "7.88.1-10+deb12u4",
        "DSA-5517-1",
        "9.8 CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "AKIA************MPLE",
        // Run configuration, layers and history.
        "not set: processes run as root",
        "AWS_SECRET_ACCESS_KEY=[REDACTED]",
        "[\"sh\", \"-c\", \"exec app --port 8080\"]",
        "8080/tcp",
        "ENV PATH=/usr/local/bin:/usr/bin",
        "RUN rm /app/.env",
        "Debian GNU/Linux 12 (bookworm)",
        // Suppressed, with the reason.
        "CVE-2022-0001",
        "Not reachable: see SEC-1234",
        // Malware: engines with definitions, per-file per-engine verdicts, time.
        "ClamAV 1.0.7/27469, daily 2024-11-20",
        "stowaway rules 2024-11-01",
        "HackTool_Nmap",
        "1.3 ms",
        "nested deeper than --max-depth 2",
        // SBOM.
        "pkg:pypi/requests@2.31.0",
        "Apache-2.0",
    ] {
        assert!(text.contains(shown), "the page shows {shown:?}");
    }
    let link = tags
        .iter()
        .find(|t| t.name == "a")
        .and_then(|t| t.get("href"));
    assert_eq!(
        link,
        Some("https://osv.dev/vulnerability/CVE-2023-38545"),
        "vulnerabilities link to their advisory"
    );
    // Clean files appear only in the collapsed list of every file.
    assert_eq!(text.matches("usr/bin/env").count(), 1);

    let no_policy = Report {
        policy: None,
        ..report
    };
    let html = render(&no_policy);
    assert!(html.contains("NO POLICY"));
    assert!(!html.contains("data-blocking=\"true\""));
}

#[test]
fn untrusted_text_stays_text_and_nothing_loads() {
    let html = render(&report());
    let (tags, text) = tokenize(&html);
    assert_nothing_injected_or_loaded(&tags);
    // Path, title, evidence, label and package name: all there, all as text.
    assert!(!html.contains(XSS_TAG));
    assert!(!html.contains(XSS_ATTR));
    let escaped_tag = "&lt;script&gt;alert(1)&lt;/script&gt;";
    let escaped_attr = "&quot;onmouseover=alert(2) x=&quot;";
    assert!(
        html.matches(escaped_tag).count() >= 5,
        "{escaped_tag} in path, title, evidence, label, package"
    );
    assert!(html.matches(escaped_attr).count() >= 4);
    assert!(text.contains(&format!("tmp/{XSS_TAG}/{XSS_ATTR}.bin")));
    assert!(text.contains(&format!("{XSS_TAG}={XSS_ATTR}")), "the label");
    // The policy forbids every load and allows only the page's own style and script.
    let csp = tags
        .iter()
        .find(|t| t.get("http-equiv") == Some("Content-Security-Policy"))
        .and_then(|t| t.get("content"))
        .expect("a Content-Security-Policy");
    assert!(csp.starts_with("default-src 'none';"), "{csp}");
    for directive in [
        "style-src 'sha256-",
        "script-src 'sha256-",
        "img-src 'none'",
        "connect-src 'none'",
    ] {
        assert!(csp.contains(directive), "{csp} has {directive}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert!(!csp.contains("http"), "{csp}");

    // Control and bidirectional-override characters are shown, not obeyed.
    let mut report = report();
    report.images[0].findings[0].title = "evil\u{202e}fdp.exe\x1b[2J".into();
    let html = render(&report);
    assert!(html.contains("evil\\u{202e}fdp.exe\\u{1b}[2J"));
}

#[test]
fn long_lists_are_bounded() {
    let mut report = report();
    let image = &mut report.images[0];
    let base = image.findings[5].clone();
    image.findings = (0..10_050)
        .map(|i| Finding {
            id: format!("STW-BULK-{i}"),
            ..base.clone()
        })
        .collect();
    image.counts = Counts::of(&image.findings);
    image.packages = (0..6_000)
        .map(|i| Package::new(PackageType::Npm, format!("pkg-{i}"), "1.0.0"))
        .collect();
    let malware = image
        .malware
        .as_mut()
        .expect("the fixture has a malware report");
    malware.files = (0..7_000)
        .map(|i| {
            file(
                &format!("usr/lib/file-{i}"),
                0,
                Verdict::Clean,
                vec![engine("clamav", Verdict::Clean, None, 10)],
            )
        })
        .collect();
    let html = render(&report);
    let (tags, text) = tokenize(&html);
    assert_eq!(
        tags.iter().filter(|t| t.get("data-kind").is_some()).count(),
        10_000
    );
    assert!(text.contains("50 more findings not shown"));
    assert!(text.contains("1000 more packages not shown"));
    assert!(text.contains("2000 more files not shown"));
    assert!(text.contains("pkg-4999") && !text.contains("pkg-5000"));
    assert!(text.contains("usr/lib/file-4999") && !text.contains("usr/lib/file-5000"));
    assert!(html.len() < 16_000_000, "{} bytes", html.len());
    // Large sections start collapsed.
    let sbom = tags
        .iter()
        .find(|t| t.name == "details" && t.get("class") == Some("sbom"))
        .expect("the SBOM section");
    assert_eq!(sbom.get("open"), None);

    // One huge string is cut too.
    let mut report = self::report();
    report.images[0].findings[0].evidence = Some("A".repeat(1_000_000));
    let html = render(&report);
    assert!(html.contains(" (998000 more characters)"));
    assert!(html.len() < 200_000);
}

/// The finding rows of a dumped DOM, in report order (the fixture's `IDS`): `(id, visible)`.
fn rows(tags: &[Tag]) -> Vec<(&'static str, bool)> {
    let rows: Vec<&Tag> = tags
        .iter()
        .filter(|t| t.get("data-kind").is_some())
        .collect();
    assert_eq!(rows.len(), IDS.len(), "every finding has its row");
    rows.iter()
        .zip(IDS)
        .map(|(row, (id, kind, severity))| {
            assert_eq!(row.get("data-kind"), Some(kind.as_str()));
            assert_eq!(row.get("data-severity"), Some(severity.as_str()));
            (id, row.get("hidden").is_none())
        })
        .collect()
}

/// The number the page says is visible.
fn visible_count(dom: &str) -> usize {
    let start = dom
        .find("id=\"visible-count\">")
        .expect("the visible-count element")
        + "id=\"visible-count\">".len();
    let end = dom[start..].find('<').map_or(dom.len(), |n| start + n);
    dom[start..end].trim().parse().expect("a count")
}

#[test]
fn opens_and_filters_in_headless_chromium() {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var_os("STOWAWAY_SBOM_VALIDATORS").is_none(),
            "chromium is missing but STOWAWAY_SBOM_VALIDATORS is set: install Debian's chromium \
             (scripts/with-test-deps does)"
        );
        eprintln!("skipped: chromium not found (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let page = dir.path().join("report.html");
    std::fs::write(&page, render(&report())).expect("writing the page");
    let profile = dir.path().join("profile");

    let visible = |fragment: &str| {
        let (dom, log) = dump_dom(
            chromium,
            &format!("file://{}{fragment}", page.display()),
            &profile,
        );
        assert!(
            !log.contains("Content Security Policy"),
            "the page's own style and script are allowed, nothing else is tried: {log}"
        );
        let (tags, text) = tokenize(&dom);
        assert_nothing_injected_or_loaded(&tags);
        let filters = tags
            .iter()
            .find(|t| t.get("id") == Some("filters"))
            .expect("the filter bar");
        assert_eq!(
            filters.get("hidden"),
            None,
            "the script ran and showed the filters"
        );
        let rows = rows(&tags);
        let shown: Vec<&str> = rows
            .iter()
            .filter(|(_, visible)| *visible)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(visible_count(&dom), shown.len(), "{fragment}: the count");
        (shown, rows, text, tags)
    };

    // Unfiltered: every finding, visible; the hostile strings are text.
    let (shown, rows, text, tags) = visible("");
    let ids: Vec<&str> = IDS.iter().map(|(id, _, _)| *id).collect();
    assert_eq!(shown, ids);
    assert_eq!(rows.len(), IDS.len());
    assert!(text.contains(&format!("tmp/{XSS_TAG}/{XSS_ATTR}.bin")));
    assert!(text.contains(&format!("Executable under /tmp {XSS_TAG} {XSS_ATTR}")));
    assert!(text.contains(&format!("{XSS_TAG}={XSS_ATTR}")));
    let checked = |name: &str| {
        tags.iter()
            .filter(|t| t.get("name") == Some(name) && t.get("checked").is_some())
            .count()
    };
    assert_eq!(checked("kind"), Kind::ALL.len());
    assert_eq!(checked("severity"), Severity::ALL.len());

    // By kind, by severity, both, blocking only, by text.
    assert_eq!(visible("#kind=secret").0, ["STW-SECRET-AWS-KEY"]);
    let (shown, _, _, tags) = visible("#severity=critical");
    assert_eq!(shown, ["Eicar-Test-Signature", "STW-EXEC-TMP"]);
    let checked_severities: Vec<&str> = tags
        .iter()
        .filter(|t| t.get("name") == Some("severity") && t.get("checked").is_some())
        .filter_map(|t| t.get("value"))
        .collect();
    assert_eq!(
        checked_severities,
        ["critical"],
        "the checkboxes follow the fragment"
    );
    assert_eq!(
        visible("#kind=vuln,secret,config&severity=high,medium").0,
        ["CVE-2023-38545", "STW-SECRET-AWS-KEY", "STW-CFG-ROOT-USER"]
    );
    assert_eq!(
        visible("#blocking=1").0,
        [
            "Eicar-Test-Signature",
            "STW-EXEC-TMP",
            "CVE-2023-38545",
            "STW-SECRET-AWS-KEY"
        ]
    );
    assert_eq!(visible("#q=libcurl4").0, ["CVE-2023-38545"]);
    assert_eq!(visible("#kind=typosquat").0, Vec::<&str>::new());
}
