//! CycloneDX 1.6 JSON: the image as the `container` component, every installed package as a
//! `library` with its PURL, licenses, and where it was found (layer, path) as properties.

use std::io::{self, Write};

use serde_json::{Value, json};
use stowaway_findings::{ImageReport, Package, Tool};

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
    let document = json!({
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
    });
    serde_json::to_writer_pretty(&mut *out, &document)?;
    out.write_all(b"\n")
}
