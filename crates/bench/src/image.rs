//! Writes the benchmark image to disk as a Docker 25+ `docker save` archive with gzip layers,
//! streaming, so that a 1 GB (or 10 GB) image never has to fit in memory.
//!
//! The layout is what `stowaway_imagebuilder::docker_save_oci` writes for the same layers: the
//! same tar headers, member order, config and JSON documents, and byte-identical layer tars (a
//! test checks it; only the gzip streams differ, since deflate's output depends on how its input
//! is fed). That builder keeps every layer in memory several times over, which is fine for tests
//! and too much for a gigabyte. Here each layer tar is written entry by entry into a gzip encoder
//! that writes a temporary blob file, hashing both streams on the way (diff id and blob digest);
//! then the archive is written with the blobs copied in, and the temporaries are removed.
//!
//! [`locate_layers`] finds the layer blobs inside an archive again, for the baselines, which
//! read them directly from their offsets.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use flate2::write::GzEncoder;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use stowaway_imagebuilder::sha256;

use crate::content::{PlannedFile, Words};

/// Modification time of every entry, as `stowaway-imagebuilder` writes it.
const MTIME: u64 = 1_700_000_000;
const GZIP_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Hashes and counts everything written through it.
struct HashWriter<W> {
    inner: W,
    hash: Sha256,
    bytes: u64,
}

impl<W: Write> HashWriter<W> {
    fn new(inner: W) -> Self {
        HashWriter {
            inner,
            hash: Sha256::new(),
            bytes: 0,
        }
    }

    fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.hash.clone().finalize()))
    }
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A tar header as `stowaway_imagebuilder::LayerBuilder` makes it.
fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(MTIME);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// Appends an entry the way `LayerBuilder` does: short names written into the header as given,
/// long ones as GNU long-name entries.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    mut header: tar::Header,
    name: &str,
    data: impl Read,
) -> io::Result<()> {
    let bytes = name.as_bytes();
    if bytes.len() <= 100 {
        header.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
        header.set_cksum();
        tar.append(&header, data)
    } else {
        tar.append_data(&mut header, name, data)
    }
}

/// A layer blob written to disk, with what the manifest and config need to know of it.
#[derive(Debug, Clone)]
pub struct LayerBlob {
    pub path: PathBuf,
    pub blob_digest: String,
    pub blob_size: u64,
    pub diff_id: String,
    pub tar_size: u64,
    pub created_by: String,
}

/// Writes one layer: its files (with their parent directories first, and whiteouts of a few
/// files of lower layers), gzip-compressed at `level`, to `path`.
pub fn write_layer(
    path: &Path,
    files: &[PlannedFile],
    deletes: &[&PlannedFile],
    words: &Words,
    level: u32,
    created_by: String,
) -> anyhow::Result<LayerBlob> {
    let out = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let blob = HashWriter::new(BufWriter::with_capacity(1 << 20, out));
    let gzip = GzEncoder::new(blob, flate2::Compression::new(level));
    let mut tar = tar::Builder::new(HashWriter::new(gzip));
    let mut dirs: HashSet<String> = HashSet::new();
    let mut content = Vec::new();
    let mut deletes = deletes.iter();
    for (i, file) in files.iter().enumerate() {
        let mut ancestors: Vec<&str> = Vec::new();
        let mut rest = file.path.as_str();
        while let Some((dir, _)) = rest.rsplit_once('/') {
            if dirs.contains(dir) {
                break;
            }
            ancestors.push(dir);
            rest = dir;
        }
        for dir in ancestors.into_iter().rev() {
            append(
                &mut tar,
                header(tar::EntryType::Directory, 0o755, 0),
                &format!("{dir}/"),
                io::empty(),
            )?;
            dirs.insert(dir.to_string());
        }
        file.content(words, &mut content)?;
        let head = header(tar::EntryType::Regular, file.mode, content.len() as u64);
        append(&mut tar, head, &file.path, &content[..])?;
        if i % 500 == 499
            && let Some(deleted) = deletes.next()
        {
            let marker = match deleted.path.rsplit_once('/') {
                Some((dir, name)) => format!("{dir}/.wh.{name}"),
                None => format!(".wh.{}", deleted.path),
            };
            append(
                &mut tar,
                header(tar::EntryType::Regular, 0o644, 0),
                &marker,
                io::empty(),
            )?;
        }
    }
    let uncompressed = tar.into_inner()?;
    let diff_id = uncompressed.digest();
    let tar_size = uncompressed.bytes;
    let mut blob = uncompressed.inner.finish()?;
    blob.flush()?;
    Ok(LayerBlob {
        path: path.to_path_buf(),
        blob_digest: blob.digest(),
        blob_size: blob.bytes,
        diff_id,
        tar_size,
        created_by,
    })
}

