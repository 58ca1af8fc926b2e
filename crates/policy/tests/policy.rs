//! The policy decides the exit code: every `--fail-on` selector, ignore rule, VEX statement and
//! flag, as a table of cases over one report (see `common`).

mod common;

use std::path::{Path, PathBuf};

use stowaway_policy::{CliSettings, Date, Policy};

/// "Today" for every case: rules expiring before it no longer apply.
fn today() -> Date {
    Date::new(2026, 6, 15).unwrap()
}

/// One row: what the user configured, and what the policy must decide.
struct Case {
    name: &'static str,
    /// `--fail-on` on the command line.
    fail_on: Option<&'static str>,
    ignore_unfixed: bool,
    allow_engine_failure: bool,
    /// The policy file's text, passed explicitly.
    file: Option<&'static str>,
    /// VEX documents given on the command line, in order.
    vex: Vec<String>,
    blocked: bool,
    blocking: usize,
    /// (finding id, `by`) of every suppressed finding, in report order.
    suppressed: &'static [(&'static str, &'static str)],
    warnings: &'static [&'static str],
}

/// A case that blocks on `blocking` findings (set `passes` when there are none).
fn case(name: &'static str, fail_on: Option<&'static str>, blocking: usize) -> Case {
    Case {
        name,
        fail_on,
        ignore_unfixed: false,
        allow_engine_failure: false,
        file: None,
        vex: Vec::new(),
        blocked: true,
        blocking,
        suppressed: &[],
        warnings: &[],
    }
}

impl Case {
    fn passes(self) -> Case {
        Case {
            blocked: false,
            ..self
        }
    }
    fn file(self, file: &'static str) -> Case {
        Case {
            file: Some(file),
            ..self
        }
    }
    fn vex(self, vex: Vec<String>) -> Case {
        Case { vex, ..self }
    }
    fn ignore_unfixed(self) -> Case {
        Case {
            ignore_unfixed: true,
            ..self
        }
    }
    fn allow_engine_failure(self) -> Case {
        Case {
            allow_engine_failure: true,
            ..self
        }
    }
    fn suppressed(self, suppressed: &'static [(&'static str, &'static str)]) -> Case {
        Case { suppressed, ..self }
    }
    fn warnings(self, warnings: &'static [&'static str]) -> Case {
        Case { warnings, ..self }
    }
}

const ENGINE_ALLOWED: &[&str] = &["1 engine failure allowed by allow-engine-failure"];

/// An OpenVEX v0.2.0 document with the given statements (JSON objects).
fn vex_doc(statements: &[String]) -> String {
    format!(
        r#"{{"@context": "https://openvex.dev/ns/v0.2.0",
            "@id": "https://openvex.dev/docs/public/vex-test",
            "author": "test", "timestamp": "2026-01-01T00:00:00Z", "version": 1,
            "statements": [{}]}}"#,
        statements.join(",")
    )
}

/// A statement about `vulnerability` for `products` (a JSON list), with `status`.
fn statement(vulnerability: &str, products: &str, status: &str, timestamp: &str) -> String {
    let extra = match status {
        "not_affected" => {
            r#", "justification": "vulnerable_code_not_in_execute_path",
                "impact_statement": "the admin site is not deployed""#
        }
        "affected" => r#", "action_statement": "upgrade""#,
        _ => "",
    };
    format!(
        r#"{{"vulnerability": {{"name": "{vulnerability}"}}, "products": {products},
            "status": "{status}", "timestamp": "{timestamp}"{extra}}}"#
    )
}

const DJANGO: &str = r#"[{"@id": "pkg:pypi/django@4.2.1"}]"#;
const LIBC6_SUB: &str = r#"[{"@id": "pkg:docker/example@1",
    "subcomponents": [{"@id": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64"}]}]"#;
const OTHER_SUB: &str =
    r#"[{"@id": "pkg:oci/example", "subcomponents": [{"@id": "pkg:deb/debian/openssl"}]}]"#;
const BY_IDENTIFIER: &str = r#"[{"@id": "https://example.com/django",
    "identifiers": {"purl": "pkg:pypi/django@4.2.1"}}]"#;
const V001: &str = r#"{"@context": "https://openvex.dev/ns", "@id": "x", "author": "a",
    "role": "r", "timestamp": "2023-01-09T21:23:03.579712389-06:00", "version": "1",
    "statements": [{"vulnerability": "CVE-2024-1234", "products": ["pkg:pypi/django@4.2.1"],
    "status": "not_affected", "justification": "inline_mitigations_already_exist"}]}"#;
