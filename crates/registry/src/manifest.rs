//! The documents a registry serves for `GET /v2/<name>/manifests/<ref>`: an image index (OCI, or
//! Docker's manifest list) that names one manifest per platform, or an image manifest (OCI, or
//! Docker's v2 schema 2) that names the config and layer blobs. Only the fields a pull needs are
//! read; the bytes are kept as served, since their digest is what identifies them.

use serde::Deserialize;
use stowaway_image::Platform;

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];

/// The `Accept` header of manifest requests: the four kinds this crate reads.
pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
    application/vnd.oci.image.manifest.v1+json, \
    application/vnd.docker.distribution.manifest.list.v2+json, \
    application/vnd.docker.distribution.manifest.v2+json";

/// A content descriptor: what a blob or manifest is, its digest and size.
#[derive(Debug, Deserialize)]
pub struct Descriptor {
    pub digest: String,
    pub size: u64,
    #[serde(default)]
    pub platform: Option<DescriptorPlatform>,
}

#[derive(Debug, Deserialize)]
pub struct DescriptorPlatform {
    pub os: String,
    pub architecture: String,
    #[serde(default)]
    pub variant: Option<String>,
}

impl DescriptorPlatform {
    fn to_platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone(),
        }
    }
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

/// An image manifest: the config blob and the layer blobs, bottom first.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    pub config: Descriptor,
    #[serde(default)]
    pub layers: Vec<Descriptor>,
}

#[derive(Debug)]
pub enum Document {
    Index(Vec<Descriptor>),
    Manifest(Manifest),
}

#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "schemaVersion", default)]
    schema_version: Option<u64>,
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde::de::IgnoredAny>,
}