/// A member of the archive: in memory, or a blob file on disk.
enum Member {
    Bytes(Vec<u8>),
    File(PathBuf, u64),
}

/// Writes the `docker save` archive of one image made of `layers` (already on disk) to `path`,
/// as `stowaway_imagebuilder::docker_save_oci` lays it out.
pub fn write_archive(path: &Path, tag: &str, layers: &[LayerBlob]) -> anyhow::Result<()> {
    // The config, as `stowaway_imagebuilder::Image::config` writes it.
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.diff_id.as_str()).collect();
    let history: Vec<Value> = layers
        .iter()
        .map(|l| json!({"created": "2024-01-01T00:00:00Z", "created_by": l.created_by}))
        .collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64",
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": json!({"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}),
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    }))?;
    let layer_descriptors: Vec<Value> = layers
        .iter()
        .map(|l| json!({"mediaType": GZIP_LAYER, "digest": l.blob_digest, "size": l.blob_size}))
        .collect();
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
        "layers": layer_descriptors,
    }))?;
    let short = tag.rsplit_once(':').map_or("latest", |(_, t)| t);
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha256(&manifest),
        "size": manifest.len(),
        "annotations": {
            "io.containerd.image.name": tag,
            "org.opencontainers.image.ref.name": short,
        },
    }]});
    let blob_name = |digest: &str| format!("blobs/sha256/{}", &digest["sha256:".len()..]);
    let docker_manifest = json!([{
        "Config": blob_name(&sha256(&config)),
        "RepoTags": [tag],
        "Layers": layers.iter().map(|l| blob_name(&l.blob_digest)).collect::<Vec<_>>(),
    }]);

    let mut members: Vec<(String, Member)> = Vec::new();
    for layer in layers {
        let name = blob_name(&layer.blob_digest);
        if !members.iter().any(|(n, _)| *n == name) {
            members.push((name, Member::File(layer.path.clone(), layer.blob_size)));
        }
    }
    members.push((blob_name(&sha256(&config)), Member::Bytes(config)));
    members.push((blob_name(&sha256(&manifest)), Member::Bytes(manifest)));
    members.push((
        "index.json".into(),
        Member::Bytes(serde_json::to_vec(&index)?),
    ));
    members.push((
        "oci-layout".into(),
        Member::Bytes(br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()),
    ));
    members.push((
        "manifest.json".into(),
        Member::Bytes(serde_json::to_vec(&docker_manifest)?),
    ));
    members.sort_by(|a, b| a.0.cmp(&b.0));

    let partial = path.with_extension("partial");
    let out = File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
    let mut tar = tar::Builder::new(BufWriter::with_capacity(1 << 20, out));
    for (name, member) in &members {
        match member {
            Member::Bytes(bytes) => append(
                &mut tar,
                header(tar::EntryType::Regular, 0o644, bytes.len() as u64),
                name,
                &bytes[..],
            )?,
            Member::File(blob, size) => {
                let file =
                    File::open(blob).with_context(|| format!("opening {}", blob.display()))?;
                let head = header(tar::EntryType::Regular, 0o644, *size);
                append(&mut tar, head, name, file)?;
            }
        }
    }
    tar.into_inner()?.flush()?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("renaming {} to {}", partial.display(), path.display()))?;
    Ok(())
}

