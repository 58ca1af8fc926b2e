//! From an input to image reports: recognise the input, find its images, scan each distinct
//! layer once (in parallel when the input can be read at random, in order when it is a stream),
//! and assemble the reports.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;

use rayon::prelude::*;
use stowaway_findings::{ImageReport, one_line};
use stowaway_image::layer::{self, Compression, LayerDigests};
use stowaway_image::{
    BlobStore, Digest, DigestReader, DirStore, ImageError, ImageSpec, Platform, TarStore,
    read_stream, resolve_images, select_images,
};

use crate::analyzer::Analyzer;
use crate::assemble::{ScannedLayer, assemble};
use crate::cache::{self, LayerCache};
use crate::limits::Limits;
use crate::nested::{self, Format};
use crate::progress::{Progress, ProgressReader};
use crate::rootfs;
use crate::walk::{Walk, walk_with_helper};

/// What to scan.
#[derive(Debug, Clone)]
pub enum Input {
    /// A `docker save` archive or OCI layout tar (optionally gzip/zstd compressed as a whole), or
    /// an OCI layout directory.
    Path(PathBuf),
    /// An archive streamed on stdin.
    Stdin,
    /// A root filesystem directory, scanned as one layer.
    Rootfs(PathBuf),
}

pub struct ScanOptions<'a> {
    pub limits: Limits,
    /// Which platform to take from a multi-platform index.
    pub platform: Platform,
    /// Only the image with this tag (all when `None`).
    pub image: Option<String>,
    pub progress: &'a dyn Progress,
    /// Where walks of layers read at random (archives on disk, layouts) are kept and looked up.
    pub cache: Option<&'a LayerCache>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error("{}: {}: {}", one_line(input), one_line(layer), one_line(message))]
    Layer {
        input: String,
        layer: String,
        message: String,
    },
    /// The message includes the I/O error, so it is not also a `source` (which would print it
    /// twice in an error chain).
    #[error("{}: {}", one_line(input), one_line(&error.to_string()))]
    Io { input: String, error: io::Error },
}

/// A layer as walked, with its digests.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct LayerScan {
    pub walk: Walk,
    /// `None` for a root filesystem, which has no blob.
    pub digests: Option<LayerDigests>,
}

/// Scans every image of the input (or the one `options.image` names).
pub fn scan(
    input: &Input,
    analyzers: &[Box<dyn Analyzer>],
    options: &ScanOptions,
) -> Result<Vec<ImageReport>, ScanError> {
    match input {
        Input::Rootfs(dir) => rootfs::scan(dir, analyzers, options).map(|report| vec![report]),
        Input::Stdin => scan_stream("stdin", io::stdin().lock(), analyzers, options),
        Input::Path(path) => scan_path(path, analyzers, options),
    }
}

