//! CycloneDX 1.6 JSON: the image as the `container` component, every installed package as a
//! `library` with its PURL, licenses, and where it was found (layer, path) as properties; with
//! [`write_cyclonedx_vex`], also the advisories the packages match, as `vulnerabilities` with
//! their VEX analysis.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::{Value, json};
use stowaway_findings::{Finding, ImageReport, Kind, Package, Suppressed, Tool};

use crate::fingerprint::{advisory, osv_url};
use crate::sbom::{document_uuid, installed, is_spdx_expression};

fn licenses(package: &Package) -> Value {
    let entries: Vec<Value> = package
        .licenses
        .iter()
        .map(|license| {
            if is_spdx_expression(license) && license.contains(' ') {
                json!({ "expression": license })
            } else {
                json!({ "license": { "name": license } })
            }
        })
        .collect();
    // The schema allows several named licenses, or exactly one expression.
    if entries.iter().any(|e| e.get("expression").is_some()) && entries.len() > 1 {
        let named: Vec<Value> = package
            .licenses
            .iter()
            .map(|license| json!({ "license": { "name": license } }))
            .collect();
        return Value::Array(named);
    }
    Value::Array(entries)
}

fn component(index: usize, package: &Package) -> Value {
    let mut component = json!({
        "type": "library",
        "bom-ref": format!("pkg-{index}"),
        "name": package.name,
        "version": package.version,
        "purl": package.purl,
    });
    if let Some(group) = &package.group {
        component["group"] = json!(group);
    }
    if !package.licenses.is_empty() {
        component["licenses"] = licenses(package);
    }
    let mut properties =
        vec![json!({ "name": "stowaway:package:type", "value": package.package_type.as_str() })];
    if let Some(location) = &package.location {
        properties.push(
            json!({ "name": "stowaway:location:layer", "value": location.layer.to_string() }),
        );
        if let Some(digest) = &location.layer_digest {
            properties.push(json!({ "name": "stowaway:location:layer-digest", "value": digest }));
        }
        properties
            .push(json!({ "name": "stowaway:location:path", "value": location.display_path() }));
    }
    if let Some(source) = &package.source {
        properties.push(json!({ "name": "stowaway:source-package", "value": source.name }));
    }
    if let Some(owner) = &package.owner {
        properties.push(json!({ "name": "stowaway:owned-by", "value": owner }));
    }
    component["properties"] = Value::Array(properties);
    component
}

/// Writes the CycloneDX document of one image; `timestamp` is RFC 3339.
pub fn write_cyclonedx(
    image: &ImageReport,
    tool: &Tool,
    timestamp: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    write_document(&document(image, tool, timestamp), out)
}

/// Writes the CycloneDX document of one image with its advisories as `vulnerabilities`: the
/// SBOM and its VEX in one: one entry per advisory and analysis, VEX statuses and justifications
/// mapped as `STATES` and `JUSTIFICATIONS` say.
pub fn write_cyclonedx_vex(
    image: &ImageReport,
    tool: &Tool,
    timestamp: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut document = document(image, tool, timestamp);
    document["vulnerabilities"] = Value::Array(vulnerabilities(image));
    write_document(&document, out)
}

/// The bom-refs of the installed packages (`pkg-<n>`, numbered from 1 in the order of
/// [`installed`]) by PURL, and by name and version for a package without one.
fn bom_refs(image: &ImageReport) -> BTreeMap<(&str, &str, &str), String> {
    installed(image)
        .enumerate()
        .map(|(i, p)| {
            let key = if p.purl.is_empty() {
                ("", p.name.as_str(), p.version.as_str())
            } else {
                (p.purl.as_str(), "", "")
            };
            (key, format!("pkg-{}", i + 1))
        })
        .collect()
}

fn write_document(document: &Value, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, document)?;
    out.write_all(b"\n")
}

