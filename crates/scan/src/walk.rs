//! The one-pass walker: reads every entry of a layer once, hashes every regular file, shows each
//! file to every analyzer, and opens archives found inside (recursively) so their members go
//! through the same analyzers.
//!
//! A file nobody wants and that is no archive is streamed through the hash with a fixed buffer.
//! Content is held in memory only when an analyzer wants it or a zip must be opened, and then
//! only up to `max_in_memory` bytes; a larger archive is spooled to an unnamed temporary file
//! (deleted when closed) to be opened.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Cursor, Read, Seek, Write};
use std::sync::atomic::AtomicU64;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;
use stowaway_findings::{EngineResult, EntryType, NotScannedCode, Sha256};

use crate::analyzer::{Analyzer, FileMeta, HEAD_BYTES, Output};
use crate::helper::{self, Done, Helper, Job};
use crate::limits::Limits;
use crate::nested::{self, Format};
use crate::verdicts::{Tally, absorb};

/// Why an archive inside the image could not be read: the code and the words.
type Failure = (NotScannedCode, String);

fn io_failure(error: &io::Error) -> Failure {
    (nested::code_of(error), error.to_string())
}

fn zip_failure(error: &zip::result::ZipError) -> Failure {
    (nested::code_of_zip(error), error.to_string())
}

/// What a layer entry is, including the overlay markers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    Fs(EntryType),
    /// `dir/.wh.name`: deletes `dir/name` of lower layers; the entry's path is `dir/name`.
    Whiteout,
    /// `dir/.wh..wh..opq`: hides everything lower layers put in `dir`; the path is `dir`.
    Opaque,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerEntry {
    pub path: String,
    pub kind: EntryKind,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub size: u64,
    pub sha256: Option<Sha256>,
    pub link: Option<String>,
}

/// A file found inside an archive inside the layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub path: String,
    pub member: String,
    pub size: u64,
    pub sha256: Sha256,
}

/// An analyzer's output, with the file it is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Located {
    pub path: String,
    pub member: Option<String>,
    pub output: Output,
}

/// Something the walker did not scan, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub path: String,
    pub member: Option<String>,
    pub code: NotScannedCode,
    pub reason: String,
}

/// What the malware engines said about one file or archive member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileVerdicts {
    pub path: String,
    pub member: Option<String>,
    pub results: Vec<EngineResult>,
}

/// Everything the walker learned from one layer.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Walk {
    pub entries: Vec<LayerEntry>,
    pub members: Vec<MemberRecord>,
    pub outputs: Vec<Located>,
    pub skipped: Vec<Skipped>,
    /// One per file and archive member, when malware engines ran.
    pub verdicts: Vec<FileVerdicts>,
}

/// Walks files, running analyzers and recursing into archives.
pub struct Walker<'a> {
    analyzers: &'a [Box<dyn Analyzer>],
    limits: &'a Limits,
    nested_budget: &'a AtomicU64,
    /// The thread that analyses whole files beside this one, when there is one.
    helper: Option<Helper>,
    walk: Walk,
    /// Entry index of each regular file walked so far, for hard links.
    files: HashMap<String, usize>,
    buf: Vec<u8>,
}

/// Normalises a path inside a layer: leading `/` and `./` go, `.` folds, `..` may not climb out.
pub fn normalize_layer_path(raw: &str) -> Result<String, String> {
    stowaway_image::normalize_member(raw.trim_start_matches('/'))
        .map_err(|_| format!("entry '{raw}' escapes the root with '..'"))
}

