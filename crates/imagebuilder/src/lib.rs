//! Builds container images in code, byte for byte as the real tools lay them out: `docker save`
//! archives (classic, and the OCI layout Docker 25+ writes), OCI image layouts (directory or tar,
//! one or several platforms), with plain, gzip or zstd layers.
//!
//! Tests, the example image and the benchmarks use it, so that every test runs against real
//! formats without a Docker engine. Layer contents are made with [`LayerBuilder`], which can also
//! write what real tools refuse to (whiteouts, absolute or `..` names) for the bad-input tests.
//! [`debian`] turns real Debian packages into layers.

pub mod browser;
pub mod debian;
pub mod registry;

use std::io::Write;
use std::path::Path;

use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// `sha256:<hex>` of some bytes.
pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    pub fn compress(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Compression::None => bytes.to_vec(),
            Compression::Gzip => gzip(bytes),
            Compression::Zstd => zstd::encode_all(bytes, 3).expect("zstd into memory cannot fail"),
        }
    }

    fn media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }
}

/// Gzip-compresses bytes in memory.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder
        .write_all(bytes)
        .expect("writing into memory cannot fail");
    encoder.finish().expect("writing into memory cannot fail")
}

/// Writes a layer tar (or any tar) entry by entry.
pub struct LayerBuilder {
    tar: tar::Builder<Vec<u8>>,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl LayerBuilder {
    pub fn new() -> Self {
        LayerBuilder {
            tar: tar::Builder::new(Vec::new()),
        }
    }

    fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(size);
        header.set_mtime(1_700_000_000);
        header.set_uid(0);
        header.set_gid(0);
        header
    }

    /// Appends an entry with its name written as given, bypassing the tar crate's checks.
    fn raw(&mut self, mut header: tar::Header, name: &str, data: &[u8]) -> &mut Self {
        let bytes = name.as_bytes();
        if bytes.len() <= 100 {
            header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
            header.set_cksum();
            self.tar
                .append(&header, data)
                .expect("writing into memory cannot fail");
        } else {
            self.tar
                .append_data(&mut header, name, data)
                .expect("long names are written as GNU long-name entries");
        }
        self
    }

    pub fn file(&mut self, path: &str, data: &[u8]) -> &mut Self {
        self.file_mode(path, data, 0o644)
    }

    pub fn file_mode(&mut self, path: &str, data: &[u8], mode: u32) -> &mut Self {
        let header = Self::header(tar::EntryType::Regular, mode, data.len() as u64);
        self.raw(header, path, data)
    }

    pub fn dir(&mut self, path: &str) -> &mut Self {
        let header = Self::header(tar::EntryType::Directory, 0o755, 0);
        self.raw(header, &format!("{}/", path.trim_end_matches('/')), &[])
    }

    fn link(&mut self, kind: tar::EntryType, path: &str, target: &str) -> &mut Self {
        let mut header = Self::header(kind, 0o777, 0);
        header.set_link_name(target).expect("short link names");
        self.raw(header, path, &[])
    }

    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.link(tar::EntryType::Symlink, path, target)
    }

    pub fn hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        self.link(tar::EntryType::Link, path, target)
    }

    pub fn char_device(&mut self, path: &str, major: u32, minor: u32) -> &mut Self {
        let mut header = Self::header(tar::EntryType::Char, 0o666, 0);
        header
            .set_device_major(major)
            .expect("gnu headers have device fields");
        header
            .set_device_minor(minor)
            .expect("gnu headers have device fields");
        self.raw(header, path, &[])
    }

    /// Deletes `path` of lower layers (`dir/.wh.name`).
    pub fn whiteout(&mut self, path: &str) -> &mut Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.file(&marker, &[])
    }

    /// Hides everything lower layers put in `dir` (`dir/.wh..wh..opq`).
    pub fn opaque(&mut self, dir: &str) -> &mut Self {
        self.file(&format!("{}/.wh..wh..opq", dir.trim_end_matches('/')), &[])
    }

    pub fn build(self) -> Vec<u8> {
        self.tar
            .into_inner()
            .expect("writing into memory cannot fail")
    }
}

/// A zip archive in memory, members stored deflated.
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in members {
        writer.start_file(*name, options).expect("zip into memory");
        writer.write_all(data).expect("zip into memory");
    }
    writer.finish().expect("zip into memory").into_inner()
}