const T1: &str = "2026-02-01T10:00:00Z";
const T2: &str = "2026-02-01T10:00:00.5Z";

/// One document with one statement, at `T1`.
fn one(vulnerability: &str, products: &str, status: &str) -> Vec<String> {
    vec![vex_doc(&[statement(vulnerability, products, status, T1)])]
}

/// One document with the statement `first` at `T1` and `second` at `T2`, written in reverse.
fn two(vulnerability: &str, first: &str, second: &str) -> Vec<String> {
    vec![vex_doc(&[
        statement(vulnerability, DJANGO, second, T2),
        statement(vulnerability, DJANGO, first, T1),
    ])]
}

fn image_product(digest: &str) -> String {
    format!(
        r#"[{{"@id": "pkg:oci/example@{}?repository_url=registry.example.com/example"}}]"#,
        digest.replace(':', "%3A")
    )
}

const SUP_LIBC: &[(&str, &str)] = &[("CVE-2023-4911", "ignore")];
const SUP_DJANGO: &[(&str, &str)] = &[("PYSEC-2024-1", "ignore")];
const SUP_DOC: &[(&str, &str)] = &[("generic-password", "ignore")];
const VEX_DJANGO: &[(&str, &str)] = &[("PYSEC-2024-1", "vex")];
const VEX_LIBC: &[(&str, &str)] = &[("CVE-2023-4911", "vex")];
const UNFIXED: &[(&str, &str)] = &[("CVE-2023-4911", "ignore-unfixed")];