fn join_member(prefix: Option<&str>, name: &str) -> String {
    match prefix {
        Some(prefix) => format!("{prefix}!{name}"),
        None => name.to_string(),
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// Runs `walk` with a walker whose files that are whole in memory are analysed on a second
/// thread (see `helper`), and returns what it learned. For a layer, whose walk is one thread.
pub fn walk_with_helper(
    analyzers: &[Box<dyn Analyzer>],
    limits: &Limits,
    nested_budget: &AtomicU64,
    walk: impl FnOnce(&mut Walker<'_>) -> io::Result<()>,
) -> io::Result<Walk> {
    std::thread::scope(|scope| {
        let (jobs, incoming) = std::sync::mpsc::sync_channel(helper::QUEUED_BATCHES);
        let (finished, done) = std::sync::mpsc::channel();
        let thread = scope.spawn(move || helper::serve(analyzers, incoming, finished));
        let mut walker = Walker::new(analyzers, limits, nested_budget);
        walker.helper = Some(Helper::new(jobs, done));
        let walked = walk(&mut walker);
        let result = walker.finish();
        // A panic there is a bug: let it be one here too.
        if let Err(panic) = thread.join() {
            std::panic::resume_unwind(panic);
        }
        walked.map(|()| result)
    })
}

impl<'a> Walker<'a> {
    pub fn new(
        analyzers: &'a [Box<dyn Analyzer>],
        limits: &'a Limits,
        nested_budget: &'a AtomicU64,
    ) -> Self {
        Walker {
            analyzers,
            limits,
            nested_budget,
            helper: None,
            walk: Walk::default(),
            files: HashMap::new(),
            buf: vec![0; 256 << 10],
        }
    }

    /// Ends the walk: waits for the helper, if any, and puts its outputs and verdicts where
    /// they belong.
    pub fn finish(mut self) -> Walk {
        if let Some(helper) = self.helper.take() {
            let done = helper.finish();
            self.put_back(done);
        }
        self.walk
    }

    /// Inserts the helper's outputs at the places the walker kept for them (in the order the
    /// jobs were sent) and adds its verdicts to the files' entries.
    fn put_back(&mut self, done: Vec<Done>) {
        let extra: usize = done.iter().map(|d| d.outputs.len()).sum();
        let mut recorded = std::mem::take(&mut self.walk.outputs).into_iter();
        let mut outputs = Vec::with_capacity(recorded.len() + extra);
        let mut taken = 0;
        for finished in done {
            outputs.extend(
                recorded
                    .by_ref()
                    .take(finished.outputs_at.saturating_sub(taken)),
            );
            taken = taken.max(finished.outputs_at);
            outputs.extend(finished.outputs.into_iter().map(|output| Located {
                path: finished.path.clone(),
                member: finished.member.clone(),
                output,
            }));
            if let Some(entry) = self
                .walk
                .verdicts
                .get_mut(finished.verdicts_at)
                .filter(|e| e.path == finished.path && e.member == finished.member)
            {
                absorb(&mut entry.results, finished.results);
            }
        }
        outputs.extend(recorded);
        self.walk.outputs = outputs;
    }

    pub fn push_entry(&mut self, entry: LayerEntry) {
        self.walk.entries.push(entry);
    }

    /// Walks a layer tar. Errors in the tar itself (corruption, truncation, `..` names) are
    /// errors; problems inside archives within it are recorded as skipped.
    pub fn walk_layer_tar(&mut self, reader: &mut dyn Read) -> io::Result<()> {
        let mut archive = tar::Archive::new(reader);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let path = normalize_layer_path(&raw).map_err(invalid)?;
            if path.is_empty() {
                continue;
            }
            let header = entry.header();
            let kind = header.entry_type();
            let mode = header.mode().unwrap_or(0) & 0o7777;
            let uid = header.uid().unwrap_or(0);
            let gid = header.gid().unwrap_or(0);
            let size = entry.size();
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            let (dir, base) = path.rsplit_once('/').unwrap_or(("", &path));
            let marker = if base == ".wh..wh..opq" {
                Some((EntryKind::Opaque, dir.to_string()))
            } else {
                base.strip_prefix(".wh.").map(|name| {
                    let target = if dir.is_empty() {
                        name.to_string()
                    } else {
                        format!("{dir}/{name}")
                    };
                    (EntryKind::Whiteout, target)
                })
            };
            let (kind, path, sha256, link) = match (marker, kind) {
                (Some((marker, target)), _) => (marker, target, None, None),
                (None, k) if k.is_file() || k == tar::EntryType::GNUSparse => {
                    let sha = self
                        .visit_file(&path, None, size, mode, &mut entry, 0)
                        .map_err(|e| io::Error::new(e.kind(), format!("entry '{path}': {e}")))?;
                    (EntryKind::Fs(EntryType::File), path, Some(sha), None)
                }
                (None, k) if k.is_dir() => (EntryKind::Fs(EntryType::Dir), path, None, None),
                (None, k) if k.is_symlink() => {
                    (EntryKind::Fs(EntryType::Symlink), path, None, link)
                }
                (None, k) if k.is_hard_link() => {
                    let target = link
                        .as_deref()
                        .map(normalize_layer_path)
                        .transpose()
                        .map_err(invalid)?;
                    let sha = target
                        .as_deref()
                        .and_then(|t| self.files.get(t))
                        .and_then(|&i| self.walk.entries[i].sha256);
                    (EntryKind::Fs(EntryType::Hardlink), path, sha, target)
                }
                (None, k) if k.is_character_special() => {
                    (EntryKind::Fs(EntryType::Char), path, None, None)
                }
                (None, k) if k.is_block_special() => {
                    (EntryKind::Fs(EntryType::Block), path, None, None)
                }
                (None, k) if k.is_fifo() => (EntryKind::Fs(EntryType::Fifo), path, None, None),
                // PAX global headers and other non-file records.
                _ => continue,
            };
            if self.walk.entries.len() as u64 >= self.limits.max_layer_entries {
                return Err(invalid(format!(
                    "more than {} entries (--max-layer-entries)",
                    self.limits.max_layer_entries
                )));
            }
            if kind == EntryKind::Fs(EntryType::File) {
                self.files.insert(path.clone(), self.walk.entries.len());
            }
            self.walk.entries.push(LayerEntry {
                path,
                kind,
                mode,
                uid,
                gid,
                size,
                sha256,
                link,
            });
        }
        Ok(())
    }

    /// Records a file that could not be read at all.
    pub fn skip_unreadable(&mut self, path: &str, reason: String) {
        self.skip(
            path,
            None,
            NotScannedCode::Unreadable,
            format!("unreadable: {reason}"),
        );
    }

    /// Records that an archive had more entries than `--max-entries`.
    fn skip_rest_of(&mut self, path: &str, archive: Option<&str>) {
        let reason = format!(
            "more than {} entries (--max-entries): the rest not read",
            self.limits.max_entries
        );
        self.skip(
            path,
            archive,
            NotScannedCode::ExceededArchiveFileNumber,
            reason,
        );
    }

    fn skip(&mut self, path: &str, member: Option<&str>, code: NotScannedCode, reason: String) {
        self.walk.skipped.push(Skipped {
            path: path.to_string(),
            member: member.map(str::to_string),
            code,
            reason,
        });
    }

    /// Reads one file (a layer file, or a member of an archive when `member` is set), hashes it,
    /// runs the analyzers that want it and opens it when it is an archive; then tells every
    /// analyzer its digest. Returns its sha256. An error is an error of `reader` itself; trouble
    /// inside a nested archive is recorded.
    pub fn visit_file(
        &mut self,
        path: &str,
        member: Option<&str>,
        size: u64,
        mode: u32,
        reader: &mut dyn Read,
        depth: usize,
    ) -> io::Result<Sha256> {
        let meta = FileMeta {
            path,
            member,
            size,
            mode,
            head: &[],
        };
        let mut tally = Tally::new(self.analyzers);
        let sha256 = self.read_file(meta, reader, depth, &mut tally)?;
        let mut outputs = Vec::new();
        for analyzer in self.analyzers {
            tally.run(analyzer.as_ref(), &mut outputs, |out| {
                analyzer.hashed(&meta, &sha256, out)
            });
        }
        self.record(path, member, outputs);
        if !tally.results.is_empty() {
            self.walk.verdicts.push(FileVerdicts {
                path: path.to_string(),
                member: member.map(str::to_string),
                results: tally.results,
            });
        }
        Ok(sha256)
    }

    fn record(&mut self, path: &str, member: Option<&str>, outputs: Vec<Output>) {
        self.walk
            .outputs
            .extend(outputs.into_iter().map(|output| Located {
                path: path.to_string(),
                member: member.map(str::to_string),
                output,
            }));
    }

    /// Reads the file `file` describes (its `head` empty) from `reader`, running the analyzers
    /// that want it (engines through `tally`) and opening it when it is an archive.
    fn read_file(
        &mut self,
        file: FileMeta<'_>,
        reader: &mut dyn Read,
        depth: usize,
        tally: &mut Tally,
    ) -> io::Result<Sha256> {
        let FileMeta {
            path,
            member,
            size,
            mode,
            ..
        } = file;
        let mut hasher = sha2::Sha256::new();
        let mut head = Vec::with_capacity(HEAD_BYTES.min(size as usize).max(512));
        reader.take(HEAD_BYTES as u64).read_to_end(&mut head)?;
        let meta = FileMeta {
            path,
            member,
            size,
            mode,
            head: &head,
        };
        let analyzers = self.analyzers;
        let wanting: Vec<usize> = (0..analyzers.len())
            .filter(|&i| analyzers[i].wants(&meta))
            .collect();
        let format = match nested::sniff(&head) {
            Some(format) if depth >= self.limits.max_depth => {
                self.skip(
                    path,
                    member,
                    NotScannedCode::ExceededArchiveDepth,
                    format!(
                        "{} archive nested deeper than --max-depth {}: not opened",
                        format.name(),
                        self.limits.max_depth
                    ),
                );
                None
            }
            format => format,
        };

        if wanting.is_empty() && format.is_none() {
            hasher.update(&head);
            self.stream_rest(reader, &mut hasher)?;
            return Ok(Sha256(hasher.finalize().into()));
        }
        if let (true, Some(format)) = (wanting.is_empty(), format.filter(|f| f.is_stream())) {
            let mut tee = Tee {
                inner: Cursor::new(head).chain(reader),
                hasher: &mut hasher,
                failure: None,
            };
            let opened = self.open_stream(format, &mut tee, path, member, depth);
            if let Some(e) = tee.failure.take() {
                return Err(e);
            }
            if let Err(e) = opened {
                self.skip(
                    path,
                    member,
                    nested::code_of(&e),
                    format!("{} archive not fully read: {e}", format.name()),
                );
            }
            let mut rest = tee;
            let mut buf = vec![0; 64 << 10];
            loop {
                match rest.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
            return Ok(Sha256(hasher.finalize().into()));
        }

        // Someone needs the content (or it is a zip): hold up to max_in_memory bytes of it.
        // An archive larger than that is spooled to an unnamed temporary file to be opened.
        let mut content = head;
        let room = (self.limits.max_in_memory as u64).saturating_sub(content.len() as u64);
        // Room for what the header says is left, so that reading does not grow (and copy) the
        // buffer step by step; the header can lie, so the bound stays `room`.
        let expected = size.saturating_sub(content.len() as u64).min(room);
        content.reserve_exact(expected as usize);
        reader.take(room).read_to_end(&mut content)?;
        // Fewer bytes than the room: the reader is at its end and the file is whole in memory.
        let whole = content.len() < self.limits.max_in_memory;
        hasher.update(&content);
        if whole && format.is_none() && !wanting.is_empty() && self.helper.is_some() {
            // Whole in memory and no archive: the helper analyses it while this thread goes on.
            self.hand_over(path, member, size, mode, content, wanting)?;
            return Ok(Sha256(hasher.finalize().into()));
        }
        let mut spool: Result<Option<File>, Failure> = Ok(None);
        let complete = if format.is_some() && !whole {
            let (rest, spooled) = self.spool_rest(reader, &mut hasher, &content)?;
            spool = spooled.map(Some);
            rest == 0
        } else {
            self.stream_rest(reader, &mut hasher)? == 0
        };
        let meta = FileMeta {
            path,
            member,
            size,
            mode,
            head: &content[..content.len().min(HEAD_BYTES)],
        };
        let outputs = helper::analyze(analyzers, &wanting, &meta, &content, complete, tally);
        self.record(path, member, outputs);
        if !complete && !wanting.is_empty() {
            self.skip(
                path,
                member,
                NotScannedCode::ExceededFileSize,
                format!(
                    "only the first {} bytes were analysed (--max-in-memory)",
                    self.limits.max_in_memory
                ),
            );
        }
        if let Some(format) = format {
            let opened = match (complete, spool) {
                (true, _) if format == Format::Zip => self
                    .open_zip(Cursor::new(&content[..]), path, member, depth)
                    .map_err(|e| zip_failure(&e)),
                (true, _) => self
                    .open_stream(format, &mut Cursor::new(&content[..]), path, member, depth)
                    .map_err(|e| io_failure(&e)),
                (false, Ok(Some(mut file))) => {
                    file.rewind()
                        .map_err(|e| io_failure(&e))
                        .and_then(|()| match format {
                            Format::Zip => self
                                .open_zip(io::BufReader::new(file), path, member, depth)
                                .map_err(|e| zip_failure(&e)),
                            _ => self
                                .open_stream(
                                    format,
                                    &mut io::BufReader::new(file),
                                    path,
                                    member,
                                    depth,
                                )
                                .map_err(|e| io_failure(&e)),
                        })
                }
                (false, Ok(None)) => Err((NotScannedCode::FailedToExtract, "not opened".into())),
                (false, Err(failure)) => Err(failure),
            };
            if let Err((code, reason)) = opened {
                self.skip(
                    path,
                    member,
                    code,
                    format!("{} archive not fully read: {reason}", format.name()),
                );
            }
        }
        Ok(Sha256(hasher.finalize().into()))
    }

    /// Sends a file whole in memory to the helper, keeping the places of its outputs and
    /// verdicts (the entry `visit_file` pushes next).
    fn hand_over(
        &mut self,
        path: &str,
        member: Option<&str>,
        size: u64,
        mode: u32,
        content: Vec<u8>,
        wanting: Vec<usize>,
    ) -> io::Result<()> {
        let job = Job {
            outputs_at: self.walk.outputs.len(),
            verdicts_at: self.walk.verdicts.len(),
            path: path.to_string(),
            member: member.map(str::to_string),
            size,
            mode,
            content,
            wanting,
        };
        match &mut self.helper {
            Some(helper) => helper
                .send(job)
                .map_err(|()| io::Error::other("the analysing thread stopped")),
            None => Ok(()),
        }
    }

    /// Hashes the rest of `reader` and writes the whole file (`content` already read, then the
    /// rest) to an unnamed temporary file, up to `--max-member-bytes`. Returns the bytes read
    /// after `content`, and the spool or why there is none. Only `reader`'s errors are errors.
    fn spool_rest(
        &mut self,
        reader: &mut dyn Read,
        hasher: &mut sha2::Sha256,
        content: &[u8],
    ) -> io::Result<(u64, Result<File, Failure>)> {
        let limit = self.limits.max_member_bytes;
        let mut spool = tempfile::tempfile()
            .and_then(|mut file| file.write_all(content).map(|()| file))
            .map_err(|e| {
                (
                    NotScannedCode::FailedToExtract,
                    format!("could not spool to a temporary file: {e}"),
                )
            });
        let mut written = content.len() as u64;
        let mut total = 0;
        loop {
            let n = match reader.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            hasher.update(&self.buf[..n]);
            total += n as u64;
            written += n as u64;
            if written > limit {
                spool = Err((
                    NotScannedCode::ExceededArchiveSize,
                    format!("larger than --max-member-bytes ({limit}): not opened"),
                ));
            }
            if let Ok(file) = &mut spool
                && let Err(e) = file.write_all(&self.buf[..n])
            {
                spool = Err((
                    NotScannedCode::FailedToExtract,
                    format!("could not spool to a temporary file: {e}"),
                ));
            }
        }
        Ok((total, spool))
    }

    /// Hashes the rest of `reader`; returns how many bytes that was.
    fn stream_rest(&mut self, reader: &mut dyn Read, hasher: &mut sha2::Sha256) -> io::Result<u64> {
        let mut total = 0;
        loop {
            match reader.read(&mut self.buf) {
                Ok(0) => return Ok(total),
                Ok(n) => {
                    hasher.update(&self.buf[..n]);
                    total += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Visits a member of an archive and records it.
    fn visit_member(
        &mut self,
        path: &str,
        member: String,
        size: u64,
        mode: u32,
        reader: &mut dyn Read,
        depth: usize,
    ) -> io::Result<()> {
        let sha256 = self.visit_file(path, Some(&member), size, mode, reader, depth)?;
        self.walk.members.push(MemberRecord {
            path: path.to_string(),
            member,
            size,
            sha256,
        });
        Ok(())
    }

    fn bounded<'r>(
        &self,
        inner: &'r mut dyn Read,
        compressed: Option<&'r nested::Counter>,
    ) -> nested::Bounded<'r, 'a> {
        nested::Bounded::new(inner, self.limits, self.nested_budget, compressed)
    }

    /// Opens a tar or a compressed stream and visits what is inside.
    fn open_stream(
        &mut self,
        format: Format,
        reader: &mut dyn Read,
        path: &str,
        prefix: Option<&str>,
        depth: usize,
    ) -> io::Result<()> {
        if format == Format::Tar {
            return self.walk_nested_tar(reader, path, prefix, depth);
        }
        let counter = nested::Counter::default();
        let mut counted = counter.wrap(reader);
        let mut decoder = nested::decoder(format, &mut counted)?;
        let mut expanded = self.bounded(&mut decoder, Some(&counter));
        let mut head = Vec::with_capacity(512);
        (&mut expanded).take(512).read_to_end(&mut head)?;
        let mut inner = Cursor::new(head.clone()).chain(expanded);
        if nested::sniff(&head) == Some(Format::Tar) {
            return self.walk_nested_tar(&mut inner, path, prefix, depth);
        }
        let outer_name = prefix.and_then(|p| p.rsplit('!').next()).unwrap_or(path);
        let base = outer_name.rsplit('/').next().unwrap_or(outer_name);
        let member = join_member(prefix, &nested::strip_extension(base, format));
        self.visit_member(path, member, 0, 0o644, &mut inner, depth + 1)
    }

    fn walk_nested_tar(
        &mut self,
        reader: &mut dyn Read,
        path: &str,
        prefix: Option<&str>,
        depth: usize,
    ) -> io::Result<()> {
        let mut archive = tar::Archive::new(reader);
        let mut count = 0u64;
        for entry in archive.entries()? {
            let mut entry = entry?;
            count += 1;
            if count > self.limits.max_entries {
                self.skip_rest_of(path, prefix);
                return Ok(());
            }
            let kind = entry.header().entry_type();
            if !kind.is_file() {
                continue;
            }
            let name = String::from_utf8_lossy(&entry.path_bytes())
                .trim_start_matches("./")
                .to_string();
            let mode = entry.header().mode().unwrap_or(0) & 0o7777;
            let size = entry.size();
            let member = join_member(prefix, &name);
            let mut bounded = self.bounded(&mut entry, None);
            self.visit_member(path, member, size, mode, &mut bounded, depth + 1)?;
        }
        Ok(())
    }

    fn open_zip<R: Read + io::Seek>(
        &mut self,
        archive: R,
        path: &str,
        prefix: Option<&str>,
        depth: usize,
    ) -> zip::result::ZipResult<()> {
        let mut archive = zip::ZipArchive::new(archive)?;
        for index in 0..archive.len() {
            if index as u64 >= self.limits.max_entries {
                self.skip_rest_of(path, prefix);
                break;
            }
            let mut file = match archive.by_index(index) {
                Ok(file) => file,
                Err(e) => {
                    self.skip(
                        path,
                        prefix,
                        nested::code_of_zip(&e),
                        format!("zip member {index} not read: {e}"),
                    );
                    continue;
                }
            };
            if file.is_dir() {
                continue;
            }
            let member = join_member(prefix, &String::from_utf8_lossy(file.name_raw()));
            let size = file.size();
            let mode = file.unix_mode().unwrap_or(0o644) & 0o7777;
            let counter = nested::Counter::default();
            counter.add(file.compressed_size());
            let mut bounded = self.bounded(&mut file, Some(&counter));
            if let Err(e) =
                self.visit_member(path, member.clone(), size, mode, &mut bounded, depth + 1)
            {
                self.skip(
                    path,
                    Some(&member),
                    nested::code_of(&e),
                    format!("not fully read: {e}"),
                );
            }
        }
        Ok(())
    }
}

/// Hashes what a nested decoder reads of the outer file, and remembers an error of the outer
/// file itself (so it is not mistaken for a problem of the archive inside).
struct Tee<'h, R> {
    inner: R,
    hasher: &'h mut sha2::Sha256,
    failure: Option<io::Error>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.hasher.update(&buf[..n]);
                Ok(n)
            }
            Err(e) => {
                let copy = io::Error::new(e.kind(), e.to_string());
                self.failure = Some(e);
                Err(copy)
            }
        }
    }
}
