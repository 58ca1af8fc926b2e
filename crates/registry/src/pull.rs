//! A pull: the manifest (through an index, for the requested platform), its config and layer
//! blobs into the cache, and an OCI image layout of hard links to them that the scanner reads.

use std::path::{Path, PathBuf};

use serde_json::json;
use stowaway_image::{Digest, Platform};

use crate::cache::Cache;
use crate::client::{Client, read_document};
use crate::credentials::{Credentials, default_docker_config, from_docker_config};
use crate::error::RegistryError;
use crate::manifest::{ACCEPT, Document, Manifest, parse_document, select};
use crate::reference::{Reference, parse_reference};

/// An index may name another index; this many levels are followed.
const MAX_INDEX_DEPTH: usize = 4;

/// How to pull. Its `Debug` output leaves the password out.
#[derive(Clone)]
pub struct PullOptions {
    /// The platform taken from a multi-platform index.
    pub platform: Platform,
    /// The blob cache (`<cache_dir>/blobs/sha256/<hex>`); the layouts of pulls are made in it
    /// too, so that they are hard links to the cache.
    pub cache_dir: PathBuf,
    /// User name and password; when `None`, the docker config's entry for the registry.
    pub credentials: Option<(String, String)>,
    /// The docker config to read credentials from; `None` is `$DOCKER_CONFIG/config.json`, else
    /// `~/.docker/config.json`. A missing file means no credentials.
    pub docker_config: Option<PathBuf>,
    /// Registries (`host` or `host:port`) reached over plain http. Loopback registries always
    /// are, as Docker does.
    pub insecure: Vec<String>,
}

impl PullOptions {
    /// Options for `platform` with the cache in `cache_dir`, credentials from the docker config.
    pub fn new(platform: Platform, cache_dir: PathBuf) -> PullOptions {
        PullOptions {
            platform,
            cache_dir,
            credentials: None,
            docker_config: None,
            insecure: Vec::new(),
        }
    }
}

impl std::fmt::Debug for PullOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PullOptions")
            .field("platform", &self.platform)
            .field("cache_dir", &self.cache_dir)
            .field(
                "credentials",
                &self
                    .credentials
                    .as_ref()
                    .map(|(user, _)| (user, "<redacted>")),
            )
            .field("docker_config", &self.docker_config)
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// A pulled image.
#[derive(Debug)]
pub struct Pulled {
    /// An OCI image layout directory holding the image (removed when dropped); its one index
    /// entry is annotated `org.opencontainers.image.ref.name` = [`Pulled::reference`], which the
    /// scanner shows as the image's name.
    pub layout: tempfile::TempDir,
    /// The normalised reference: `docker.io/library/alpine:3.19`.
    pub reference: String,
    /// `sha256:` of the image manifest (for the platform, when the reference is an index).
    pub manifest_digest: String,
    /// `sha256:` of the index the manifest was chosen from, when the reference names one.
    pub index_digest: Option<String>,
}

/// A manifest or index as served, verified against the digest it was asked for.
struct Fetched {
    bytes: Vec<u8>,
    digest: Digest,
    media_type: String,
    document: Document,
}

/// Pulls `reference` for `options.platform` into the cache, and returns an OCI image layout of
/// it. `progress` is told the number of blob bytes downloaded so far.
pub fn pull(
    reference: &str,
    options: &PullOptions,
    progress: &dyn Fn(u64),
) -> Result<Pulled, RegistryError> {
    let reference = parse_reference(reference)?;
    let (credentials, helper) = match &options.credentials {
        Some((username, password)) => (
            Some(Credentials {
                username: username.clone(),
                password: password.clone(),
            }),
            None,
        ),
        None => match options.docker_config.clone().or_else(default_docker_config) {
            Some(path) => {
                let found = from_docker_config(&path, &reference.registry)?;
                (found.credentials, found.helper)
            }
            None => (None, None),
        },
    };
    let mut client = Client::new(&reference, &options.insecure, credentials, helper);
    let shown = client.shown().to_string();
    let invalid = |message: String| RegistryError::Invalid {
        reference: shown.clone(),
        message,
    };

    let mut fetched = fetch_manifest(&mut client, &reference, reference.manifest_ref(), None)?;
    if let Some(pinned) = &reference.digest
        && fetched.digest != *pinned
    {
        return Err(invalid(format!(
            "the registry sent a manifest whose digest is {}, not the {pinned} asked for",
            fetched.digest
        )));
    }
    let mut index_digest = None;
    let mut depth = 0;
    let manifest = loop {
        match fetched.document {
            Document::Manifest(manifest) => break manifest,
            Document::Index(manifests) => {
                depth += 1;
                if depth > MAX_INDEX_DEPTH {
                    return Err(invalid("image indexes nest too deeply".into()));
                }
                index_digest.get_or_insert_with(|| fetched.digest.to_string());
                let chosen = select(&options.platform, &manifests).map_err(&invalid)?;
                let digest = Digest::parse(&chosen.digest)
                    .map_err(|m| invalid(format!("the image index names a manifest by {m}")))?;
                let next =
                    fetch_manifest(&mut client, &reference, digest.as_str(), Some(chosen.size))?;
                if next.digest != digest {
                    return Err(invalid(format!(
                        "manifest {digest} does not match its digest (the registry sent {})",
                        next.digest
                    )));
                }
                fetched = next;
            }
        }
    };
    let layout = write_layout(
        &mut client,
        &reference,
        options,
        progress,
        &manifest,
        (&fetched.bytes, &fetched.digest, &fetched.media_type),
    )?;
    Ok(Pulled {
        layout,
        reference: shown,
        manifest_digest: fetched.digest.to_string(),
        index_digest,
    })
}