fn cases() -> Vec<Case> {
    let critical = Some("critical");
    vec![
        // --fail-on severities (that or worse); the engine failure (high) blocks besides.
        case("default is high", None, 5),
        case("critical", critical, 3),
        case("high", Some("high"), 5),
        case("medium", Some("medium"), 6),
        case("low", Some("low"), 7),
        case("info", Some("info"), 7),
        // Kinds (any severity) and KIND:SEVERITY.
        case("malware", Some("malware"), 2),
        case("malware:critical", Some("malware:critical"), 2),
        case("vuln", Some("vuln"), 3),
        case("vulnerability is vuln", Some("vulnerability"), 3),
        case("vuln:critical", Some("vuln:critical"), 2),
        case("vuln:high", Some("vuln:high"), 3),
        case("secret", Some("secret"), 3),
        case("secret:high", Some("secret:high"), 2),
        case("secret:critical", Some("secret:critical"), 1),
        case("config", Some("config"), 2),
        case("config:high", Some("config:high"), 1),
        case(
            "the documented list",
            Some("malware,secret,vuln:critical,config:high"),
            5,
        ),
        case("an empty list: only the engine failure", Some(""), 1),
        case(
            "kinds the image lacks",
            Some("pua,typosquat,integrity,suspicious"),
            0,
        )
        .allow_engine_failure()
        .passes()
        .warnings(ENGINE_ALLOWED),
        // allow-engine-failure: engine failures never block, whatever --fail-on names.
        case(
            "engine as a kind does not block when failures are allowed",
            Some("engine"),
            0,
        )
        .allow_engine_failure()
        .passes()
        .warnings(ENGINE_ALLOWED),
        case("allow-engine-failure", critical, 2)
            .allow_engine_failure()
            .warnings(ENGINE_ALLOWED),
        case("allow-engine-failure under --fail-on high", None, 4)
            .allow_engine_failure()
            .warnings(ENGINE_ALLOWED),
        case("allow-engine-failure from the file", Some("malware"), 1)
            .file("allow-engine-failure: true\n")
            .warnings(ENGINE_ALLOWED),
        // Ignore rules.
        case("ignore by id", critical, 2)
            .file("ignore:\n  - id: CVE-2023-4911\n    reason: not reachable\n")
            .suppressed(SUP_LIBC),
        case("ignore by alias", None, 4)
            .file("ignore:\n  - id: CVE-2024-1234\n    reason: admin site not deployed\n")
            .suppressed(SUP_DJANGO),
        case("ignore by purl glob", None, 4)
            .file("ignore:\n  - purl: \"pkg:pypi/django@*\"\n    reason: replaced at deploy\n")
            .suppressed(SUP_DJANGO),
        case("ignore by purl without qualifiers", None, 4)
            .file("ignore:\n  - purl: pkg:deb/debian/libc6@2.36-9%2Bdeb12u1\n    reason: r\n")
            .suppressed(SUP_LIBC),
        case("a purl glob for another package", None, 5)
            .file("ignore:\n  - purl: \"pkg:pypi/flask@*\"\n    reason: r\n"),
        case("ignore by path glob", Some("low"), 6)
            .file("ignore:\n  - path: \"usr/share/doc/**\"\n    reason: documentation\n")
            .suppressed(SUP_DOC),
        case("ignore by layer", Some("low"), 5)
            .file("ignore:\n  - layer: 0\n    reason: base image, tracked elsewhere\n")
            .suppressed(&[("CVE-2023-4911", "ignore"), ("generic-password", "ignore")]),
        case("combined keys: all hold", Some("low"), 6)
            .file(
                "ignore:\n  - path: usr/share/doc/**\n    id: generic-password\n    layer: 0\n    \
                 reason: sample\n",
            )
            .suppressed(SUP_DOC),
        case("combined keys: one fails", Some("low"), 7).file(
            "ignore:\n  - path: usr/share/doc/**\n    id: aws-access-key-id\n    reason: sample\n",
        ),
        case("an expired rule does not apply and warns", None, 4)
            .file(
                "ignore:\n  - id: aws-access-key-id\n    reason: r\n  - id: CVE-2023-4911\n    \
                 reason: not reachable\n    expires: 2026-01-31\n",
            )
            .suppressed(&[("aws-access-key-id", "ignore")])
            .warnings(&[
                "ignore rule 2 (CVE-2023-4911) expired on 2026-01-31 and no longer applies",
            ]),
        case("a rule applies on its expiry date", None, 4)
            .file("ignore:\n  - id: CVE-2023-4911\n    reason: r\n    expires: 2026-06-15\n")
            .suppressed(SUP_LIBC),
        case("a future expiry applies", None, 4)
            .file("ignore:\n  - id: CVE-2023-4911\n    reason: r\n    expires: \"2027-01-31\"\n")
            .suppressed(SUP_LIBC),
        // --ignore-unfixed.
        case("ignore-unfixed", None, 4)
            .ignore_unfixed()
            .suppressed(UNFIXED),
        case("ignore-unfixed from the file", None, 4)
            .file("ignore-unfixed: true\n")
            .suppressed(UNFIXED),
        case("an ignore rule before ignore-unfixed", None, 4)
            .ignore_unfixed()
            .file("ignore:\n  - id: DSA-5514-1\n    reason: r\n")
            .suppressed(SUP_LIBC),
        // The command line over the file.
        case("the file's fail-on", None, 3).file("fail-on: critical\n"),
        case("--fail-on overrides the file's", Some("malware"), 2).file("fail-on: info\n"),
        // OpenVEX.
        case("vex not_affected by alias", None, 4)
            .vex(one("CVE-2024-1234", DJANGO, "not_affected"))
            .suppressed(VEX_DJANGO),
        case("vex fixed by id", None, 4)
            .vex(one("PYSEC-2024-1", DJANGO, "fixed"))
            .suppressed(VEX_DJANGO),
        case("vex affected", None, 5).vex(one("CVE-2024-1234", DJANGO, "affected")),
        case("vex under_investigation", None, 5).vex(one(
            "CVE-2024-1234",
            DJANGO,
            "under_investigation",
        )),
        case("vex for another vulnerability", None, 5).vex(one(
            "CVE-2024-9999",
            DJANGO,
            "not_affected",
        )),
        case("vex for another version", None, 5).vex(one(
            "CVE-2024-1234",
            r#"[{"@id": "pkg:pypi/django@4.2.2"}]"#,
            "not_affected",
        )),
        case("vex product without version", None, 4)
            .vex(one(
                "CVE-2024-1234",
                r#"[{"@id": "pkg:pypi/django"}]"#,
                "not_affected",
            ))
            .suppressed(VEX_DJANGO),
        case("vex product by identifiers.purl", None, 4)
            .vex(one("CVE-2024-1234", BY_IDENTIFIER, "not_affected"))
            .suppressed(VEX_DJANGO),
        case("a later affected overrides not_affected", None, 5).vex(two(
            "CVE-2024-1234",
            "not_affected",
            "affected",
        )),
        case("a later not_affected overrides affected", None, 4)
            .vex(two("CVE-2024-1234", "affected", "not_affected"))
            .suppressed(VEX_DJANGO),
        case("at equal timestamps the later document wins", None, 5).vex(vec![
            vex_doc(&[statement("CVE-2024-1234", DJANGO, "not_affected", T1)]),
            vex_doc(&[statement("CVE-2024-1234", DJANGO, "affected", T1)]),
        ]),
        case("timestamps compare across time zones", None, 4)
            .vex(vec![vex_doc(&[
                statement(
                    "CVE-2024-1234",
                    DJANGO,
                    "not_affected",
                    "2026-02-01T05:00:00-06:00",
                ),
                statement("CVE-2024-1234", DJANGO, "affected", "2026-02-01T10:00:00Z"),
            ])])
            .suppressed(VEX_DJANGO),
        case("the image as product covers every package", critical, 2)
            .vex(one(
                "CVE-2023-4911",
                r#"[{"@id": "pkg:oci/example"}]"#,
                "not_affected",
            ))
            .suppressed(VEX_LIBC),
        case("the image by its digest", critical, 2)
            .vex(one(
                "CVE-2023-4911",
                &image_product(common::MANIFEST_DIGEST),
                "fixed",
            ))
            .suppressed(VEX_LIBC),
        case("another image's digest", critical, 3).vex(one(
            "CVE-2023-4911",
            &image_product("sha256:deadbeef"),
            "fixed",
        )),
        case(
            "the image by tag, with a matching subcomponent",
            critical,
            2,
        )
        .vex(one("CVE-2023-4911", LIBC6_SUB, "not_affected"))
        .suppressed(VEX_LIBC),
        case(
            "an image whose subcomponents are other packages",
            critical,
            3,
        )
        .vex(one("CVE-2023-4911", OTHER_SUB, "not_affected")),
        case("a v0.0.1 document", None, 4)
            .vex(vec![V001.to_string()])
            .suppressed(VEX_DJANGO),
        case("ignore rules, then VEX, then ignore-unfixed", None, 3)
            .ignore_unfixed()
            .file("ignore:\n  - id: CVE-2024-1234\n    reason: r\n")
            .vex(vec![vex_doc(&[
                statement("CVE-2024-1234", DJANGO, "not_affected", T1),
                statement("CVE-2023-4911", r#"["pkg:deb/debian/libc6"]"#, "fixed", T1),
            ])])
            .suppressed(&[("CVE-2023-4911", "vex"), ("PYSEC-2024-1", "ignore")]),
    ]
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn every_case_decides_as_documented() {
    let cases = cases();
    assert!(cases.len() >= 20);
    let mut failures = Vec::new();
    for case in &cases {
        let dir = tempfile::tempdir().unwrap();
        let file = case.file.map(|text| write(dir.path(), "policy.yaml", text));
        let mut vex = Vec::new();
        for (i, doc) in case.vex.iter().enumerate() {
            let name = format!("vex{i}.json");
            write(dir.path(), &name, doc);
            vex.push(PathBuf::from(name));
        }
        let cli = CliSettings {
            fail_on: case.fail_on.map(str::to_string),
            ignore_unfixed: case.ignore_unfixed,
            allow_engine_failure: case.allow_engine_failure,
        };
        let policy = Policy::load(file.as_deref(), &cli, &vex, dir.path())
            .unwrap_or_else(|err| panic!("{}: {err}", case.name));
        let mut report = common::report();
        let outcome = policy.apply(&mut report, today());
        let image = &report.images[0];
        let suppressed: Vec<(&str, &str)> = image
            .suppressed
            .iter()
            .map(|s| (s.finding.id.as_str(), s.by.as_str()))
            .collect();
        let got = (
            outcome.blocked,
            outcome.blocking,
            suppressed,
            outcome.warnings.clone(),
        );
        let want = (
            case.blocked,
            case.blocking,
            case.suppressed.to_vec(),
            case.warnings
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>(),
        );
        if got != want {
            failures.push(format!(
                "{}: got {got:?}, want {want:?}\n  {}",
                case.name, outcome.summary
            ));
        }
        // Suppressed findings are neither counted nor left among the findings.
        assert_eq!(
            image.findings.len() + image.suppressed.len(),
            7,
            "{}",
            case.name
        );
        let counted: usize = stowaway_findings::Severity::ALL
            .iter()
            .map(|s| image.counts.get(*s))
            .sum();
        assert_eq!(counted, image.findings.len(), "{}", case.name);
        assert_eq!(report.policy.as_ref(), Some(&outcome), "{}", case.name);
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}