/// A zip whose members are encrypted with `password` (the legacy ZipCrypto that `zip -P` writes).
pub fn encrypted_zip_of(members: &[(&str, &[u8])], password: &str) -> Vec<u8> {
    use zip::unstable::write::FileOptionsExt as _;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .with_deprecated_encryption(password.as_bytes())
        .expect("a non-empty password");
    for (name, data) in members {
        writer.start_file(*name, options).expect("zip into memory");
        writer.write_all(data).expect("zip into memory");
    }
    writer.finish().expect("zip into memory").into_inner()
}

/// One layer of an image.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The uncompressed layer tar.
    pub tar: Vec<u8>,
    pub compression: Compression,
    pub created_by: String,
}

impl Layer {
    pub fn new(tar: Vec<u8>, compression: Compression, created_by: &str) -> Layer {
        Layer {
            tar,
            compression,
            created_by: created_by.to_string(),
        }
    }

    fn blob(&self) -> Vec<u8> {
        self.compression.compress(&self.tar)
    }
}

/// An image: layers, tags and the config's platform and settings.
#[derive(Debug, Clone)]
pub struct Image {
    pub tags: Vec<String>,
    pub layers: Vec<Layer>,
    pub os: String,
    pub architecture: String,
    /// The config's `config` object (`User`, `Env`, `Cmd`, ...).
    pub settings: Value,
    /// Build steps that made no layer, inserted into the history after the layer steps.
    pub empty_steps: Vec<String>,
}

impl Image {
    pub fn new(tags: &[&str], layers: Vec<Layer>) -> Image {
        Image {
            tags: tags.iter().map(|t| t.to_string()).collect(),
            layers,
            os: "linux".into(),
            architecture: "amd64".into(),
            settings: json!({"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}),
            empty_steps: Vec::new(),
        }
    }

    pub fn with_platform(mut self, os: &str, architecture: &str) -> Image {
        self.os = os.into();
        self.architecture = architecture.into();
        self
    }

    /// The config JSON, with `rootfs.diff_ids` computed from the layers.
    pub fn config(&self) -> Vec<u8> {
        let diff_ids: Vec<String> = self.layers.iter().map(|l| sha256(&l.tar)).collect();
        let mut history: Vec<Value> = self
            .layers
            .iter()
            .map(|l| json!({"created": "2024-01-01T00:00:00Z", "created_by": l.created_by}))
            .collect();
        for step in &self.empty_steps {
            history.push(
                json!({"created": "2024-01-01T00:00:00Z", "created_by": step, "empty_layer": true}),
            );
        }
        serde_json::to_vec(&json!({
            "architecture": self.architecture,
            "os": self.os,
            "created": "2024-01-01T00:00:00Z",
            "config": self.settings,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        }))
        .expect("json into memory")
    }

    fn oci_manifest(&self, config: &[u8], blobs: &[Vec<u8>]) -> Vec<u8> {
        let layers: Vec<Value> = self
            .layers
            .iter()
            .zip(blobs)
            .map(|(layer, blob)| {
                json!({"mediaType": layer.compression.media_type(), "digest": sha256(blob), "size": blob.len()})
            })
            .collect();
        serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(config), "size": config.len()},
            "layers": layers,
        }))
        .expect("json into memory")
    }
}

/// The members of an archive or layout: files and symlinks, by member name.
#[derive(Debug, Default, Clone)]
pub struct Members {
    pub files: Vec<(String, Vec<u8>)>,
    pub symlinks: Vec<(String, String)>,
}

impl Members {
    fn add(&mut self, name: String, bytes: Vec<u8>) {
        if !self.files.iter().any(|(n, _)| *n == name) {
            self.files.push((name, bytes));
        }
    }

    /// A tar of the members in name order, as `docker save` writes them.
    pub fn to_tar(&self) -> Vec<u8> {
        let mut names: Vec<&str> = self
            .files
            .iter()
            .map(|(n, _)| n.as_str())
            .chain(self.symlinks.iter().map(|(n, _)| n.as_str()))
            .collect();
        names.sort_unstable();
        let mut builder = LayerBuilder::new();
        for name in names {
            if let Some((_, bytes)) = self.files.iter().find(|(n, _)| n == name) {
                builder.file(name, bytes);
            } else if let Some((_, target)) = self.symlinks.iter().find(|(n, _)| n == name) {
                builder.symlink(name, target);
            }
        }
        builder.build()
    }

