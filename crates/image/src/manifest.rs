//! From a store's JSON documents to [`ImageSpec`]s: `manifest.json` of `docker save` (classic and
//! Docker 25+), or `index.json` of an OCI image layout (nested indexes, several platforms).

use std::fmt;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageIndex, ImageManifest, MediaType};
use serde::Deserialize;

use stowaway_findings::ImageConfig;

use crate::digest::Digest;
use crate::error::ImageError;
use crate::run_config::run_config;
use crate::store::BlobStore;

/// One image found in the input, with everything the image declares about its layers.
#[derive(Debug, Clone)]
pub struct ImageSpec {
    /// The name to show: first tag, or the layout's reference name, or the input's name.
    pub name: String,
    pub tags: Vec<String>,
    pub config_digest: Digest,
    pub manifest_digest: Option<Digest>,
    pub config: ImageConfiguration,
    /// The run configuration (`User`, `Env`, `Healthcheck`, ...).
    pub run_config: ImageConfig,
    pub layers: Vec<LayerSpec>,
}

impl ImageSpec {
    pub fn platform(&self) -> Platform {
        Platform {
            os: self.config.os().to_string(),
            architecture: self.config.architecture().to_string(),
            variant: self.config.variant().clone(),
        }
    }
}

/// A layer as the image declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerSpec {
    /// Member name of the blob in the store.
    pub blob: String,
    /// Digest of the blob as the manifest (or a content-addressed name) declares it.
    pub blob_digest: Option<Digest>,
    /// The config's `rootfs.diff_ids` entry for this layer.
    pub diff_id: Option<Digest>,
    /// The history entry's `created_by`.
    pub created_by: Option<String>,
}

