//! The CI formats (SARIF, JUnit, GitLab) and the CycloneDX VEX of one report built in code, with
//! findings of every sort: validated by the formats' own reference material where there is one
//! (the official SARIF 2.1.0 schema, a real JUnit consumer and xmllint, the CycloneDX 1.6 schema),
//! and checked field by field.
//!
//! Validators missing: the test says `skipped: ...`, and fails when `STOWAWAY_SBOM_VALIDATORS` is
//! set (scripts/with-test-deps installs them and sets it).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod common;

use common::*;
use serde_json::Value;

fn render(write: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out).unwrap();
    out
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// Says a validation was skipped, or fails when the validators are expected.
fn skipped(what: &str, why: &str) {
    if std::env::var_os("STOWAWAY_SBOM_VALIDATORS").is_some() {
        panic!(
            "{what}: {why} (STOWAWAY_SBOM_VALIDATORS is set: scripts/with-test-deps installs it)"
        );
    }
    eprintln!("skipped: {what}: {why}; scripts/with-test-deps installs it");
}

/// Runs a Python script with `input` on its standard input; `None` (after saying so) when Python
/// or one of `modules` is missing.
fn python(what: &str, modules: &str, script: &str, args: &[&str], input: &[u8]) -> Option<Output> {
    let probe = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output();
    if !probe.is_ok_and(|out| out.status.success()) {
        skipped(what, &format!("python3 with {modules} not found"));
        return None;
    }
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    Some(child.wait_with_output().unwrap())
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const SARIF_VALIDATE: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
document = json.load(sys.stdin)
# Every format jsonschema knows, `uri-reference` included (draft 4's own checker has none).
validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
errors = sorted(validator.iter_errors(document), key=str)
if errors:
    sys.exit("; ".join("/".join(map(str, e.absolute_path)) + ": " + e.message for e in errors[:10]))
"#;

#[test]
fn sarif_is_valid_and_says_what_was_found() {
    let report = report();
    let out = render(|out| stowaway_report::write_sarif(&report, out));
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif-schema-2.1.0.json");
    // rfc3987 lets jsonschema check the `uri` and `uri-reference` formats.
    if let Some(result) = python(
        "SARIF 2.1.0 schema validation",
        "jsonschema, rfc3987",
        SARIF_VALIDATE,
        &[schema.to_str().unwrap()],
        &out,
    ) {
        assert!(
            result.status.success(),
            "invalid SARIF: {}",
            text(&result.stderr)
        );
    }

    let log = json(&out);
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "stowaway");
    assert_eq!(driver["version"], "0.1.0");
    let rules = driver["rules"].as_array().unwrap();
    let rule_ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        rule_ids,
        [
            "CVE-2023-45853",
            "CVE-2024-5535",
            "GHSA-j8r2-6x86-q33q",
            "STW-CONFIG-NO-HEALTHCHECK",
            "STW-CONFIG-ROOT",
            "STW-ENGINE-TIMEOUT",
            "STW-MAL-XMRIG",
            "STW-PUA-NMAP",
            "STW-SECRET-AWS-KEY",
        ]
    );
    let ghsa = &rules[2];
    assert_eq!(
        ghsa["helpUri"],
        "https://osv.dev/vulnerability/GHSA-j8r2-6x86-q33q"
    );
    assert_eq!(ghsa["properties"]["security-severity"], "8.0");
    assert_eq!(ghsa["properties"]["tags"], serde_json::json!(["vuln"]));
    assert!(
        ghsa["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .contains("CVE-2023-32681")
    );
    assert_eq!(rules[6]["properties"]["security-severity"], "9.5");
    assert!(rules[6].get("helpUri").is_none());

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 9);
    let by_rule = |id: &str| {
        results
            .iter()
            .find(|r| r["ruleId"] == id)
            .unwrap_or_else(|| panic!("no result for {id}"))
    };
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert_eq!(
            result["partialFingerprints"]["stowaway/v1"]
                .as_str()
                .unwrap()
                .len(),
            64
        );
    }
    let levels: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["ruleId"].as_str().unwrap(), r["level"].as_str().unwrap()))
        .collect();
    assert_eq!(
        levels,
        [
            ("STW-MAL-XMRIG", "error"),
            ("GHSA-j8r2-6x86-q33q", "error"),
            ("STW-SECRET-AWS-KEY", "error"),
            ("STW-CONFIG-ROOT", "warning"),
            ("CVE-2024-5535", "warning"),
            ("STW-PUA-NMAP", "note"),
            ("STW-ENGINE-TIMEOUT", "note"),
            ("CVE-2023-45853", "error"),
            ("STW-CONFIG-NO-HEALTHCHECK", "note"),
        ]
    );
    let uri = |r: &Value| {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let secret = by_rule("STW-SECRET-AWS-KEY");
    assert_eq!(uri(secret), "layer-2/app/.env");
    assert_eq!(
        secret["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(
        secret["message"]["text"],
        "AWS access key id\nEvidence: AKIA************MPLE"
    );
    assert_eq!(secret["properties"]["blocking"], true);
    assert_eq!(
        uri(by_rule("STW-PUA-NMAP")),
        "layer-2/opt/app%211/lib.war!/WEB-INF/lib/x%20y.jar!/com/A.class"
    );
    assert_eq!(
        uri(by_rule("STW-CONFIG-ROOT")),
        "image/registry.example%3A5000%2Fapp%3A1.2"
    );
    assert!(
        by_rule("STW-CONFIG-ROOT")["locations"][0]["physicalLocation"]
            .get("region")
            .is_none()
    );
    assert_eq!(
        by_rule("STW-ENGINE-TIMEOUT")["properties"]["blocking"],
        true
    );
    assert_eq!(by_rule("STW-PUA-NMAP")["properties"]["blocking"], false);
    assert!(
        by_rule("GHSA-j8r2-6x86-q33q")["message"]["text"]
            .as_str()
            .unwrap()
            .contains("Installed: requests 2.19.0; fixed in 2.31.0")
    );

    let suppressed = by_rule("CVE-2023-45853");
    assert_eq!(suppressed["suppressions"][0]["kind"], "external");
    assert_eq!(
        suppressed["suppressions"][0]["justification"],
        "vex: not_affected (vulnerable_code_not_in_execute_path) by vex/zlib.openvex.json"
    );
    assert_eq!(suppressed["properties"]["blocking"], false);
    assert!(by_rule("STW-MAL-XMRIG").get("suppressions").is_none());

    let policy = &run["properties"]["policy"];
    assert_eq!(policy["blocked"], true);
    assert_eq!(policy["blocking"], 4);
    assert_eq!(policy["failOn"], "high");

    // A new tag of the same image keeps every fingerprint; a rebuilt layer changes its files'.
    let fingerprints = |log: &Value| -> Vec<Value> {
        log["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"]["stowaway/v1"].clone())
            .collect()
    };
    let mut retagged = report.clone();
    retagged.images[0].name = "registry.example:5000/app:1.3".to_string();
    let retagged = json(&render(|out| stowaway_report::write_sarif(&retagged, out)));
    assert_eq!(fingerprints(&retagged), fingerprints(&log));
    let mut rebuilt = report.clone();
    for finding in &mut rebuilt.images[0].findings {
        if let Some(location) = finding.location.as_mut().filter(|l| l.layer == 2) {
            location.layer_digest = Some(LAYER1.to_string());
        }
    }
    let rebuilt = json(&render(|out| stowaway_report::write_sarif(&rebuilt, out)));
    let changed: Vec<bool> = fingerprints(&rebuilt)
        .iter()
        .zip(fingerprints(&log))
        .map(|(a, b)| *a != b)
        .collect();
    assert_eq!(
        changed,
        [true, false, true, false, false, true, false, false, false]
    );
}