fn scan_path(
    path: &Path,
    analyzers: &[Box<dyn Analyzer>],
    options: &ScanOptions,
) -> Result<Vec<ImageReport>, ScanError> {
    let input = path.display().to_string();
    let io_err = |error| ScanError::Io {
        input: input.clone(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io_err)?;
    if meta.is_dir() {
        if !path.join("index.json").is_file() {
            return Err(ImageError::invalid(
                &input,
                "a directory without index.json is not an OCI layout; to scan a root filesystem use --rootfs",
            )
            .into());
        }
        let store = DirStore::open(path)?;
        return scan_store(&store, analyzers, options);
    }
    let file = File::open(path).map_err(io_err)?;
    let mut head = Vec::with_capacity(512);
    (&file).take(512).read_to_end(&mut head).map_err(io_err)?;
    if Compression::sniff(&head) == Some(Compression::None) {
        let store = TarStore::open(path)?;
        return scan_store(&store, analyzers, options);
    }
    // Anything else can only be read front to back: `docker save img | gzip > img.tar.gz`.
    scan_stream(
        &input,
        io::Cursor::new(head).chain(&file),
        analyzers,
        options,
    )
}

/// Reads an archive from a stream, decompressing it first when it is gzip or zstd compressed
/// as a whole (bounded by `--max-ratio`, as every expansion is).
fn scan_stream(
    input: &str,
    mut reader: impl Read,
    analyzers: &[Box<dyn Analyzer>],
    options: &ScanOptions,
) -> Result<Vec<ImageReport>, ScanError> {
    let io_err = |error| ScanError::Io {
        input: input.to_string(),
        error,
    };
    let mut head = Vec::with_capacity(512);
    (&mut reader)
        .take(512)
        .read_to_end(&mut head)
        .map_err(io_err)?;
    let mut raw = io::Cursor::new(head.clone()).chain(reader);
    let format = match Compression::sniff(&head) {
        Some(Compression::None) => None,
        Some(Compression::Gzip) => Some(Format::Gzip),
        Some(Compression::Zstd) => Some(Format::Zstd),
        None => {
            return Err(ImageError::invalid(
                input,
                "not a container image: neither a tar archive (docker save, OCI layout) nor a gzip/zstd compressed one",
            )
            .into());
        }
    };
    let Some(format) = format else {
        return scan_tar_stream(input, raw, analyzers, options);
    };
    let counter = nested::Counter::default();
    let mut counted = counter.wrap(&mut raw);
    let mut decoder = nested::decoder(format, &mut counted).map_err(io_err)?;
    // Only the ratio bounds the archive as a whole; its layers have their own bounds.
    let outer = Limits {
        max_member_bytes: u64::MAX,
        max_nested_bytes: u64::MAX,
        ..options.limits
    };
    let unbudgeted = AtomicU64::new(0);
    let expanded = nested::Bounded::new(&mut decoder, &outer, &unbudgeted, Some(&counter));
    scan_tar_stream(input, expanded, analyzers, options)
}

/// Walks one layer blob.
fn scan_layer(
    input: &str,
    label: &str,
    blob: &mut dyn Read,
    analyzers: &[Box<dyn Analyzer>],
    limits: &Limits,
    nested_budget: &AtomicU64,
) -> Result<LayerScan, ScanError> {
    let (walk, digests) = layer::decode(blob, limits.layer(), |tar| {
        walk_with_helper(analyzers, limits, nested_budget, |walker| {
            walker.walk_layer_tar(tar)
        })
    })
    .map_err(|e| ScanError::Layer {
        input: input.to_string(),
        layer: label.to_string(),
        message: e.to_string(),
    })?;
    Ok(LayerScan {
        walk,
        digests: Some(digests),
    })
}

/// The cached walk of `blob`, looked up by the digest the image declares for it and used only
/// when the blob, read and hashed now, has that digest and size, or when the cache saw it hashed
/// to that digest and size in a file that has not changed since (see [`crate::cache`]).
fn cached_layer(
    store: &dyn BlobStore,
    blob: &str,
    images: &[ImageSpec],
    cache: &LayerCache,
    fingerprint: &str,
    options: &ScanOptions,
) -> Result<Option<LayerScan>, ScanError> {
    let declared = images
        .iter()
        .flat_map(|image| &image.layers)
        .filter(|layer| layer.blob == blob)
        .find_map(|layer| layer.blob_digest.clone().or_else(|| layer.diff_id.clone()));
    let Some(declared) = declared else {
        return Ok(None);
    };
    let Some(cached) = cache.get(fingerprint, &declared) else {
        return Ok(None);
    };
    let is_cached = |digest: &str, size: u64| {
        cached
            .digests
            .as_ref()
            .is_some_and(|d| d.blob_digest.as_str() == digest && d.blob_size == size)
    };
    let stamp = store.stamp(blob);
    if let Some((digest, size)) = stamp.as_deref().and_then(|s| cache.stamped(s)) {
        options.progress.advance(size);
        return Ok(is_cached(&digest, size).then_some(cached));
    }
    let reader = ProgressReader {
        inner: store.open(blob)?,
        progress: options.progress,
    };
    let (digest, size) = DigestReader::new(reader)
        .finish()
        .map_err(|error| ScanError::Io {
            input: store.input().to_string(),
            error,
        })?;
    remember_stamp(store, blob, stamp, cache, &digest, size);
    Ok(is_cached(digest.as_str(), size).then_some(cached))
}

/// Keeps `stamp` (taken before `blob` was read) with what the read computed, when the blob's
/// file is still as it was: a file written during the read gets no stamp.
fn remember_stamp(
    store: &dyn BlobStore,
    blob: &str,
    stamp: Option<String>,
    cache: &LayerCache,
    digest: &Digest,
    size: u64,
) {
    if let Some(stamp) = stamp
        && store.stamp(blob).as_ref() == Some(&stamp)
    {
        cache.stamp(&stamp, digest, size);
    }
}

fn layer_label(spec: &ImageSpec, blob: &str) -> String {
    match spec.layers.iter().position(|l| l.blob == blob) {
        Some(index) => format!("layer {index} ('{blob}')"),
        None => format!("layer '{blob}'"),
    }
}

/// An archive or layout that can be read at random: layers are scanned in parallel.
fn scan_store(
    store: &dyn BlobStore,
    analyzers: &[Box<dyn Analyzer>],
    options: &ScanOptions,
) -> Result<Vec<ImageReport>, ScanError> {
    let images = resolve_images(store, &options.platform)?;
    let images = select_images(store.input(), images, options.image.as_deref())?;
    let mut blobs: Vec<(String, String)> = Vec::new();
    for image in &images {
        for layer in &image.layers {
            if !blobs.iter().any(|(b, _)| *b == layer.blob) {
                blobs.push((layer.blob.clone(), layer_label(image, &layer.blob)));
            }
        }
    }
    // Largest first: the layers spread over the cores, and a big layer taken last would leave
    // the other cores idle while it is read.
    blobs.sort_by_key(|(blob, _)| std::cmp::Reverse(store.size(blob).unwrap_or(0)));
    let total: u64 = blobs.iter().map(|(b, _)| store.size(b).unwrap_or(0)).sum();
    options.progress.start(Some(total), blobs.len());
    let nested_budget = AtomicU64::new(0);
    let fingerprint = options
        .cache
        .map(|_| cache::fingerprint(analyzers, &options.limits));
    let scans: HashMap<String, LayerScan> = blobs
        .par_iter()
        .map(|(blob, label)| {
            if let (Some(cache), Some(fingerprint)) = (options.cache, &fingerprint)
                && let Some(cached) =
                    cached_layer(store, blob, &images, cache, fingerprint, options)?
            {
                options.progress.layer_done();
                return Ok((blob.clone(), cached));
            }
            let stamp = options.cache.and_then(|_| store.stamp(blob));
            let mut reader = ProgressReader {
                inner: store.open(blob)?,
                progress: options.progress,
            };
            let scan = scan_layer(
                store.input(),
                label,
                &mut reader,
                analyzers,
                &options.limits,
                &nested_budget,
            )?;
            if let (Some(cache), Some(fingerprint)) = (options.cache, &fingerprint) {
                cache.put(fingerprint, &scan);
                if let Some(digests) = &scan.digests {
                    let (digest, size) = (&digests.blob_digest, digests.blob_size);
                    remember_stamp(store, blob, stamp, cache, digest, size);
                }
            }
            options.progress.layer_done();
            Ok((blob.clone(), scan))
        })
        .collect::<Result<_, ScanError>>()?;
    let reports = images
        .iter()
        .map(|image| {
            let layers: Vec<ScannedLayer> = image
                .layers
                .iter()
                .map(|spec| ScannedLayer {
                    spec: Some(spec),
                    scan: &scans[&spec.blob],
                })
                .collect();
            assemble(image_header(image), &layers, analyzers)
        })
        .collect();
    // Freeing every entry of every layer takes a while, which the reports need not wait for.
    std::thread::spawn(move || drop(scans));
    Ok(reports)
}

/// A tar archive read once, front to back: layers are scanned as they stream by. A blob that
/// fails to scan is an error only if an image uses it (it may be another platform's).
fn scan_tar_stream(
    input: &str,
    reader: impl Read,
    analyzers: &[Box<dyn Analyzer>],
    options: &ScanOptions,
) -> Result<Vec<ImageReport>, ScanError> {
    options.progress.start(None, 0);
    let nested_budget = AtomicU64::new(0);
    let mut scans: HashMap<String, Result<LayerScan, ScanError>> = HashMap::new();
    let reader = ProgressReader {
        inner: reader,
        progress: options.progress,
    };
    let store = read_stream(input, reader, |name, blob| {
        let label = format!("layer '{name}'");
        let scan = scan_layer(
            input,
            &label,
            blob,
            analyzers,
            &options.limits,
            &nested_budget,
        );
        options.progress.layer_done();
        scans.insert(name.to_string(), scan);
        Ok::<(), ScanError>(())
    })?;
    let images = resolve_images(&store, &options.platform)?;
    let images = select_images(input, images, options.image.as_deref())?;
    images
        .iter()
        .map(|image| {
            let layers = image
                .layers
                .iter()
                .map(|spec| {
                    let resolved = store.resolve(&spec.blob)?;
                    match scans.get(&resolved) {
                        Some(Ok(scan)) => Ok(ScannedLayer {
                            spec: Some(spec),
                            scan,
                        }),
                        Some(Err(error)) => Err(ScanError::Layer {
                            input: input.to_string(),
                            layer: layer_label(image, &spec.blob),
                            message: match error {
                                ScanError::Layer { message, .. } => message.clone(),
                                other => other.to_string(),
                            },
                        }),
                        None => Err(ImageError::invalid(
                            input,
                            format!("'{}' is not a tar, gzip or zstd layer", spec.blob),
                        )
                        .into()),
                    }
                })
                .collect::<Result<Vec<_>, ScanError>>()?;
            Ok(assemble(image_header(image), &layers, analyzers))
        })
        .collect()
}

fn image_header(image: &ImageSpec) -> crate::assemble::Header {
    crate::assemble::Header {
        name: image.name.clone(),
        tags: image.tags.clone(),
        config_digest: Some(image.config_digest.to_string()),
        manifest_digest: image.manifest_digest.as_ref().map(|d| d.to_string()),
        platform: Some(image.platform().to_string()),
        config: Some(image.run_config.clone()),
        history: image
            .config
            .history()
            .iter()
            .flatten()
            .map(|h| {
                (
                    h.created().clone(),
                    h.created_by().clone(),
                    h.empty_layer().unwrap_or(false),
                )
            })
            .collect(),
    }
}