/// `GET /v2/<name>/manifests/<at>`, read (bounded), hashed and parsed. `size` is the size the
/// index declares for it.
fn fetch_manifest(
    client: &mut Client,
    reference: &Reference,
    at: &str,
    size: Option<u64>,
) -> Result<Fetched, RegistryError> {
    let path = format!("/v2/{}/manifests/{at}", reference.repository);
    let response = client.get(&path, Some(ACCEPT), "manifest")?;
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let announced = header("docker-content-digest");
    let bytes = read_document(response, &path, client)?;
    let invalid = |message: String| RegistryError::Invalid {
        reference: client.shown().to_string(),
        message: format!("manifest {at}: {message}"),
    };
    let digest = Digest::of(&bytes);
    if let Some(announced) = announced.as_deref().and_then(|d| Digest::parse(d).ok())
        && announced != digest
    {
        return Err(invalid(format!(
            "the registry says its digest is {announced}, but its content's is {digest}"
        )));
    }
    if let Some(size) = size
        && size != bytes.len() as u64
    {
        return Err(invalid(format!(
            "the index says it is {size} bytes, the registry sent {}",
            bytes.len()
        )));
    }
    let (media_type, document) =
        parse_document(&bytes, content_type.as_deref()).map_err(invalid)?;
    Ok(Fetched {
        bytes,
        digest,
        media_type,
        document,
    })
}

/// Downloads the manifest's blobs into the cache and writes the layout: `oci-layout`,
/// `index.json` and `blobs/sha256/`, the manifest written and the blobs linked from the cache.
fn write_layout(
    client: &mut Client,
    reference: &Reference,
    options: &PullOptions,
    progress: &dyn Fn(u64),
    manifest: &Manifest,
    (manifest_bytes, manifest_digest, media_type): (&[u8], &Digest, &str),
) -> Result<tempfile::TempDir, RegistryError> {
    let shown = client.shown().to_string();
    let io = |path: &Path| {
        let reference = shown.clone();
        let path = path.to_path_buf();
        move |error| RegistryError::Io {
            reference,
            path,
            error,
        }
    };
    let cache = Cache::open(&options.cache_dir, &shown)?;
    let layout = tempfile::Builder::new()
        .prefix(".layout-")
        .tempdir_in(&options.cache_dir)
        .map_err(io(&options.cache_dir))?;
    let blobs = layout.path().join("blobs").join("sha256");
    std::fs::create_dir_all(&blobs).map_err(io(&blobs))?;
    let mut downloaded = 0;
    for descriptor in std::iter::once(&manifest.config).chain(&manifest.layers) {
        let (digest, cached) = cache.blob(
            client,
            &reference.repository,
            descriptor,
            &mut downloaded,
            progress,
        )?;
        let target = blobs.join(digest.hex());
        if target.exists() {
            continue; // A layer listed twice.
        }
        if std::fs::hard_link(&cached, &target).is_err() {
            std::fs::copy(&cached, &target).map_err(io(&target))?;
        }
    }
    let manifest_path = blobs.join(manifest_digest.hex());
    std::fs::write(&manifest_path, manifest_bytes).map_err(io(&manifest_path))?;
    let index = json!({
        "schemaVersion": 2,
        "mediaType": crate::manifest::OCI_INDEX,
        "manifests": [{
            "mediaType": media_type,
            "digest": manifest_digest.as_str(),
            "size": manifest_bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": shown},
        }],
    });
    let index_path = layout.path().join("index.json");
    std::fs::write(&index_path, index.to_string()).map_err(io(&index_path))?;
    let marker = layout.path().join("oci-layout");
    std::fs::write(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io(&marker))?;
    Ok(layout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_leaves_the_password_out() {
        let mut options = PullOptions::new(Platform::host(), PathBuf::from("/cache"));
        options.credentials = Some(("alice".into(), "hunter2".into()));
        let debug = format!("{options:?}");
        assert!(
            debug.contains("alice") && !debug.contains("hunter2"),
            "{debug}"
        );
    }
}
