//! Where an image's blobs come from: a seekable tar archive, an OCI layout directory, or a stream
//! that is read once from start to end.
//!
//! Every store answers by member name (`manifest.json`, `blobs/sha256/<hex>`, `<id>/layer.tar`).
//! Links inside an archive are followed only to other members, with a bound on hops.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tar::EntryType;

use crate::error::ImageError;
use crate::layer::Compression;
use crate::paths::{normalize_member, resolve_link};

/// JSON documents (manifests, configs, indexes) larger than this are refused.
pub const MAX_JSON_BYTES: u64 = 16 << 20;

/// JSON documents a stream may leave in memory, in all.
pub const MAX_DOCUMENTS_BYTES: u64 = 64 << 20;

/// How many links a member name may go through before it is called a loop.
const MAX_LINK_HOPS: usize = 16;

/// Read access to the blobs of an image source.
pub trait BlobStore: Sync {
    /// The input's name, for messages.
    fn input(&self) -> &str;
    /// Whether the member exists (following links).
    fn contains(&self, name: &str) -> Result<bool, ImageError>;
    /// Opens a member for streaming.
    fn open(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, ImageError>;
    /// The member's stored size.
    fn size(&self, name: &str) -> Result<u64, ImageError>;

    /// What identifies the member's bytes on disk as they are now: the holding file's device,
    /// inode, size, modification and change times, and where in it the member lies. `None` when
    /// they are not a span of a file, or the file changed too recently to tell.
    fn stamp(&self, _name: &str) -> Option<String> {
        None
    }

    /// Reads a JSON member whole, refusing any larger than [`MAX_JSON_BYTES`].
    fn read_small(&self, name: &str) -> Result<Vec<u8>, ImageError> {
        let size = self.size(name)?;
        if size > MAX_JSON_BYTES {
            return Err(ImageError::invalid(
                self.input(),
                format!(
                    "'{name}' is {size} bytes, more than a manifest or config may be ({MAX_JSON_BYTES})"
                ),
            ));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        self.open(name)?
            .take(MAX_JSON_BYTES)
            .read_to_end(&mut bytes)
            .map_err(|e| ImageError::io(format!("{}: {name}", self.input()), e))?;
        Ok(bytes)
    }
}

fn follow_links(
    links: &HashMap<String, String>,
    input: &str,
    name: &str,
) -> Result<String, ImageError> {
    let mut current = name.to_string();
    for _ in 0..MAX_LINK_HOPS {
        match links.get(&current) {
            Some(target) => current = target.clone(),
            None => return Ok(current),
        }
    }
    Err(ImageError::invalid(
        input,
        format!("symlink loop at member '{name}'"),
    ))
}

fn missing(input: &str, name: &str) -> ImageError {
    ImageError::invalid(
        input,
        format!("the image refers to '{name}', which the archive does not contain"),
    )
}

/// A member's link target, resolved to a member name, or `None` when it is not a link.
fn link_target(
    input: &str,
    name: &str,
    kind: EntryType,
    link: Option<&[u8]>,
) -> Result<Option<String>, ImageError> {
    let target = match link {
        Some(target) if kind.is_symlink() || kind.is_hard_link() => {
            String::from_utf8_lossy(target).into_owned()
        }
        _ => return Ok(None),
    };
    let resolved = if kind.is_symlink() {
        resolve_link(name, &target)
    } else {
        normalize_member(&target)
    };
    resolved
        .map(Some)
        .map_err(|message| ImageError::invalid(input, message))
}

#[derive(Debug, Clone, Copy)]
struct Span {
    offset: u64,
    size: u64,
}

/// A tar archive on disk, indexed once; members are then read by seeking, from any thread.
pub struct TarStore {
    input: String,
    path: PathBuf,
    members: HashMap<String, Span>,
    links: HashMap<String, String>,
}

impl TarStore {
    /// Indexes the archive's members (headers only; data is skipped by seeking).
    pub fn open(path: &Path) -> Result<TarStore, ImageError> {
        let input = path.display().to_string();
        let file = File::open(path).map_err(|e| ImageError::io(&input, e))?;
        let file_len = file
            .metadata()
            .map_err(|e| ImageError::io(&input, e))?
            .len();
        let mut archive = tar::Archive::new(BufReader::new(file));
        let not_tar =
            |e: io::Error| ImageError::invalid(&input, format!("not a readable tar archive: {e}"));
        let mut members = HashMap::new();
        let mut links = HashMap::new();
        for entry in archive.entries_with_seek().map_err(not_tar)? {
            let entry = entry.map_err(not_tar)?;
            let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let name = normalize_member(&raw_name).map_err(|m| ImageError::invalid(&input, m))?;
            let kind = entry.header().entry_type();
            if let Some(target) =
                link_target(&input, &name, kind, entry.link_name_bytes().as_deref())?
            {
                links.insert(name, target);
                continue;
            }
            if !kind.is_file() {
                continue;
            }
            let span = Span {
                offset: entry.raw_file_position(),
                size: entry.size(),
            };
            if span.offset.saturating_add(span.size) > file_len {
                return Err(ImageError::invalid(
                    &input,
                    format!(
                        "truncated: member '{name}' needs {} bytes but the file ends at byte {file_len}",
                        span.offset + span.size
                    ),
                ));
            }
            members.insert(name, span);
        }
        Ok(TarStore {
            input,
            path: path.to_path_buf(),
            members,
            links,
        })
    }

    fn span(&self, name: &str) -> Result<Span, ImageError> {
        let resolved = follow_links(&self.links, &self.input, name)?;
        self.members
            .get(&resolved)
            .copied()
            .ok_or_else(|| missing(&self.input, name))
    }
}

impl BlobStore for TarStore {
    fn input(&self) -> &str {
        &self.input
    }

    fn contains(&self, name: &str) -> Result<bool, ImageError> {
        let resolved = follow_links(&self.links, &self.input, name)?;
        Ok(self.members.contains_key(&resolved))
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let span = self.span(name)?;
        let mut file = File::open(&self.path).map_err(|e| ImageError::io(&self.input, e))?;
        file.seek(SeekFrom::Start(span.offset))
            .map_err(|e| ImageError::io(&self.input, e))?;
        Ok(Box::new(file.take(span.size)))
    }

    fn size(&self, name: &str) -> Result<u64, ImageError> {
        Ok(self.span(name)?.size)
    }

    fn stamp(&self, name: &str) -> Option<String> {
        let span = self.span(name).ok()?;
        Some(format!(
            "{} bytes {}+{}",
            file_stamp(&self.path)?,
            span.offset,
            span.size
        ))
    }
}

/// An OCI image layout directory. Members resolve only to files inside it.
pub struct DirStore {
    input: String,
    root: PathBuf,
}

impl DirStore {
    pub fn open(root: &Path) -> Result<DirStore, ImageError> {
        let input = root.display().to_string();
        let root = root.canonicalize().map_err(|e| ImageError::io(&input, e))?;
        Ok(DirStore { input, root })
    }

    fn path_of(&self, name: &str) -> Result<Option<PathBuf>, ImageError> {
        let name = normalize_member(name).map_err(|m| ImageError::invalid(&self.input, m))?;
        let joined = self.root.join(&name);
        match joined.canonicalize() {
            Ok(real) if real.starts_with(&self.root) && real.is_file() => Ok(Some(real)),
            Ok(_) => Err(ImageError::invalid(
                &self.input,
                format!("'{name}' is not a regular file inside the layout"),
            )),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ImageError::io(format!("{}: {name}", self.input), e)),
        }
    }

    fn existing(&self, name: &str) -> Result<PathBuf, ImageError> {
        self.path_of(name)?
            .ok_or_else(|| missing(&self.input, name))
    }
}

impl BlobStore for DirStore {
    fn input(&self) -> &str {
        &self.input
    }