/// Reads a manifest or index; `content_type` is the response's `Content-Type`. Returns the media
/// type (the document's own `mediaType`, else the header's, else what its shape says) and the
/// document.
pub fn parse_document(
    bytes: &[u8],
    content_type: Option<&str>,
) -> Result<(String, Document), String> {
    let probe: Probe = serde_json::from_slice(bytes)
        .map_err(|e| format!("the manifest is not a JSON object: {e}"))?;
    let header = content_type
        .map(|t| t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase())
        .filter(|t| t.starts_with("application/vnd."));
    let declared = probe.media_type.or(header);
    if probe.schema_version == Some(1)
        || declared
            .as_deref()
            .is_some_and(|t| DOCKER_SCHEMA1.contains(&t))
    {
        return Err(
            "the registry serves a Docker schema 1 manifest, which is deprecated and not supported"
                .to_string(),
        );
    }
    let is_index = match declared.as_deref() {
        Some(OCI_INDEX | DOCKER_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        Some(other) => {
            return Err(format!(
                "the registry serves a '{other}', not an image manifest or index"
            ));
        }
        None => probe.manifests.is_some(),
    };
    if is_index {
        let index: Index = serde_json::from_slice(bytes)
            .map_err(|e| format!("the image index is not valid: {e}"))?;
        Ok((
            declared.unwrap_or_else(|| OCI_INDEX.to_string()),
            Document::Index(index.manifests),
        ))
    } else {
        let manifest: Manifest = serde_json::from_slice(bytes)
            .map_err(|e| format!("the image manifest is not valid: {e}"))?;
        Ok((
            declared.unwrap_or_else(|| OCI_MANIFEST.to_string()),
            Document::Manifest(manifest),
        ))
    }
}

/// arm64's only variant is v8: `linux/arm64` and `linux/arm64/v8` are the same platform.
fn variant_of(platform: &Platform) -> Option<&str> {
    match (platform.architecture.as_str(), platform.variant.as_deref()) {
        ("arm64", Some("v8")) => None,
        (_, variant) => variant,
    }
}

/// Whether an image for `offered` satisfies a request for `wanted` (a request without a variant
/// takes any variant).
fn accepts(wanted: &Platform, offered: &Platform) -> bool {
    wanted.os == offered.os
        && wanted.architecture == offered.architecture
        && (variant_of(wanted).is_none() || variant_of(wanted) == variant_of(offered))
}

/// The index entry for `wanted`: the first whose platform matches, else the only entry without
/// a platform. Build attestations (`unknown/unknown`) are never chosen. An error lists the
/// platforms the index has.
pub fn select<'a>(
    wanted: &Platform,
    manifests: &'a [Descriptor],
) -> Result<&'a Descriptor, String> {
    let images: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| d.platform.as_ref().is_none_or(|p| p.os != "unknown"))
        .collect();
    if let Some(found) = images.iter().find(|d| {
        d.platform
            .as_ref()
            .is_some_and(|p| accepts(wanted, &p.to_platform()))
    }) {
        return Ok(found);
    }
    if let [only] = images.as_slice()
        && only.platform.is_none()
    {
        return Ok(only);
    }
    let available: Vec<String> = images
        .iter()
        .filter_map(|d| d.platform.as_ref().map(|p| p.to_platform().to_string()))
        .collect();
    Err(format!(
        "no image for platform {wanted} (available: {}); choose one with --platform",
        if available.is_empty() {
            "none".to_string()
        } else {
            available.join(", ")
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

    fn index(platforms: &[&str]) -> Vec<Descriptor> {
        platforms
            .iter()
            .map(|p| {
                let platform = Platform::parse(p).unwrap();
                Descriptor {
                    digest: D.to_string(),
                    size: p.len() as u64,
                    platform: Some(DescriptorPlatform {
                        os: platform.os,
                        architecture: platform.architecture,
                        variant: platform.variant,
                    }),
                }
            })
            .collect()
    }

    fn pick(wanted: &str, manifests: &[Descriptor]) -> Result<u64, String> {
        select(&Platform::parse(wanted).unwrap(), manifests).map(|d| d.size)
    }

    #[test]
    fn platforms_are_selected_like_docker() {
        let list = index(&[
            "linux/amd64",
            "linux/arm/v6",
            "linux/arm/v7",
            "linux/arm64/v8",
            "unknown/unknown",
        ]);
        assert_eq!(pick("linux/amd64", &list), Ok("linux/amd64".len() as u64));
        assert_eq!(pick("linux/arm/v7", &list), Ok("linux/arm/v7".len() as u64));
        assert_eq!(
            pick("linux/arm64", &list),
            Ok("linux/arm64/v8".len() as u64)
        );
        let error = pick("linux/s390x", &list).unwrap_err();
        assert_eq!(
            error,
            "no image for platform linux/s390x (available: linux/amd64, linux/arm/v6, linux/arm/v7, \
             linux/arm64/v8); choose one with --platform"
        );
        assert!(pick("unknown/unknown", &list).is_err());
    }

    #[test]
    fn documents_are_told_apart() {
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}","config":{{"mediaType":"x","digest":"{D}","size":1}},"layers":[]}}"#
        );
        let (media_type, document) = parse_document(manifest.as_bytes(), None).unwrap();
        assert_eq!(media_type, DOCKER_MANIFEST);
        assert!(matches!(document, Document::Manifest(_)));
        // No mediaType in the document: the header says, else the shape.
        let bare = format!(r#"{{"schemaVersion":2,"manifests":[{{"digest":"{D}","size":3}}]}}"#);
        let (media_type, document) = parse_document(
            bare.as_bytes(),
            Some("application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8"),
        )
        .unwrap();
        assert_eq!(media_type, DOCKER_LIST);
        assert!(matches!(document, Document::Index(ref m) if m.len() == 1));
        let (media_type, _) = parse_document(bare.as_bytes(), Some("application/json")).unwrap();
        assert_eq!(media_type, OCI_INDEX);
        let schema1 = br#"{"schemaVersion":1,"name":"a","fsLayers":[]}"#;
        assert!(
            parse_document(schema1, None)
                .unwrap_err()
                .contains("schema 1")
        );
        let artifact = br#"{"schemaVersion":2,"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip"}"#;
        assert!(
            parse_document(artifact, None)
                .unwrap_err()
                .contains("not an image manifest")
        );
        assert!(parse_document(b"[1,2]", None).is_err());
        assert!(
            parse_document(
                br#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#,
                None
            )
            .is_err()
        );
    }
}
