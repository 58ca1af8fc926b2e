//! SPDX 2.3 JSON: the document describes the image (a package of purpose `CONTAINER`), which
//! `CONTAINS` every installed package, each with its PURL as an external reference.
//!
//! Declared licenses that are SPDX expressions are written as they are; free text (`GPL-2+`, as
//! Debian and rpm headers often have) becomes a `LicenseRef-` with the text kept in
//! `hasExtractedLicensingInfos`, as the specification requires.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde_json::json;
use stowaway_findings::{ImageReport, Tool};

use crate::sbom::{document_uuid, installed, is_spdx_expression};

/// `LicenseRef-` identifiers may hold letters, digits, `.` and `-` only.
fn license_ref(text: &str) -> String {
    let id: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    match id.trim_matches('-') {
        "" => "LicenseRef-unnamed".to_string(),
        id => format!("LicenseRef-{id}"),
    }
}

/// Writes the SPDX document of one image; `timestamp` is RFC 3339 (UTC, seconds).
pub fn write_spdx(
    image: &ImageReport,
    tool: &Tool,
    timestamp: &str,
    out: &mut dyn Write,
) -> io::Result<()> {
    let mut extracted: BTreeMap<String, String> = BTreeMap::new();
    let mut packages = vec![{
        let mut subject = json!({
            "SPDXID": "SPDXRef-Image",
            "name": image.name,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "CONTAINER",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": "NOASSERTION",
            "copyrightText": "NOASSERTION",
        });
        if let Some(digest) = &image.config_digest {
            subject["versionInfo"] = json!(digest);
        }
        subject
    }];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": "SPDXRef-Image",
    })];
    for (i, package) in installed(image).enumerate() {
        let id = format!("SPDXRef-Package-{}", i + 1);
        let declared = match package.licenses.as_slice() {
            [] => "NOASSERTION".to_string(),
            licenses => licenses
                .iter()
                .map(|license| {
                    if is_spdx_expression(license) {
                        format!("({license})")
                    } else {
                        let reference = license_ref(license);
                        extracted.insert(reference.clone(), license.clone());
                        reference
                    }
                })
                .collect::<Vec<_>>()
                .join(" AND "),
        };
        let declared = match package.licenses.len() {
            1 => declared
                .trim_start_matches('(')
                .trim_end_matches(')')
                .to_string(),
            _ => declared,
        };
        let mut entry = json!({
            "SPDXID": id,
            "name": package.name,
            "versionInfo": package.version,
            "downloadLocation": "NOASSERTION",
            "filesAnalyzed": false,
            "primaryPackagePurpose": "LIBRARY",
            "licenseConcluded": "NOASSERTION",
            "licenseDeclared": declared,
            "copyrightText": "NOASSERTION",
            "externalRefs": [{
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": package.purl,
            }],
        });
        if let Some(location) = &package.location {
            entry["sourceInfo"] = json!(format!(
                "{} package recorded in /{} (layer {})",
                package.package_type.as_str(),
                location.display_path(),
                location.layer
            ));
        }
        packages.push(entry);
        relationships.push(json!({
            "spdxElementId": "SPDXRef-Image",
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    let uuid = document_uuid(image);
    let mut document = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": image.name,
        "documentNamespace": format!("https://stowaway.dev/spdx/{uuid}"),
        "creationInfo": {
            "created": timestamp,
            "creators": [format!("Tool: {}-{}", tool.name, tool.version)],
        },
        "packages": packages,
        "relationships": relationships,
    });
    if !extracted.is_empty() {
        document["hasExtractedLicensingInfos"] = extracted
            .into_iter()
            .map(|(id, text)| json!({ "licenseId": id, "extractedText": text, "name": text }))
            .collect();
    }
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
}