fn document(image: &ImageReport, tool: &Tool, timestamp: &str) -> Value {
    let components: Vec<Value> = installed(image)
        .enumerate()
        .map(|(i, package)| component(i + 1, package))
        .collect();
    let mut subject = json!({
        "type": "container",
        "bom-ref": "image",
        "name": image.name,
    });
    if let Some(digest) = &image.config_digest {
        subject["version"] = json!(digest);
    }
    if let Some(os) = &image.os {
        let mut properties = vec![json!({ "name": "stowaway:os:id", "value": os.id })];
        if let Some(version) = &os.version_id {
            properties.push(json!({ "name": "stowaway:os:version", "value": version }));
        }
        subject["properties"] = Value::Array(properties);
    }
    let refs: Vec<Value> = (1..=components.len())
        .map(|i| json!(format!("pkg-{i}")))
        .collect();
    json!({
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "serialNumber": format!("urn:uuid:{}", document_uuid(image)),
        "version": 1,
        "metadata": {
            "timestamp": timestamp,
            "tools": { "components": [{ "type": "application", "name": tool.name, "version": tool.version }] },
            "component": subject,
        },
        "components": components,
        "dependencies": [{ "ref": "image", "dependsOn": refs }],
    })
}

/// The VEX analysis of an advisory: from the OpenVEX statement that suppressed it, or from the
/// policy's ignore rule; none for an advisory nothing suppressed (stowaway does not judge
/// exploitability).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Analysis {
    state: Option<&'static str>,
    justification: Option<&'static str>,
    response: Option<&'static str>,
    detail: String,
}

/// OpenVEX statuses as CycloneDX analysis states.
const STATES: &[(&str, &str)] = &[
    ("not_affected", "not_affected"),
    ("fixed", "resolved"),
    ("affected", "exploitable"),
    ("under_investigation", "in_triage"),
];

/// OpenVEX justifications as CycloneDX ones. OpenVEX says why the product is not affected,
/// CycloneDX why the code is not: a component that is not present has no vulnerable code either;
/// input an adversary cannot control is a matter of the environment; inline mitigations are a
/// mitigating control.
const JUSTIFICATIONS: &[(&str, &str)] = &[
    ("component_not_present", "code_not_present"),
    ("vulnerable_code_not_present", "code_not_present"),
    ("vulnerable_code_not_in_execute_path", "code_not_reachable"),
    (
        "vulnerable_code_cannot_be_controlled_by_adversary",
        "requires_environment",
    ),
    (
        "inline_mitigations_already_exist",
        "protected_by_mitigating_control",
    ),
];

/// Reads a suppression: a `vex` one's reason names the statement's OpenVEX status and
/// justification (found as words of the reason, whatever its wording); an ignore rule is an
/// accepted risk (`will_not_fix`); `ignore-unfixed` waits for a fix (`update`).
fn analysis(suppressed: &Suppressed) -> Analysis {
    let words: Vec<&str> = suppressed
        .reason
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    let find = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(openvex, _)| words.contains(openvex))
            .map(|(_, cyclonedx)| *cyclonedx)
    };
    let detail = format!("suppressed by {}: {}", suppressed.by, suppressed.reason);
    match suppressed.by.as_str() {
        "vex" => {
            let state = find(STATES);
            Analysis {
                state,
                justification: find(JUSTIFICATIONS).filter(|_| state == Some("not_affected")),
                response: None,
                detail,
            }
        }
        "ignore-unfixed" => Analysis {
            state: None,
            justification: None,
            response: Some("update"),
            detail,
        },
        _ => Analysis {
            state: None,
            justification: None,
            response: Some("will_not_fix"),
            detail,
        },
    }
}

/// A CVSS rating from a severity source such as `9.8 CVSS:3.1/AV:N/...`; for anything else
/// (`debian: high`, ...), the severity alone, method `other`, the source as justification.
fn rating(finding: &Finding, source: &str) -> Value {
    let severity = finding.severity.as_str();
    let mut parts = source.split_whitespace();
    let score = parts.next().and_then(|s| s.parse::<f64>().ok());
    let vector = parts.next().filter(|v| v.starts_with("CVSS:"));
    let method = vector.and_then(|v| match v.get(..8) {
        Some("CVSS:3.0") => Some("CVSSv3"),
        Some("CVSS:3.1") => Some("CVSSv31"),
        Some("CVSS:4.0") => Some("CVSSv4"),
        _ => None,
    });
    match (score, vector, method) {
        (Some(score), Some(vector), Some(method)) => json!({
            "score": score,
            "severity": severity,
            "method": method,
            "vector": vector,
        }),
        _ => json!({
            "severity": severity,
            "method": "other",
            "justification": source,
        }),
    }
}