const JUNIT_READ: &str = r#"
import json, sys
from junitparser import JUnitXml
xml = JUnitXml.fromstring(sys.stdin.buffer.read())
suites = []
for suite in xml:
    cases = []
    for case in suite:
        cases.append({
            "classname": case.classname,
            "name": case.name,
            "results": [[type(r).__name__, r.message, r.type] for r in case.result],
            "system_out": case.system_out,
        })
    suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                   "skipped": suite.skipped, "errors": suite.errors, "cases": cases})
print(json.dumps({"tests": xml.tests, "failures": xml.failures, "skipped": xml.skipped,
                  "errors": xml.errors, "suites": suites}))
"#;

#[test]
fn junit_is_read_by_a_real_consumer() {
    let report = report();
    let out = render(|out| stowaway_report::write_junit(&report, out));
    let xml = text(&out);
    assert!(!xml.contains('\u{1b}'), "{xml}");

    match Command::new("xmllint")
        .args(["--noout", "-"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    {
        Ok(mut child) => {
            child.stdin.take().unwrap().write_all(&out).unwrap();
            let result = child.wait_with_output().unwrap();
            assert!(
                result.status.success(),
                "xmllint: {}\n{xml}",
                text(&result.stderr)
            );
        }
        Err(_) => skipped("xmllint --noout", "xmllint (libxml2-utils) not found"),
    }

    let Some(result) = python(
        "JUnit parsing with junitparser",
        "junitparser",
        JUNIT_READ,
        &[],
        &out,
    ) else {
        return;
    };
    assert!(
        result.status.success(),
        "junitparser: {}\n{xml}",
        text(&result.stderr)
    );
    let parsed = json(&result.stdout);
    assert_eq!(parsed["tests"], 10);
    assert_eq!(parsed["failures"], 5);
    assert_eq!(parsed["skipped"], 2);
    assert_eq!(parsed["errors"], 0);
    let suites = parsed["suites"].as_array().unwrap();
    assert_eq!(suites.len(), 2);
    let image = &suites[0];
    assert_eq!(image["name"], "registry.example:5000/app:1.2");
    assert_eq!(
        (
            &image["tests"],
            &image["failures"],
            &image["skipped"],
            &image["errors"]
        ),
        (
            &Value::from(9),
            &Value::from(4),
            &Value::from(2),
            &Value::from(0)
        )
    );
    let cases = image["cases"].as_array().unwrap();
    // The counts agree with the cases.
    let with = |kind: &str| {
        cases
            .iter()
            .filter(|c| {
                c["results"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r[0] == kind)
            })
            .count()
    };
    assert_eq!((with("Failure"), with("Skipped")), (4, 2));

    let case = |name: &str| {
        cases
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no case {name}: {cases:?}"))
    };
    let malware = case("STW-MAL-XMRIG layer-2/usr/local/bin/xmrig");
    assert_eq!(malware["classname"], "stowaway.malware");
    assert_eq!(
        malware["results"],
        serde_json::json!([["Failure", "XMRig cryptominer", "critical"]])
    );
    let secret = case("STW-SECRET-AWS-KEY layer-2/app/.env:3");
    assert_eq!(secret["results"][0][2], "high");
    assert_eq!(
        case("STW-ENGINE-TIMEOUT layer-0/usr/share/big.bin")["results"][0][0],
        "Failure"
    );
    let pua = case("STW-PUA-NMAP layer-2/opt/app!1/lib.war!WEB-INF/lib/x y.jar!com/A.class");
    assert_eq!(pua["results"], serde_json::json!([]));
    assert!(
        pua["system_out"]
            .as_str()
            .unwrap()
            .starts_with("Hacking tool <nmap> & \"friends\"\\u{1b}[2J\n")
    );
    let config = case("STW-CONFIG-ROOT Container runs as root");
    assert_eq!(config["classname"], "stowaway.config");
    assert_eq!(config["results"], serde_json::json!([]));
    let vex = case("CVE-2023-45853 layer-1/var/lib/dpkg/status");
    assert_eq!(
        vex["results"],
        serde_json::json!([[
            "Skipped",
            "suppressed (vex): not_affected (vulnerable_code_not_in_execute_path) by vex/zlib.openvex.json",
            null
        ]])
    );

    let policy = &suites[1];
    assert_eq!(policy["tests"], 1);
    assert_eq!(policy["failures"], 1);
    let case = &policy["cases"][0];
    assert_eq!(case["classname"], "stowaway.policy");
    assert_eq!(
        case["results"],
        serde_json::json!([[
            "Failure",
            "4 finding(s) block under --fail-on high",
            "policy"
        ]])
    );

    // Without a blocking policy, nothing fails and the policy case passes.
    let mut lenient = report.clone();
    lenient.policy = None;
    let xml = text(&render(|out| stowaway_report::write_junit(&lenient, out)));
    assert!(!xml.contains("<failure"), "{xml}");
    assert!(xml.contains("<testsuites name=\"stowaway\" tests=\"10\" failures=\"0\" errors=\"0\" skipped=\"2\" time=\"0\">"), "{xml}");
}

#[test]
fn gitlab_report_has_the_schema_fields() {
    let report = report();
    let out = render(|out| stowaway_report::write_gitlab(&report, "2024-05-01T12:00:00Z", out));
    let document = json(&out);
    assert_eq!(document["version"], "15.0.7");
    let scan = &document["scan"];
    for component in [&scan["analyzer"], &scan["scanner"]] {
        assert_eq!(component["id"], "stowaway");
        assert_eq!(component["version"], "0.1.0");
        assert_eq!(component["vendor"]["name"], "Stowaway");
    }
    assert_eq!(scan["type"], "container_scanning");
    assert_eq!(scan["status"], "success");
    assert_eq!(scan["start_time"], "2024-05-01T12:00:00");
    assert_eq!(scan["end_time"], "2024-05-01T12:00:00");
    assert_eq!(
        scan["messages"][0]["value"],
        "2 suppressed finding(s) are not listed: see stowaway's JSON report"
    );
    assert_eq!(scan["messages"][1]["level"], "warn");

    let vulnerabilities = document["vulnerabilities"].as_array().unwrap();
    assert_eq!(vulnerabilities.len(), 7);
    let mut ids = std::collections::BTreeSet::new();
    for v in vulnerabilities {
        let id = v["id"].as_str().unwrap();
        assert_eq!(id.len(), 36, "{id}");
        assert!(ids.insert(id), "duplicate id {id}");
        assert!(!v["identifiers"].as_array().unwrap().is_empty());
        for identifier in v["identifiers"].as_array().unwrap() {
            for field in ["type", "name", "value"] {
                assert!(!identifier[field].as_str().unwrap().is_empty());
            }
        }
        let location = &v["location"];
        assert!(location["dependency"]["package"]["name"].is_string());
        assert!(location["dependency"]["version"].is_string());
        assert_eq!(location["operating_system"], "debian 12");
        assert_eq!(location["image"], "registry.example:5000/app:1.2");
        assert!(
            ["Critical", "High", "Medium", "Low", "Info"]
                .contains(&v["severity"].as_str().unwrap())
        );
    }
    let by_name = |name: &str| {
        vulnerabilities
            .iter()
            .find(|v| v["name"] == name)
            .unwrap_or_else(|| panic!("no {name}"))
    };
    let ghsa = by_name("GHSA-j8r2-6x86-q33q in requests");
    assert_eq!(ghsa["severity"], "High");
    assert_eq!(ghsa["solution"], "Upgrade requests to 2.31.0");
    assert_eq!(
        ghsa["identifiers"],
        serde_json::json!([
            { "type": "ghsa", "name": "GHSA-j8r2-6x86-q33q", "value": "GHSA-j8r2-6x86-q33q", "url": "https://github.com/advisories/GHSA-j8r2-6x86-q33q" },
            { "type": "cve", "name": "CVE-2023-32681", "value": "CVE-2023-32681", "url": "https://nvd.nist.gov/vuln/detail/CVE-2023-32681" },
            { "type": "osv", "name": "PYSEC-2023-74", "value": "PYSEC-2023-74", "url": "https://osv.dev/vulnerability/PYSEC-2023-74" },
        ])
    );
    assert_eq!(
        ghsa["location"]["dependency"],
        serde_json::json!({ "package": { "name": "requests" }, "version": "2.19.0" })
    );
    let openssl = by_name("CVE-2024-5535 in openssl");
    assert!(openssl.get("solution").is_none());
    let malware = by_name("XMRig cryptominer");
    assert_eq!(malware["severity"], "Critical");
    assert_eq!(
        malware["identifiers"],
        serde_json::json!([{ "type": "stowaway", "name": "STW-MAL-XMRIG", "value": "STW-MAL-XMRIG" }])
    );
    assert_eq!(
        malware["location"]["dependency"]["package"]["name"],
        "layer-2/usr/local/bin/xmrig"
    );
    assert_eq!(malware["location"]["dependency"]["version"], LAYER2);
    let secret = by_name("AWS access key id");
    assert!(
        secret["description"]
            .as_str()
            .unwrap()
            .contains("AKIA************MPLE")
    );
    let config = by_name("Container runs as root");
    assert_eq!(
        config["location"]["dependency"]["package"]["name"],
        "image configuration"
    );

    assert!(stowaway_report::write_gitlab(&report, "not a time", &mut Vec::new()).is_err());
}

#[test]
fn cyclonedx_vex_is_valid_and_carries_the_analysis() {
    let report = report();
    let image = &report.images[0];
    let out = render(|out| {
        stowaway_report::write_cyclonedx_vex(image, &report.tool, "2024-05-01T12:00:00Z", out)
    });
    let document = json(&out);

    if std::env::var_os("STOWAWAY_SBOM_VALIDATORS").is_some()
        || Command::new("python3")
            .args(["-c", "import cyclonedx.validation.json"])
            .output()
            .is_ok_and(|o| o.status.success())
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vex.cdx.json");
        std::fs::write(&path, &out).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-sbom");
        let result = Command::new("python3")
            .arg(script)
            .arg("cyclonedx")
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            result.status.success(),
            "invalid CycloneDX: {}",
            text(&result.stderr)
        );
    } else {
        skipped("CycloneDX 1.6 validation", "cyclonedx-python-lib not found");
    }

    let components = document["components"].as_array().unwrap();
    let bom_ref = |name: &str| {
        components
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| c["bom-ref"].clone())
            .unwrap()
    };
    assert_eq!(components.len(), 3, "the removed package is not installed");
    let vulnerabilities = document["vulnerabilities"].as_array().unwrap();
    let ids: Vec<&str> = vulnerabilities
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["CVE-2023-45853", "CVE-2024-5535", "GHSA-j8r2-6x86-q33q"]
    );

    let zlib = &vulnerabilities[0];
    assert_eq!(
        zlib["analysis"],
        serde_json::json!({
            "state": "not_affected",
            "justification": "code_not_reachable",
            "detail": "suppressed by vex: not_affected (vulnerable_code_not_in_execute_path) by vex/zlib.openvex.json",
        })
    );
    assert_eq!(zlib["affects"][0]["ref"], bom_ref("zlib1g"));
    assert_eq!(zlib["affects"][0]["versions"][0]["status"], "unaffected");
    assert_eq!(
        zlib["ratings"],
        serde_json::json!([{ "severity": "critical", "method": "other", "justification": "debian: unimportant" }])
    );

    let openssl = &vulnerabilities[1];
    assert_eq!(
        openssl["ratings"],
        serde_json::json!([{
            "score": 6.3,
            "severity": "medium",
            "method": "CVSSv4",
            "vector": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:L/SC:N/SI:N/SA:N",
        }])
    );
    assert!(openssl.get("analysis").is_none());
    assert!(openssl.get("recommendation").is_none());

    let ghsa = &vulnerabilities[2];
    assert_eq!(
        ghsa["source"]["url"],
        "https://osv.dev/vulnerability/GHSA-j8r2-6x86-q33q"
    );
    assert_eq!(ghsa["ratings"][0]["method"], "CVSSv31");
    assert_eq!(ghsa["ratings"][0]["score"], 8.1);
    assert_eq!(ghsa["affects"][0]["ref"], bom_ref("requests"));
    assert_eq!(ghsa["affects"][0]["versions"][0]["status"], "affected");
    assert_eq!(ghsa["recommendation"], "Upgrade requests to 2.31.0");
    assert_eq!(ghsa["references"][0]["id"], "CVE-2023-32681");
    assert_eq!(ghsa["references"][1]["source"]["name"], "OSV");

    // The plain SBOM has no vulnerabilities.
    let plain = json(&render(|out| {
        stowaway_report::write_cyclonedx(image, &report.tool, "2024-05-01T12:00:00Z", out)
    }));
    assert!(plain.get("vulnerabilities").is_none());
}
