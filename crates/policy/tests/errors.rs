//! A policy that cannot be read is an error (exit code 2) naming the file and what is wrong,
//! never a silently weaker gate.

use std::path::PathBuf;

use stowaway_policy::{CliSettings, Policy};

/// (what, policy file text, the error's text after the file's path).
const FILE_ERRORS: &[(&str, &str, &str)] = &[
    (
        "missing reason",
        "ignore:\n  - id: CVE-2023-4911\n",
        ": ignore rule 1: `reason` is required: say why the finding is acceptable",
    ),
    (
        "blank reason",
        "ignore:\n  - id: a\n    reason: x\n  - id: CVE-2023-4911\n    reason: \"  \"\n",
        ": ignore rule 2: `reason` is required: say why the finding is acceptable",
    ),
    (
        "rule without a condition",
        "ignore:\n  - reason: everything is fine\n",
        ": ignore rule 1: has none of `id`, `purl`, `path`, `layer`: it would ignore everything",
    ),
    (
        "empty id is no condition",
        "ignore:\n  - id: \"\"\n    reason: r\n",
        ": ignore rule 1: has none of `id`, `purl`, `path`, `layer`: it would ignore everything",
    ),
    (
        "bad date",
        "ignore:\n  - id: a\n    reason: r\n    expires: 2027-02-30\n",
        ": ignore rule 1: expires: '2027-02-30' is not a date (YYYY-MM-DD)",
    ),
    (
        "date in another format",
        "ignore:\n  - id: a\n    reason: r\n    expires: 31/01/2027\n",
        ": ignore rule 1: expires: '31/01/2027' is not a date (YYYY-MM-DD)",
    ),
    (
        "unknown top-level field",
        "fail_on: high\n",
        ": unknown field `fail_on`, expected one of `fail-on`, `ignore-unfixed`, \
         `allow-engine-failure`, `vex`, `ignore`",
    ),
    (
        "unknown rule field",
        "ignore:\n  - id: a\n    reason: r\n    until: 2027-01-01\n",
        ": ignore[0]: unknown field `until`, expected one of `id`, `purl`, `path`, `layer`, \
         `reason`, `expires` at line 4 column 5",
    ),
    (
        "bad fail-on",
        "fail-on: high,bogus\n",
        ": fail-on: 'bogus' is not a severity",
    ),
    (
        "purl that is not a purl",
        "ignore:\n  - purl: django@*\n    reason: r\n",
        ": ignore rule 1: purl: 'django@*' is not a package URL glob (pkg:TYPE/NAME@VERSION)",
    ),
    (
        "bad glob",
        "ignore:\n  - path: \"usr/[doc\"\n    reason: r\n",
        ": ignore rule 1: path: error parsing glob 'usr/[doc': unclosed character class",
    ),
    (
        "layer that is not a number",
        "ignore:\n  - layer: base\n    reason: r\n",
        ": ignore[0].layer: invalid type: string \"base\", expected usize",
    ),
    (
        "missing VEX document",
        "vex: [missing.openvex.json]\n",
        "cannot read ",
    ),
];

#[test]
fn policy_file_errors_name_the_file_and_the_problem() {
    let mut failures = Vec::new();
    for (what, text, want) in FILE_ERRORS {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stowaway.yaml");
        std::fs::write(&path, text).unwrap();
        let err = Policy::load(Some(&path), &CliSettings::default(), &[], dir.path())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        let named = err.starts_with(&format!("policy file {}", path.display()))
            || err.starts_with("cannot read ");
        if !named || !err.contains(want) {
            failures.push(format!("{what}: {err}\n  want: {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// (what, VEX document, the error's text after `VEX document PATH: `).
const VEX_ERRORS: &[(&str, &str, &str)] = &[
    (
        "not JSON",
        "{",
        "not JSON: EOF while parsing an object at line 1 column 1",
    ),
    ("not an object", "[]", "not a JSON object"),
    (
        "not OpenVEX",
        r#"{"@context": "https://cyclonedx.org", "statements": []}"#,
        "`@context` is \"https://cyclonedx.org\", not https://openvex.dev/ns/v0.2.0 \
         (or https://openvex.dev/ns)",
    ),
    (
        "no statements",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0"}"#,
        "`statements` is missing or not a list",
    ),
    (
        "unknown status",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": {"name": "CVE-1"}, "products": ["pkg:pypi/a"], "status": "ok"}]}"#,
        "statement 1: `status` is \"ok\", not one of not_affected, affected, fixed, \
         under_investigation",
    ),
    (
        "no vulnerability",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"products": ["pkg:pypi/a"], "status": "fixed"}]}"#,
        "statement 1: `vulnerability` is missing (a name or an object with `name`)",
    ),
    (
        "no products",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": {"name": "CVE-1"}, "products": ["pkg:pypi/a"], "status": "fixed"},
            {"vulnerability": {"name": "CVE-1"}, "status": "fixed"}]}"#,
        "statement 2: `products` is missing or empty",
    ),
    (
        "bad timestamp",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "timestamp": "yesterday",
            "statements": []}"#,
        "document `timestamp` 'yesterday' is not an RFC 3339 time",
    ),
    (
        "product without an id",
        r#"{"@context": "https://openvex.dev/ns/v0.2.0", "statements": [
            {"vulnerability": {"name": "CVE-1"}, "products": [{"name": "a"}],
             "status": "fixed"}]}"#,
        "statement 1: an entry of `products` has neither `@id` nor `identifiers.purl`",
    ),
];

#[test]
fn vex_errors_name_the_document_and_the_problem() {
    let mut failures = Vec::new();
    for (what, text, want) in VEX_ERRORS {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.openvex.json"), text).unwrap();
        let vex = [PathBuf::from("bad.openvex.json")];
        let err = Policy::load(None, &CliSettings::default(), &vex, dir.path())
            .map(|_| ())
            .unwrap_err()
            .to_string();
        let prefix = format!("VEX document {}: ", dir.path().join(&vex[0]).display());
        if err != format!("{prefix}{want}") {
            failures.push(format!("{what}: {err}\n  want: {prefix}{want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn command_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cli = CliSettings {
        fail_on: Some("vuln:extreme".into()),
        ..CliSettings::default()
    };
    let err = Policy::load(None, &cli, &[], dir.path())
        .map(|_| ())
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("--fail-on: 'vuln:extreme' is not a severity"),
        "{err}"
    );
    let missing = Policy::load(
        Some(&dir.path().join("nope.yaml")),
        &CliSettings::default(),
        &[],
        dir.path(),
    )
    .map(|_| ())
    .unwrap_err();
    assert!(
        missing.to_string().starts_with(&format!(
            "cannot read {}",
            dir.path().join("nope.yaml").display()
        )),
        "{missing}"
    );
}