/// `os/architecture[/variant]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// The platform of this machine, in OCI's words.
    pub fn host() -> Platform {
        let architecture = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            other => other,
        };
        Platform {
            os: std::env::consts::OS.to_string(),
            architecture: architecture.to_string(),
            variant: None,
        }
    }

    pub fn parse(s: &str) -> Result<Platform, String> {
        let mut parts = s.split('/');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(os), Some(arch), variant, None) if !os.is_empty() && !arch.is_empty() => {
                Ok(Platform {
                    os: os.to_string(),
                    architecture: arch.to_string(),
                    variant: variant.map(str::to_string),
                })
            }
            _ => Err(format!(
                "'{s}' is not a platform (OS/ARCH or OS/ARCH/VARIANT, e.g. linux/arm64)"
            )),
        }
    }

    /// Whether an image of platform `other` satisfies a request for `self`.
    fn accepts(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && (self.variant.is_none() || self.variant == other.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

/// One entry of `docker save`'s `manifest.json`.
#[derive(Debug, Deserialize)]
struct DockerManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default)]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// Finds every image in the store. With several images for one name in an OCI index (one per
/// platform), only the one for `platform` is kept.
pub fn resolve_images(
    store: &dyn BlobStore,
    platform: &Platform,
) -> Result<Vec<ImageSpec>, ImageError> {
    if store.contains("manifest.json")? {
        docker_images(store)
    } else if store.contains("index.json")? {
        oci_images(store, platform)
    } else {
        Err(ImageError::invalid(
            store.input(),
            "not a container image: no manifest.json (docker save) or index.json (OCI layout) in it",
        ))
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(
    store: &dyn BlobStore,
    name: &str,
) -> Result<(T, Vec<u8>), ImageError> {
    let bytes = store.read_small(name)?;
    let value = serde_json::from_slice(&bytes)
        .map_err(|e| ImageError::invalid(store.input(), format!("'{name}' is not valid: {e}")))?;
    Ok((value, bytes))
}

/// The digest a content-addressed member name (`blobs/sha256/<hex>`, `<hex>.json`) declares.
fn digest_in_name(name: &str) -> Option<Digest> {
    if let Some(hex) = name.strip_prefix("blobs/sha256/") {
        return Digest::parse(&format!("sha256:{hex}")).ok();
    }
    let hex = name.strip_suffix(".json")?;
    Digest::parse(&format!("sha256:{hex}")).ok()
}

fn docker_images(store: &dyn BlobStore) -> Result<Vec<ImageSpec>, ImageError> {
    let (entries, _) = parse_json::<Vec<DockerManifestEntry>>(store, "manifest.json")?;
    if entries.is_empty() {
        return Err(ImageError::invalid(
            store.input(),
            "manifest.json lists no images",
        ));
    }
    entries
        .into_iter()
        .map(|entry| {
            let (config, bytes) = parse_json::<ImageConfiguration>(store, &entry.config)?;
            let config_digest = Digest::of(&bytes);
            if let Some(declared) = digest_in_name(&entry.config)
                && declared != config_digest
            {
                return Err(ImageError::invalid(
                    store.input(),
                    format!(
                        "config '{}' does not match its digest (content is {config_digest})",
                        entry.config
                    ),
                ));
            }
            let tags = entry.repo_tags.unwrap_or_default();
            let layers = entry
                .layers
                .into_iter()
                .map(|blob| (digest_in_name(&blob), blob))
                .collect();
            let name = tags
                .first()
                .cloned()
                .unwrap_or_else(|| config_digest.short().to_string());
            let config = (config, run_config(&bytes));
            build_image(store, name, tags, config_digest, None, config, layers)
        })
        .collect()
}

fn build_image(
    store: &dyn BlobStore,
    name: String,
    tags: Vec<String>,
    config_digest: Digest,
    manifest_digest: Option<Digest>,
    (config, run_config): (ImageConfiguration, ImageConfig),
    blobs: Vec<(Option<Digest>, String)>,
) -> Result<ImageSpec, ImageError> {
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != blobs.len() {
        return Err(ImageError::invalid(
            store.input(),
            format!(
                "image {name}: the manifest lists {} layers but the config's rootfs lists {} diff ids",
                blobs.len(),
                diff_ids.len()
            ),
        ));
    }
    let mut created_by = config
        .history()
        .iter()
        .flatten()
        .filter(|h| !h.empty_layer().unwrap_or(false))
        .map(|h| h.created_by().clone());
    let mut layers = Vec::with_capacity(blobs.len());
    for ((blob_digest, blob), diff_id) in blobs.into_iter().zip(diff_ids) {
        if !store.contains(&blob)? {
            return Err(ImageError::invalid(
                store.input(),
                format!(
                    "image {name}: the manifest names layer '{blob}', which the input does not contain"
                ),
            ));
        }
        let diff_id = Digest::parse(diff_id).map_err(|m| {
            ImageError::invalid(store.input(), format!("image {name}: config rootfs: {m}"))
        })?;
        layers.push(LayerSpec {
            blob,
            blob_digest,
            diff_id: Some(diff_id),
            created_by: created_by.next().flatten(),
        });
    }
    Ok(ImageSpec {
        name,
        tags,
        config_digest,
        manifest_digest,
        config,
        run_config,
        layers,
    })
}

fn blob_name(
    store: &dyn BlobStore,
    descriptor: &Descriptor,
) -> Result<(String, Digest), ImageError> {
    let digest = Digest::parse(descriptor.digest().as_ref())
        .map_err(|m| ImageError::invalid(store.input(), m))?;
    Ok((format!("blobs/sha256/{}", digest.hex()), digest))
}

/// Reads a blob named by a descriptor and checks it against the descriptor's digest.
fn verified_json<T: serde::de::DeserializeOwned>(
    store: &dyn BlobStore,
    descriptor: &Descriptor,
) -> Result<(T, Digest, Vec<u8>), ImageError> {
    let (name, declared) = blob_name(store, descriptor)?;
    let (value, bytes) = parse_json::<T>(store, &name)?;
    let actual = Digest::of(&bytes);
    if actual != declared {
        return Err(ImageError::invalid(
            store.input(),
            format!("blob '{name}' does not match its digest (content is {actual})"),
        ));
    }
    Ok((value, declared, bytes))
}

/// An image manifest reached from the index, with the name and platform its descriptors give.
struct Candidate {
    name: Option<String>,
    platform: Option<Platform>,
    descriptor: Descriptor,
}

const MAX_INDEX_DEPTH: usize = 4;

fn collect_candidates(
    store: &dyn BlobStore,
    index: &ImageIndex,
    inherited_name: Option<&str>,
    depth: usize,
    out: &mut Vec<Candidate>,
) -> Result<(), ImageError> {
    if depth > MAX_INDEX_DEPTH {
        return Err(ImageError::invalid(
            store.input(),
            "image indexes nest too deeply",
        ));
    }
    for descriptor in index.manifests() {
        let annotations = descriptor.annotations().as_ref();
        let name = annotations
            .and_then(|a| {
                a.get("io.containerd.image.name")
                    .or_else(|| a.get("org.opencontainers.image.ref.name"))
            })
            .map(String::as_str)
            .or(inherited_name);
        match descriptor.media_type() {
            MediaType::ImageIndex => {
                let (nested, _, _) = verified_json::<ImageIndex>(store, descriptor)?;
                collect_candidates(store, &nested, name, depth + 1, out)?;
            }
            MediaType::Other(t)
                if t == "application/vnd.docker.distribution.manifest.list.v2+json" =>
            {
                let (nested, _, _) = verified_json::<ImageIndex>(store, descriptor)?;
                collect_candidates(store, &nested, name, depth + 1, out)?;
            }
            _ => {
                let platform = descriptor.platform().as_ref().map(|p| Platform {
                    os: p.os().to_string(),
                    architecture: p.architecture().to_string(),
                    variant: p.variant().clone(),
                });
                // Build attestations (buildx) are manifests for the platform "unknown/unknown".
                if platform.as_ref().is_some_and(|p| p.os == "unknown") {
                    continue;
                }
                out.push(Candidate {
                    name: name.map(str::to_string),
                    platform,
                    descriptor: descriptor.clone(),
                });
            }
        }
    }
    Ok(())
}

fn oci_images(store: &dyn BlobStore, platform: &Platform) -> Result<Vec<ImageSpec>, ImageError> {
    let (index, _) = parse_json::<ImageIndex>(store, "index.json")?;
    let mut candidates = Vec::new();
    collect_candidates(store, &index, None, 0, &mut candidates)?;
    if candidates.is_empty() {
        return Err(ImageError::invalid(
            store.input(),
            "index.json lists no image manifests",
        ));
    }
    // Group by name; a group with several platforms is narrowed to the requested one.
    let mut names: Vec<Option<String>> = Vec::new();
    for candidate in &candidates {
        if !names.contains(&candidate.name) {
            names.push(candidate.name.clone());
        }
    }
    let mut images = Vec::new();
    for name in names {
        let group: Vec<&Candidate> = candidates.iter().filter(|c| c.name == name).collect();
        let chosen: Vec<&Candidate> = if group.len() == 1 {
            group
        } else {
            let matching: Vec<&Candidate> = group
                .iter()
                .copied()
                .filter(|c| c.platform.as_ref().is_none_or(|p| platform.accepts(p)))
                .collect();
            if matching.is_empty() {
                let available: Vec<String> = group
                    .iter()
                    .filter_map(|c| c.platform.as_ref().map(Platform::to_string))
                    .collect();
                return Err(ImageError::invalid(
                    store.input(),
                    format!(
                        "no image for platform {platform} (available: {}); choose one with --platform",
                        available.join(", ")
                    ),
                ));
            }
            matching
        };
        for candidate in chosen {
            images.push(oci_image(store, candidate)?);
        }
    }
    Ok(images)
}

fn oci_image(store: &dyn BlobStore, candidate: &Candidate) -> Result<ImageSpec, ImageError> {
    let (manifest, manifest_digest, _) =
        verified_json::<ImageManifest>(store, &candidate.descriptor)?;
    let (config, config_digest, config_bytes) =
        verified_json::<ImageConfiguration>(store, manifest.config())?;
    let layers = manifest
        .layers()
        .iter()
        .map(|layer| blob_name(store, layer).map(|(name, digest)| (Some(digest), name)))
        .collect::<Result<Vec<_>, _>>()?;
    let tags: Vec<String> = candidate.name.iter().cloned().collect();
    let name = candidate
        .name
        .clone()
        .unwrap_or_else(|| manifest_digest.short().to_string());
    build_image(
        store,
        name,
        tags,
        config_digest,
        Some(manifest_digest),
        (config, run_config(&config_bytes)),
        layers,
    )
}

/// `docker.io/library/alpine:latest` and `alpine` are the same reference.
fn normalize_reference(reference: &str) -> String {
    let mut name = reference.trim();
    for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] {
        if let Some(rest) = name.strip_prefix(prefix) {
            name = rest;
        }
    }
    let name = name.strip_prefix("library/").unwrap_or(name);
    let last = name.rsplit('/').next().unwrap_or(name);
    if last.contains(':') || name.contains('@') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// Keeps the images tagged `wanted` (all when `None`); an unknown tag is an error listing the
/// tags the input has.
pub fn select_images(
    input: &str,
    images: Vec<ImageSpec>,
    wanted: Option<&str>,
) -> Result<Vec<ImageSpec>, ImageError> {
    let Some(wanted) = wanted else {
        return Ok(images);
    };
    let wanted_norm = normalize_reference(wanted);
    let available: Vec<String> = images.iter().flat_map(|i| i.tags.clone()).collect();
    let selected: Vec<ImageSpec> = images
        .into_iter()
        .filter(|image| {
            image
                .tags
                .iter()
                .any(|tag| normalize_reference(tag) == wanted_norm)
        })
        .collect();
    if selected.is_empty() {
        return Err(ImageError::invalid(
            input,
            format!(
                "no image tagged '{wanted}' (tags in the input: {})",
                if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                }
            ),
        ));
    }
    Ok(selected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalize_like_docker() {
        assert_eq!(normalize_reference("alpine"), "alpine:latest");
        assert_eq!(
            normalize_reference("docker.io/library/alpine:3.19"),
            "alpine:3.19"
        );
        assert_eq!(
            normalize_reference("localhost:5000/app"),
            "localhost:5000/app:latest"
        );
        assert_eq!(normalize_reference("quay.io/x/y:1"), "quay.io/x/y:1");
    }

    #[test]
    fn platforms_parse_and_match() {
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(arm.to_string(), "linux/arm64/v8");
        assert!(Platform::parse("linux").is_err());
        let request = Platform::parse("linux/arm64").unwrap();
        assert!(request.accepts(&arm));
        assert!(!arm.accepts(&Platform::parse("linux/arm64/v7").unwrap()));
    }
}