/// What [`generate`] wrote.
#[derive(Debug, Clone)]
pub struct Generated {
    pub tar_bytes: u64,
    pub blob_bytes: u64,
}

/// Writes the image of `files` cut into `layers` layers to `archive`, the layers compressed in
/// parallel on up to `threads` threads. Each layer after the first deletes a few files of the
/// first (one whiteout per 500 files).
pub fn generate(
    archive: &Path,
    files: &[PlannedFile],
    layers: usize,
    words: &Words,
    level: u32,
    threads: usize,
) -> anyhow::Result<Generated> {
    let parts = crate::content::split(files, layers);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<anyhow::Result<Vec<(usize, LayerBlob)>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, parts.len()))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(part) = parts.get(i) else {
                            return Ok(done);
                        };
                        let deletes: Vec<&PlannedFile> = if i == 0 {
                            Vec::new()
                        } else {
                            parts[0].iter().skip(i).step_by(97).collect()
                        };
                        let path = archive.with_extension(format!("layer{i}.tmp"));
                        let blob = write_layer(
                            &path,
                            part,
                            &deletes,
                            words,
                            level,
                            format!("COPY bench-part-{i}/ / # {} files", part.len()),
                        )?;
                        done.push((i, blob));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a layer writer panicked")))
            })
            .collect()
    });
    let mut blobs = Vec::new();
    for result in results {
        blobs.extend(result?);
    }
    blobs.sort_by_key(|(i, _)| *i);
    let blobs: Vec<LayerBlob> = blobs.into_iter().map(|(_, b)| b).collect();
    let tag = format!("stowaway-bench:{}-layers", blobs.len());
    write_archive(archive, &tag, &blobs)?;
    for blob in &blobs {
        std::fs::remove_file(&blob.path)
            .with_context(|| format!("removing {}", blob.path.display()))?;
    }
    Ok(Generated {
        tar_bytes: blobs.iter().map(|b| b.tar_size).sum(),
        blob_bytes: blobs.iter().map(|b| b.blob_size).sum(),
    })
}

/// Where a layer blob lies inside the archive.
#[derive(Debug, Clone)]
pub struct LayerSpan {
    pub name: String,
    pub offset: u64,
    pub size: u64,
}

/// The layer blobs of the (single) image in a `docker save` archive, in manifest order.
pub fn locate_layers(archive: &Path) -> anyhow::Result<Vec<LayerSpan>> {
    let file = File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    let mut tar = tar::Archive::new(file);
    let mut spans = Vec::new();
    let mut manifest = None;
    for entry in tar.entries_with_seek()? {
        let mut entry = entry?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if name == "manifest.json" {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            manifest = Some(bytes);
        } else {
            spans.push(LayerSpan {
                name,
                offset: entry.raw_file_position(),
                size: entry.size(),
            });
        }
    }
    let Some(manifest) = manifest else {
        bail!("{}: no manifest.json", archive.display());
    };
    let manifest: Value = serde_json::from_slice(&manifest)
        .with_context(|| format!("{}: manifest.json", archive.display()))?;
    let Some(layers) = manifest
        .get(0)
        .and_then(|image| image.get("Layers"))
        .and_then(Value::as_array)
    else {
        bail!("{}: manifest.json names no layers", archive.display());
    };
    layers
        .iter()
        .map(|layer| {
            let name = layer.as_str().unwrap_or_default();
            spans
                .iter()
                .find(|span| span.name == name)
                .cloned()
                .with_context(|| format!("{}: layer '{name}' is missing", archive.display()))
        })
        .collect()
}