    fn contains(&self, name: &str) -> Result<bool, ImageError> {
        Ok(self.path_of(name)?.is_some())
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let path = self.existing(name)?;
        let file = File::open(&path).map_err(|e| ImageError::io(path.display().to_string(), e))?;
        Ok(Box::new(file))
    }

    fn size(&self, name: &str) -> Result<u64, ImageError> {
        let path = self.existing(name)?;
        let meta = path
            .metadata()
            .map_err(|e| ImageError::io(path.display().to_string(), e))?;
        Ok(meta.len())
    }

    fn stamp(&self, name: &str) -> Option<String> {
        file_stamp(&self.existing(name).ok()?)
    }
}

/// Seconds a file's times must lie in the past for its stamp to be trusted: a file rewritten
/// within the same tick of a coarse clock keeps its times (git's "racy" files).
const STAMP_SETTLE_SECS: u64 = 2;

/// The state of the file at `path`: its device, inode, size, and modification and change
/// times in nanoseconds. Writing the file changes its change time, which no user can set back
/// (`utimes` sets it to now), so an equal stamp later means the same bytes. `None` when the
/// file cannot be read, or changed less than [`STAMP_SETTLE_SECS`] ago.
#[cfg(unix)]
fn file_stamp(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    let nanos = |secs: i64, nsecs: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsecs);
    let modified = nanos(meta.mtime(), meta.mtime_nsec());
    let changed = nanos(meta.ctime(), meta.ctime_nsec());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos() as i128;
    let settled = i128::from(STAMP_SETTLE_SECS) * 1_000_000_000;
    (now - modified.max(changed) >= settled).then(|| {
        format!(
            "dev {} ino {} size {} mtime {modified} ctime {changed}",
            meta.dev(),
            meta.ino(),
            meta.len()
        )
    })
}