/// The `vulnerabilities` of an image: one entry per advisory and analysis (an advisory a VEX
/// statement suppressed for one package and not for another is two entries), affecting the
/// installed packages' components, or the image for a package no longer installed.
fn vulnerabilities(image: &ImageReport) -> Vec<Value> {
    let active = image
        .findings
        .iter()
        .map(|finding| (finding, None::<Analysis>));
    let suppressed = image
        .suppressed
        .iter()
        .map(|s| (&s.finding, Some(analysis(s))));
    let refs = bom_refs(image);
    let mut entries: BTreeMap<(&str, Option<Analysis>), Vec<&Finding>> = BTreeMap::new();
    for (finding, analysis) in active.chain(suppressed) {
        if finding.kind == Kind::Vuln && finding.vulnerability.is_some() {
            entries
                .entry((finding.id.as_str(), analysis))
                .or_default()
                .push(finding);
        }
    }
    entries
        .into_iter()
        .enumerate()
        .filter_map(|(i, ((id, analysis), findings))| {
            let first = findings.first()?;
            let details = first.vulnerability.as_deref()?;
            let unaffected = analysis
                .as_ref()
                .is_some_and(|a| matches!(a.state, Some("not_affected" | "resolved")));
            let mut affects: Vec<Value> = Vec::new();
            for finding in &findings {
                let Some(v) = finding.vulnerability.as_deref() else {
                    continue;
                };
                let key = if v.purl.is_empty() {
                    ("", v.package.as_str(), v.installed_version.as_str())
                } else {
                    (v.purl.as_str(), "", "")
                };
                let target = refs.get(&key).map_or("image", String::as_str);
                let entry = json!({
                    "ref": target,
                    "versions": [{
                        "version": v.installed_version,
                        "status": if unaffected { "unaffected" } else { "affected" },
                    }],
                });
                if !affects.contains(&entry) {
                    affects.push(entry);
                }
            }
            let mut references: Vec<Value> = Vec::new();
            for alias in details.aliases.iter().filter(|a| a.as_str() != id) {
                let (kind, url) = advisory(alias);
                let name = match kind {
                    "cve" => "NVD",
                    "ghsa" => "GitHub Advisory Database",
                    _ => "OSV",
                };
                references.push(json!({ "id": alias, "source": { "name": name, "url": url } }));
            }
            let mut entry = json!({
                "bom-ref": format!("vuln-{}", i + 1),
                "id": id,
                "source": { "name": "OSV", "url": osv_url(id) },
                "ratings": [rating(first, &details.severity_source)],
                "description": first.title,
                "advisories": [{ "url": osv_url(id) }],
                "affects": affects,
            });
            if !references.is_empty() {
                entry["references"] = Value::Array(references);
            }
            if let Some(fixed) = details.fixed_versions.first() {
                entry["recommendation"] = json!(if details.fixed_versions.len() == 1 {
                    format!("Upgrade {} to {fixed}", details.package)
                } else {
                    format!(
                        "Upgrade {} to one of {}",
                        details.package,
                        details.fixed_versions.join(", ")
                    )
                });
            }
            if let Some(analysis) = analysis {
                let mut value = json!({ "detail": analysis.detail });
                if let Some(state) = analysis.state {
                    value["state"] = json!(state);
                }
                if let Some(justification) = analysis.justification {
                    value["justification"] = json!(justification);
                }
                if let Some(response) = analysis.response {
                    value["response"] = json!([response]);
                }
                entry["analysis"] = value;
            }
            Some(entry)
        })
        .collect()
}