/// A reader of one layer blob straight from the archive.
pub fn open_span(archive: &Path, span: &LayerSpan) -> anyhow::Result<io::Take<File>> {
    let mut file = File::open(archive).with_context(|| format!("opening {}", archive.display()))?;
    file.seek(SeekFrom::Start(span.offset))?;
    Ok(file.take(span.size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::{plan, split};
    use stowaway_imagebuilder::{Compression, Image, Layer, docker_save_oci};

    fn gunzip(path: &Path) -> Vec<u8> {
        let mut tar = Vec::new();
        flate2::read::MultiGzDecoder::new(File::open(path).expect("blob"))
            .read_to_end(&mut tar)
            .expect("gzip");
        tar
    }

    fn scan(archive: &Path) -> stowaway_findings::ImageReport {
        let options = stowaway_scan::ScanOptions {
            limits: stowaway_scan::Limits::default(),
            platform: stowaway_image::Platform::parse("linux/amd64").expect("platform"),
            image: None,
            progress: &stowaway_scan::NoProgress,
            cache: None,
        };
        let analyzers = stowaway_scan::analyzers::default_analyzers();
        let input = stowaway_scan::Input::Path(archive.to_path_buf());
        let mut reports = stowaway_scan::scan(&input, &analyzers, &options).expect("scan");
        assert_eq!(reports.len(), 1);
        reports.remove(0)
    }

    /// The streaming writer lays an image out as the in-memory image builder does. Only the
    /// gzip streams differ (deflate output depends on how its input arrives), and with them the
    /// blob digests and what names them; the layer tars and the config are byte for byte equal.
    #[test]
    fn writes_what_the_imagebuilder_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let words = Words::new(11);
        let files = plan(11, 12 << 20, &words);
        let parts = split(&files, 3);
        let mut blobs = Vec::new();
        for (i, part) in parts.iter().enumerate() {
            let deletes: Vec<&PlannedFile> = if i == 0 { vec![] } else { vec![&parts[0][i]] };
            let path = dir.path().join(format!("layer{i}.gz"));
            let blob = write_layer(&path, part, &deletes, &words, 1, format!("COPY part{i} /"))
                .expect("layer");
            blobs.push(blob);
        }
        let archive = dir.path().join("image.tar");
        write_archive(&archive, "bench:3", &blobs).expect("archive");

        let layers: Vec<Layer> = blobs
            .iter()
            .map(|b| Layer::new(gunzip(&b.path), Compression::Gzip, &b.created_by))
            .collect();
        for (blob, layer) in blobs.iter().zip(&layers) {
            assert_eq!(blob.diff_id, sha256(&layer.tar));
            assert_eq!(blob.tar_size, layer.tar.len() as u64);
        }
        let reference = dir.path().join("reference.tar");
        std::fs::write(
            &reference,
            docker_save_oci(&[Image::new(&["bench:3"], layers)]).to_tar(),
        )
        .expect("reference");

        let names = |path: &Path| -> Vec<String> {
            let mut tar = tar::Archive::new(File::open(path).expect("archive"));
            tar.entries()
                .expect("entries")
                .map(|e| String::from_utf8_lossy(&e.expect("entry").path_bytes()).into_owned())
                .filter(|n| !n.starts_with("blobs/"))
                .collect()
        };
        assert_eq!(names(&archive), names(&reference));

        let (written, expected) = (scan(&archive), scan(&reference));
        assert_eq!(written.config_digest, expected.config_digest);
        assert_eq!(written.tags, expected.tags);
        assert_eq!(written.history, expected.history);
        assert_eq!(written.inventory, expected.inventory);
        assert_eq!(written.os, expected.os);
        assert_eq!(written.layers.len(), 3);
        for (w, e) in written.layers.iter().zip(&expected.layers) {
            assert_eq!(w.diff_id, e.diff_id);
            assert_eq!(w.uncompressed_size, e.uncompressed_size);
            assert_eq!(w.entries, e.entries);
            assert_eq!(w.integrity, stowaway_findings::Integrity::Verified);
        }
        let files_seen = written
            .inventory
            .iter()
            .filter(|e| e.entry_type == stowaway_findings::EntryType::File)
            .count();
        assert_eq!(files_seen, files.len());

        let spans = locate_layers(&archive).expect("layers");
        assert_eq!(spans.len(), 3);
        for (span, blob) in spans.iter().zip(&blobs) {
            let mut bytes = Vec::new();
            open_span(&archive, span)
                .expect("span")
                .read_to_end(&mut bytes)
                .expect("read");
            assert_eq!(sha256(&bytes), blob.blob_digest);
        }
    }
}
