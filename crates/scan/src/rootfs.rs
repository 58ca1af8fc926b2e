//! A root filesystem directory, scanned as one layer. Symlinks are recorded, never followed, so
//! a link loop or a link out of the directory cannot lead the walk anywhere.

use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;
use std::sync::atomic::AtomicU64;

use stowaway_findings::{EntryType, ImageReport};
use stowaway_image::ImageError;

use crate::analyzer::Analyzer;
use crate::assemble::{Header, ScannedLayer, assemble};
use crate::source::{LayerScan, ScanError, ScanOptions};
use crate::walk::{EntryKind, LayerEntry, Walker, walk_with_helper};

pub(crate) fn scan(
    dir: &Path,
    analyzers: &[Box<dyn Analyzer>],
    options: &ScanOptions,
) -> Result<ImageReport, ScanError> {
    let input = dir.display().to_string();
    if !dir.is_dir() {
        return Err(ImageError::invalid(&input, "--rootfs needs a directory").into());
    }
    options.progress.start(None, 1);
    let nested_budget = AtomicU64::new(0);
    let walk = walk_with_helper(analyzers, &options.limits, &nested_budget, |walker| {
        walk_dir(dir, walker, options);
        Ok(())
    })
    .map_err(|e| ImageError::invalid(&input, e.to_string()))?;
    options.progress.layer_done();
    let scan = LayerScan {
        walk,
        digests: None,
    };
    let header = Header {
        name: input,
        tags: Vec::new(),
        config_digest: None,
        manifest_digest: None,
        platform: None,
        config: None,
        history: Vec::new(),
    };
    Ok(assemble(
        header,
        &[ScannedLayer {
            spec: None,
            scan: &scan,
        }],
        analyzers,
    ))
}

/// Walks every entry below `dir` (symlinks recorded, never followed) in name order.
fn walk_dir(dir: &Path, walker: &mut Walker<'_>, options: &ScanOptions) {
    for item in walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .min_depth(1)
    {
        let item = match item {
            Ok(item) => item,
            Err(e) => {
                let path = e
                    .path()
                    .and_then(|p| p.strip_prefix(dir).ok())
                    .map(|p| p.to_string_lossy().into_owned());
                walker.skip_unreadable(path.as_deref().unwrap_or(""), e.to_string());
                continue;
            }
        };
        let Ok(relative) = item.path().strip_prefix(dir) else {
            continue;
        };
        let path = relative.to_string_lossy().into_owned();
        let meta = match item.metadata() {
            Ok(meta) => meta,
            Err(e) => {
                walker.skip_unreadable(&path, e.to_string());
                continue;
            }
        };
        let file_type = meta.file_type();
        let mut sha256 = None;
        let mut link = None;
        let entry_type = if file_type.is_file() {
            let opened = File::open(item.path()).and_then(|mut file| {
                walker.visit_file(&path, None, meta.len(), meta.mode() & 0o7777, &mut file, 0)
            });
            match opened {
                Ok(sha) => sha256 = Some(sha),
                Err(e) => {
                    walker.skip_unreadable(&path, e.to_string());
                    continue;
                }
            }
            options.progress.advance(meta.len());
            EntryType::File
        } else if file_type.is_dir() {
            EntryType::Dir
        } else if file_type.is_symlink() {
            link = std::fs::read_link(item.path())
                .ok()
                .map(|t| t.to_string_lossy().into_owned());
            EntryType::Symlink
        } else if file_type.is_char_device() {
            EntryType::Char
        } else if file_type.is_block_device() {
            EntryType::Block
        } else if file_type.is_fifo() {
            EntryType::Fifo
        } else {
            continue; // sockets
        };
        walker.push_entry(LayerEntry {
            path,
            kind: EntryKind::Fs(entry_type),
            mode: meta.mode() & 0o7777,
            uid: u64::from(meta.uid()),
            gid: u64::from(meta.gid()),
            size: if entry_type == EntryType::File {
                meta.len()
            } else {
                0
            },
            sha256,
            link,
        });
    }
}
