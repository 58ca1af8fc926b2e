//! SARIF 2.1.0 (OASIS), for code-scanning dashboards (GitHub code scanning) and Jenkins' Warnings
//! NG: one run of the `stowaway` driver.
//!
//! - `rules`: one per distinct finding id, sorted by id, with `security-severity` (the number
//!   GitHub ranks by) from the most severe finding of that id, and osv.dev as the help of an
//!   advisory.
//! - `results`: every finding of every image, then every suppressed one with an `external`
//!   suppression saying what suppressed it. `level` follows the finding's severity.
//! - Locations: an image has no source tree, so a file's URI is `layer-<n>/<path>`, relative,
//!   each byte outside URI-unreserved characters percent-encoded; an archive member is appended
//!   as `!/<member>` (each nested member too), the `jar:` convention; a `!` in the file's path is
//!   `%21`, so `!/` always separates. An image-wide finding is located at `image/<image name>`
//!   (GitHub rejects results without a location).
//! - `partialFingerprints["stowaway/v1"]`: the finding's stable identity (crate::fingerprint).
//! - `run.properties.policy`: what the policy decided, as the JSON report says it.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use stowaway_findings::{Finding, ImageReport, Kind, Location, Report, Severity};

use crate::fingerprint::{encode, fingerprint, osv_url};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// SARIF's `level` of a severity.
fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The CVSS-like score GitHub reads from `properties["security-severity"]`: critical over 9.0,
/// high 7.0–8.9, medium 4.0–6.9, low 0.1–3.9.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "2.0",
        Severity::Info => "0.0",
    }
}

/// The URI of a file of the image (see the module's documentation).
fn file_uri(location: &Location) -> String {
    let mut uri = format!("layer-{}/{}", location.layer, encode(&location.path, true));
    if let Some(member) = &location.member {
        for level in member.split('!') {
            uri.push_str("!/");
            uri.push_str(&encode(level, true));
        }
    }
    uri
}

fn physical_location(image: &ImageReport, finding: &Finding) -> Value {
    match &finding.location {
        Some(location) => {
            let mut physical = json!({ "artifactLocation": { "uri": file_uri(location) } });
            if let Some(line) = location.line.filter(|&line| line > 0) {
                physical["region"] = json!({ "startLine": line });
            }
            physical
        }
        None => json!({
            "artifactLocation": { "uri": format!("image/{}", encode(&image.name, false)) },
        }),
    }
}

/// Title, then what matched (already redacted) and, for an advisory, the package and its fix.
fn message(finding: &Finding) -> String {
    let mut text = finding.title.clone();
    if let Some(evidence) = &finding.evidence {
        text.push_str("\nEvidence: ");
        text.push_str(evidence);
    }
    if let Some(vulnerability) = &finding.vulnerability {
        text.push_str(&format!(
            "\nInstalled: {} {}",
            vulnerability.package, vulnerability.installed_version
        ));
        if vulnerability.fixed_versions.is_empty() {
            text.push_str("; no fixed version");
        } else {
            text.push_str(&format!(
                "; fixed in {}",
                vulnerability.fixed_versions.join(", ")
            ));
        }
    }
    text
}

struct Rule<'a> {
    first: &'a Finding,
    severity: Severity,
}

fn rule(id: &str, rule: &Rule<'_>) -> Value {
    let finding = rule.first;
    let mut full = format!(
        "{} ({} finding, {})",
        finding.title, finding.kind, finding.engine
    );
    if let Some(vulnerability) = &finding.vulnerability {
        if !vulnerability.aliases.is_empty() {
            full.push_str(&format!(". Aliases: {}", vulnerability.aliases.join(", ")));
        }
        full.push_str(&format!(
            ". Severity from: {}",
            vulnerability.severity_source
        ));
    }
    let mut value = json!({
        "id": id,
        "name": id,
        "shortDescription": { "text": finding.title },
        "fullDescription": { "text": full },
        "defaultConfiguration": { "level": level(rule.severity) },
        "properties": {
            "tags": [finding.kind.as_str()],
            "security-severity": security_severity(rule.severity),
        },
    });
    if finding.kind == Kind::Vuln {
        value["helpUri"] = json!(osv_url(id));
    }
    value
}

fn result(
    report: &Report,
    image: &ImageReport,
    finding: &Finding,
    rule_index: usize,
    suppression: Option<Value>,
) -> Value {
    let mut properties = json!({
        "image": image.name,
        "kind": finding.kind.as_str(),
        "severity": finding.severity.as_str(),
        "engine": finding.engine,
        "blocking": suppression.is_none() && report.is_blocking(finding),
    });
    if let Some(location) = &finding.location {
        properties["layer"] = json!(location.layer);
        properties["status"] = json!(location.status.to_string());
        if let Some(digest) = &location.layer_digest {
            properties["layerDigest"] = json!(digest);
        }
        if let Some(created_by) = &location.created_by {
            properties["createdBy"] = json!(created_by);
        }
    }
    if let Some(vulnerability) = &finding.vulnerability {
        properties["purl"] = json!(vulnerability.purl);
        properties["fixedVersions"] = json!(vulnerability.fixed_versions);
    }
    let mut value = json!({
        "ruleId": finding.id,
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": { "text": message(finding) },
        "locations": [{ "physicalLocation": physical_location(image, finding) }],
        "partialFingerprints": { "stowaway/v1": fingerprint(image, finding) },
        "properties": properties,
    });
    if let Some(suppression) = suppression {
        value["suppressions"] = json!([suppression]);
    }
    value
}

/// Writes the SARIF log of the whole report, pretty-printed, ending with a newline.
pub fn write_sarif(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let every = report.images.iter().flat_map(|image| {
        image
            .findings
            .iter()
            .chain(image.suppressed.iter().map(|s| &s.finding))
    });
    let mut rules: BTreeMap<&str, Rule<'_>> = BTreeMap::new();
    for finding in every {
        rules
            .entry(&finding.id)
            .and_modify(|rule| rule.severity = rule.severity.max(finding.severity))
            .or_insert(Rule {
                first: finding,
                severity: finding.severity,
            });
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, id)| (*id, i)).collect();
    let rule_index = |finding: &Finding| index.get(finding.id.as_str()).copied().unwrap_or(0);

    let mut results = Vec::new();
    for image in &report.images {
        for finding in &image.findings {
            results.push(result(report, image, finding, rule_index(finding), None));
        }
        for suppressed in &image.suppressed {
            let suppression = json!({
                "kind": "external",
                "status": "accepted",
                "justification": format!("{}: {}", suppressed.by, suppressed.reason),
            });
            results.push(result(
                report,
                image,
                &suppressed.finding,
                rule_index(&suppressed.finding),
                Some(suppression),
            ));
        }
    }

    let mut run = json!({
        "tool": {
            "driver": {
                "name": report.tool.name,
                "version": report.tool.version,
                "rules": rules.iter().map(|(id, r)| rule(id, r)).collect::<Vec<_>>(),
            }
        },
        "results": results,
        "properties": {
            "input": report.input,
            "images": report.images.iter().map(|image| image.name.as_str()).collect::<Vec<_>>(),
        },
    });
    if let Some(policy) = &report.policy {
        run["properties"]["policy"] = json!({
            "failOn": policy.fail_on,
            "engineFailuresBlock": policy.engine_failures_block,
            "blocked": policy.blocked,
            "blocking": policy.blocking,
            "summary": policy.summary,
            "warnings": policy.warnings,
        });
    }
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [run],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    out.write_all(b"\n")
}