/// No stamps where file times cannot be trusted the same way.
#[cfg(not(unix))]
fn file_stamp(_path: &Path) -> Option<String> {
    None
}

/// What remains of an archive read as a stream: the JSON members, the names of the blobs that
/// were handed to the caller as they went by, and the links between members.
pub struct MemoryStore {
    input: String,
    documents: HashMap<String, Vec<u8>>,
    streamed: HashSet<String>,
    links: HashMap<String, String>,
}

impl MemoryStore {
    /// The member name a name refers to, after links.
    pub fn resolve(&self, name: &str) -> Result<String, ImageError> {
        follow_links(&self.links, &self.input, name)
    }
}

impl BlobStore for MemoryStore {
    fn input(&self) -> &str {
        &self.input
    }

    fn contains(&self, name: &str) -> Result<bool, ImageError> {
        let resolved = self.resolve(name)?;
        Ok(self.documents.contains_key(&resolved) || self.streamed.contains(&resolved))
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send + '_>, ImageError> {
        let resolved = self.resolve(name)?;
        match self.documents.get(&resolved) {
            Some(bytes) => Ok(Box::new(&bytes[..])),
            None if self.streamed.contains(&resolved) => Err(ImageError::invalid(
                &self.input,
                format!("'{name}' was read as a layer, not as a document"),
            )),
            None => Err(missing(&self.input, name)),
        }
    }

    fn size(&self, name: &str) -> Result<u64, ImageError> {
        let resolved = self.resolve(name)?;
        match self.documents.get(&resolved) {
            Some(bytes) => Ok(bytes.len() as u64),
            None => self.open(name).map(|_| 0),
        }
    }
}

/// Reads an image archive from a stream in one pass, without holding it in memory: JSON members
/// are kept, every member that looks like a layer (a tar, gzip or zstd blob) is handed to
/// `on_layer` while it streams by, and everything else is skipped. Which of the streamed blobs
/// are really layers, and in what order, is known only at the end, from the returned store.
pub fn read_stream<R: Read, E: From<ImageError>>(
    input: &str,
    reader: R,
    mut on_layer: impl FnMut(&str, &mut dyn Read) -> Result<(), E>,
) -> Result<MemoryStore, E> {
    let mut store = MemoryStore {
        input: input.to_string(),
        documents: HashMap::new(),
        streamed: HashSet::new(),
        links: HashMap::new(),
    };
    let mut archive = tar::Archive::new(reader);
    let not_tar =
        |e: io::Error| ImageError::invalid(input, format!("not a readable tar archive: {e}"));
    let mut kept = 0u64;
    for entry in archive.entries().map_err(not_tar)? {
        let mut entry = entry.map_err(not_tar)?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let name = normalize_member(&raw_name).map_err(|m| ImageError::invalid(input, m))?;
        let kind = entry.header().entry_type();
        if let Some(target) = link_target(input, &name, kind, entry.link_name_bytes().as_deref())? {
            store.links.insert(name, target);
            continue;
        }
        if !kind.is_file() {
            continue;
        }
        let size = entry.size();
        let mut head = Vec::with_capacity(512);
        (&mut entry)
            .take(512)
            .read_to_end(&mut head)
            .map_err(|e| ImageError::invalid(input, format!("member '{name}': {e}")))?;
        let first = head.iter().find(|b| !b.is_ascii_whitespace());
        if Compression::sniff(&head).is_some() {
            let mut blob = io::Cursor::new(head).chain(&mut entry);
            on_layer(&name, &mut blob)?;
            io::copy(&mut blob, &mut io::sink())
                .map_err(|e| ImageError::invalid(input, format!("member '{name}': {e}")))?;
            store.streamed.insert(name);
        } else if matches!(first, Some(b'{') | Some(b'[')) && size <= MAX_JSON_BYTES {
            kept += size;
            if kept > MAX_DOCUMENTS_BYTES {
                return Err(ImageError::invalid(
                    input,
                    format!("more than {MAX_DOCUMENTS_BYTES} bytes of JSON documents: not an image archive"),
                )
                .into());
            }
            let mut bytes = Vec::with_capacity(size as usize);
            bytes.extend_from_slice(&head);
            entry
                .read_to_end(&mut bytes)
                .map_err(|e| ImageError::invalid(input, format!("member '{name}': {e}")))?;
            store.documents.insert(name, bytes);
        }
    }
    Ok(store)
}