    /// Writes the members under `dir` (an OCI layout directory).
    pub fn write_dir(&self, dir: &Path) -> std::io::Result<()> {
        for (name, bytes) in &self.files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(path, bytes)?;
        }
        Ok(())
    }
}

/// The classic `docker save` layout: `<id>/layer.tar` (as stored: gzip and zstd layers too,
/// which `docker load` accepts), `<config-hex>.json`, `manifest.json`, `repositories`. A layer
/// shared by two images is stored once and linked, as Docker does.
pub fn docker_save_classic(images: &[Image]) -> Members {
    let mut members = Members::default();
    let mut manifest = Vec::new();
    for image in images {
        let config = image.config();
        let config_name = format!("{}.json", &sha256(&config)["sha256:".len()..]);
        let mut layer_names = Vec::new();
        let mut parent = String::new();
        for layer in &image.layers {
            let id = hex::encode(Sha256::digest(format!("{parent}{}", sha256(&layer.tar))));
            let name = format!("{id}/layer.tar");
            let blob = layer.blob();
            if let Some((first, _)) = members
                .files
                .iter()
                .find(|(n, b)| n.ends_with("/layer.tar") && *b == blob)
            {
                if *first != name {
                    members.symlinks.push((name.clone(), format!("../{first}")));
                }
            } else {
                members.add(name.clone(), blob);
                members.add(format!("{id}/VERSION"), b"1.0".to_vec());
                members.add(
                    format!("{id}/json"),
                    serde_json::to_vec(&json!({"id": id})).expect("json"),
                );
            }
            layer_names.push(name);
            parent = id;
        }
        manifest
            .push(json!({"Config": config_name, "RepoTags": image.tags, "Layers": layer_names}));
        members.add(config_name, config);
    }
    members.add(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("json"),
    );
    members.add("repositories".into(), b"{}".to_vec());
    members
}

/// The OCI layout of `images`; each with an optional platform on its index descriptor. Names go
/// on the descriptors as Docker 25+ and containerd write them.
pub fn oci_layout(images: &[Image], with_platforms: bool) -> Members {
    let mut members = Members::default();
    let mut descriptors = Vec::new();
    for image in images {
        let config = image.config();
        let blobs: Vec<Vec<u8>> = image.layers.iter().map(Layer::blob).collect();
        let manifest = image.oci_manifest(&config, &blobs);
        for blob in blobs.into_iter().chain([config, manifest.clone()]) {
            members.add(
                format!("blobs/sha256/{}", &sha256(&blob)["sha256:".len()..]),
                blob,
            );
        }
        let mut descriptor = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": sha256(&manifest),
            "size": manifest.len(),
        });
        if let Some(tag) = image.tags.first() {
            let short = tag.rsplit_once(':').map_or("latest", |(_, t)| t);
            descriptor["annotations"] = json!({
                "io.containerd.image.name": tag,
                "org.opencontainers.image.ref.name": short,
            });
        }
        if with_platforms {
            descriptor["platform"] = json!({"os": image.os, "architecture": image.architecture});
        }
        descriptors.push(descriptor);
    }
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descriptors});
    members.add(
        "index.json".into(),
        serde_json::to_vec(&index).expect("json"),
    );
    members.add(
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    );
    members
}

/// What `docker save` writes since Docker 25: an OCI layout plus the classic `manifest.json`
/// whose entries point into `blobs/sha256/`.
pub fn docker_save_oci(images: &[Image]) -> Members {
    let mut members = oci_layout(images, false);
    let manifest: Vec<Value> = images
        .iter()
        .map(|image| {
            let config = image.config();
            let layers: Vec<String> = image
                .layers
                .iter()
                .map(|l| format!("blobs/sha256/{}", &sha256(&l.blob())["sha256:".len()..]))
                .collect();
            json!({
                "Config": format!("blobs/sha256/{}", &sha256(&config)["sha256:".len()..]),
                "RepoTags": image.tags,
                "Layers": layers,
            })
        })
        .collect();
    members.add(
        "manifest.json".into(),
        serde_json::to_vec(&manifest).expect("json"),
    );
    members
}
