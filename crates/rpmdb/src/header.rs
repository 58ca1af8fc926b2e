//! The rpm header blob, as every rpm database stores it (rpm's `headerExport`): a preamble of two
//! big-endian `u32`s (index entry count `il`, data store length `dl`), `il` index entries of 16
//! bytes (`tag`, `type`, `offset` into the store, `count`), then the `dl`-byte data store.
//!
//! Only the tags a package inventory needs are read, each bounds-checked against the store. A tag
//! that occurs more than once (an installed header's "dribble" entries after its immutable
//! region) counts as its last occurrence, as rpm's header import lets dribbles replace region
//! entries.

use thiserror::Error;

use crate::Package;

/// An rpm tag: its number and the name rpm's `--querytags` gives it, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub number: u32,
    pub name: &'static str,
}

pub const NAME: Tag = Tag::new(1000, "NAME");
pub const VERSION: Tag = Tag::new(1001, "VERSION");
pub const RELEASE: Tag = Tag::new(1002, "RELEASE");
pub const EPOCH: Tag = Tag::new(1003, "EPOCH");
pub const LICENSE: Tag = Tag::new(1014, "LICENSE");
pub const ARCH: Tag = Tag::new(1022, "ARCH");
pub const OLDFILENAMES: Tag = Tag::new(1027, "OLDFILENAMES");
pub const SOURCERPM: Tag = Tag::new(1044, "SOURCERPM");
pub const DIRINDEXES: Tag = Tag::new(1116, "DIRINDEXES");
pub const BASENAMES: Tag = Tag::new(1117, "BASENAMES");
pub const DIRNAMES: Tag = Tag::new(1118, "DIRNAMES");

impl Tag {
    const fn new(number: u32, name: &'static str) -> Tag {
        Tag { number, name }
    }
}

/// rpm's limits on a header (`HEADER_TAGS_MAX`, `HEADER_DATA_MAX` in rpm's `header_internal.h`).
const MAX_ENTRIES: u32 = 0xffff;
const MAX_DATA: u32 = 0x0fff_ffff;
const PREAMBLE: usize = 8;
const ENTRY: usize = 16;

/// The file list may spell out at most this many bytes per byte of header (paths repeat their
/// directory, so a crafted header could otherwise ask for a directory name times every file).
/// Real headers spell out far less than they hold: at most 0.65 bytes of paths per byte of
/// header over the 2719 packages of ten CentOS 5 to 8 databases (their per-file digests, sizes,
/// modes and owners take more room than the paths).
const MAX_PATH_EXPANSION: usize = 4;

/// rpm's data types (`rpmTagType`).
const INT32: u32 = 4;
const STRING: u32 = 6;
const STRING_ARRAY: u32 = 8;
const I18NSTRING: u32 = 9;

/// What is wrong with a header blob.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HeaderError {
    #[error("header is {len} bytes, shorter than its 8-byte preamble")]
    TooShort { len: usize },
    #[error("header declares {entries} index entries (rpm allows at most {MAX_ENTRIES})")]
    TooManyEntries { entries: u32 },
    #[error("header declares a {bytes}-byte data store (rpm allows at most {MAX_DATA})")]
    DataTooLarge { bytes: u32 },
    #[error(
        "header declares {entries} index entries and {data} bytes of data ({expected} bytes in all) but is {actual} bytes"
    )]
    SizeMismatch {
        entries: u32,
        data: u32,
        expected: u64,
        actual: usize,
    },
    #[error("header has no {} tag ({})", .0.name, .0.number)]
    Missing(Tag),
    #[error("tag {} ({}) has type {found}, expected {expected}", .tag.name, .tag.number)]
    WrongType {
        tag: Tag,
        found: u32,
        expected: &'static str,
    },
    #[error(
        "tag {} ({}): {count} value(s) at offset {offset} run past the {store}-byte data store",
        .tag.name, .tag.number
    )]
    OutOfBounds {
        tag: Tag,
        offset: u32,
        count: u32,
        store: usize,
    },
    #[error("tag {} ({}) has no value", .0.name, .0.number)]
    Empty(Tag),
    #[error("{basenames} BASENAMES but {dirindexes} DIRINDEXES")]
    FileCountMismatch { basenames: usize, dirindexes: usize },
    #[error("file {file}: DIRINDEXES entry {index} is past the {dirnames} DIRNAMES")]
    BadDirIndex {
        file: usize,
        index: u32,
        dirnames: usize,
    },
    #[error("file list spells out more than {limit} bytes of paths")]
    FilesTooLarge { limit: usize },
}

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    kind: u32,
    offset: u32,
    count: u32,
}

/// A header blob whose preamble and sizes have been checked.
struct Header<'a> {
    index: &'a [u8],
    store: &'a [u8],
}

fn be32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    if let Some(slice) = bytes.get(at..at + 4) {
        word.copy_from_slice(slice);
    }
    u32::from_be_bytes(word)
}

impl<'a> Header<'a> {
    fn parse(blob: &'a [u8]) -> Result<Header<'a>, HeaderError> {
        if blob.len() < PREAMBLE {
            return Err(HeaderError::TooShort { len: blob.len() });
        }
        let entries = be32(blob, 0);
        let data = be32(blob, 4);
        if entries > MAX_ENTRIES {
            return Err(HeaderError::TooManyEntries { entries });
        }
        if data > MAX_DATA {
            return Err(HeaderError::DataTooLarge { bytes: data });
        }
        let expected = PREAMBLE as u64 + u64::from(entries) * ENTRY as u64 + u64::from(data);
        if expected != blob.len() as u64 {
            return Err(HeaderError::SizeMismatch {
                entries,
                data,
                expected,
                actual: blob.len(),
            });
        }
        // Both fit: the sum equals the blob's length.
        let store_start = PREAMBLE + entries as usize * ENTRY;
        Ok(Header {
            index: &blob[PREAMBLE..store_start],
            store: &blob[store_start..],
        })
    }

    /// The last index entry for `tag`.
    fn entry(&self, tag: Tag) -> Option<IndexEntry> {
        self.index
            .chunks_exact(ENTRY)
            .rev()
            .find(|entry| be32(entry, 0) == tag.number)
            .map(|entry| IndexEntry {
                kind: be32(entry, 4),
                offset: be32(entry, 8),
                count: be32(entry, 12),
            })
    }

    fn out_of_bounds(&self, tag: Tag, entry: IndexEntry) -> HeaderError {
        HeaderError::OutOfBounds {
            tag,
            offset: entry.offset,
            count: entry.count,
            store: self.store.len(),
        }
    }

    /// `count` NUL-terminated strings starting at the entry's offset.
    fn strings(&self, tag: Tag, entry: IndexEntry) -> Result<Vec<&'a [u8]>, HeaderError> {
        let store = self.store;
        let mut rest = store
            .get(entry.offset as usize..)
            .ok_or_else(|| self.out_of_bounds(tag, entry))?;
        // Every string takes at least its NUL: a count beyond the bytes left cannot be right,
        // and checking it first bounds the allocation.
        if entry.count as usize > rest.len() {
            return Err(self.out_of_bounds(tag, entry));
        }
        let mut strings = Vec::with_capacity(entry.count as usize);
        for _ in 0..entry.count {
            let end = rest
                .iter()
                .position(|&b| b == 0)
                .ok_or_else(|| self.out_of_bounds(tag, entry))?;
            strings.push(&rest[..end]);
            rest = &rest[end + 1..];
        }
        Ok(strings)
    }

    /// A string tag's value (the first translation of an i18n string).
    fn string(&self, tag: Tag) -> Result<Option<String>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if !matches!(entry.kind, STRING | STRING_ARRAY | I18NSTRING) {
            return Err(HeaderError::WrongType {
                tag,
                found: entry.kind,
                expected: "a string",
            });
        }
        // A STRING has one value whatever its count says.
        let entry = IndexEntry {
            count: if entry.kind == STRING { 1 } else { entry.count },
            ..entry
        };
        let strings = self.strings(tag, entry)?;
        let first = strings.first().ok_or(HeaderError::Empty(tag))?;
        Ok(Some(String::from_utf8_lossy(first).into_owned()))
    }

    fn required_string(&self, tag: Tag) -> Result<String, HeaderError> {
        self.string(tag)?.ok_or(HeaderError::Missing(tag))
    }

    fn string_array(&self, tag: Tag) -> Result<Option<Vec<&'a [u8]>>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if !matches!(entry.kind, STRING_ARRAY | I18NSTRING) {
            return Err(HeaderError::WrongType {
                tag,
                found: entry.kind,
                expected: "a string array",
            });
        }
        self.strings(tag, entry).map(Some)
    }

    fn int32s(&self, tag: Tag) -> Result<Option<Vec<u32>>, HeaderError> {
        let Some(entry) = self.entry(tag) else {
            return Ok(None);
        };
        if entry.kind != INT32 {
            return Err(HeaderError::WrongType {
                tag,
                found: entry.kind,
                expected: "INT32",
            });
        }
        let bytes = (entry.offset as usize)
            .checked_add(entry.count as usize * 4)
            .and_then(|end| self.store.get(entry.offset as usize..end))
            .ok_or_else(|| self.out_of_bounds(tag, entry))?;
        Ok(Some(
            bytes.chunks_exact(4).map(|word| be32(word, 0)).collect(),
        ))
    }

    /// The installed paths: BASENAMES joined to DIRNAMES through DIRINDEXES, or the
    /// OLDFILENAMES of packages built before rpm 4.
    fn files(&self, budget: usize) -> Result<Vec<String>, HeaderError> {
        let too_large = HeaderError::FilesTooLarge { limit: budget };
        let Some(basenames) = self.string_array(BASENAMES)? else {
            let old = self.string_array(OLDFILENAMES)?.unwrap_or_default();
            if old.iter().map(|path| path.len()).sum::<usize>() > budget {
                return Err(too_large);
            }
            return Ok(old
                .into_iter()
                .map(|path| String::from_utf8_lossy(path).into_owned())
                .collect());
        };
        let dirnames = self.string_array(DIRNAMES)?.unwrap_or_default();
        let dirindexes = self.int32s(DIRINDEXES)?.unwrap_or_default();
        if dirindexes.len() != basenames.len() {
            return Err(HeaderError::FileCountMismatch {
                basenames: basenames.len(),
                dirindexes: dirindexes.len(),
            });
        }
        let mut spent = 0usize;
        let mut files = Vec::with_capacity(basenames.len());
        for (file, (basename, &index)) in basenames.iter().zip(&dirindexes).enumerate() {
            let dirname = dirnames
                .get(index as usize)
                .ok_or(HeaderError::BadDirIndex {
                    file,
                    index,
                    dirnames: dirnames.len(),
                })?;
            spent = spent.saturating_add(dirname.len() + basename.len());
            if spent > budget {
                return Err(too_large);
            }
            let mut path = Vec::with_capacity(dirname.len() + basename.len());
            path.extend_from_slice(dirname);
            path.extend_from_slice(basename);
            files.push(String::from_utf8_lossy(&path).into_owned());
        }
        Ok(files)
    }
}

/// Parses one header blob into a package.
pub fn parse(blob: &[u8]) -> Result<Package, HeaderError> {
    let header = Header::parse(blob)?;
    let epoch = match header.int32s(EPOCH)? {
        Some(values) => Some(*values.first().ok_or(HeaderError::Empty(EPOCH))?),
        None => None,
    };
    Ok(Package {
        name: header.required_string(NAME)?,
        epoch,
        version: header.required_string(VERSION)?,
        release: header.required_string(RELEASE)?,
        arch: header.string(ARCH)?,
        source_rpm: header.string(SOURCERPM)?,
        license: header.string(LICENSE)?,
        files: header.files(blob.len().saturating_mul(MAX_PATH_EXPANSION))?,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Builds a header blob from `(tag, type, count, data)` entries, data stored in order.
    pub(crate) fn blob(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut store = Vec::new();
        for (tag, kind, count, data) in entries {
            if *kind == INT32 {
                while store.len() % 4 != 0 {
                    store.push(0);
                }
            }
            index.extend_from_slice(&tag.to_be_bytes());
            index.extend_from_slice(&kind.to_be_bytes());
            index.extend_from_slice(&(store.len() as u32).to_be_bytes());
            index.extend_from_slice(&count.to_be_bytes());
            store.extend_from_slice(data);
        }
        let mut blob = Vec::new();
        blob.extend_from_slice(&(entries.len() as u32).to_be_bytes());
        blob.extend_from_slice(&(store.len() as u32).to_be_bytes());
        blob.extend_from_slice(&index);
        blob.extend_from_slice(&store);
        blob
    }

    fn string(tag: Tag, value: &str) -> (u32, u32, u32, Vec<u8>) {
        (tag.number, STRING, 1, format!("{value}\0").into_bytes())
    }

    fn array(tag: Tag, values: &[&str]) -> (u32, u32, u32, Vec<u8>) {
        let data = values.iter().flat_map(|v| format!("{v}\0").into_bytes());
        (
            tag.number,
            STRING_ARRAY,
            values.len() as u32,
            data.collect(),
        )
    }

    fn int32s(tag: Tag, values: &[u32]) -> (u32, u32, u32, Vec<u8>) {
        let data = values.iter().flat_map(|v| v.to_be_bytes());
        (tag.number, INT32, values.len() as u32, data.collect())
    }

    /// A small but complete header: bash with an epoch and three files in two directories.
    pub(crate) fn bash() -> Vec<u8> {
        blob(&[
            string(NAME, "bash"),
            int32s(EPOCH, &[1]),
            string(VERSION, "5.1.8"),
            string(RELEASE, "6.el9"),
            (LICENSE.number, I18NSTRING, 1, b"GPLv3+\0".to_vec()),
            string(ARCH, "x86_64"),
            string(SOURCERPM, "bash-5.1.8-6.el9.src.rpm"),
            int32s(DIRINDEXES, &[0, 1, 1]),
            array(BASENAMES, &["bash", "bash", "sh"]),
            array(DIRNAMES, &["/etc/skel/", "/usr/bin/"]),
        ])
    }

    /// `blob` with one more (unread) tag, 256 bytes longer.
    pub(crate) fn with_padding(blob: &[u8]) -> Vec<u8> {
        let header = Header::parse(blob).unwrap();
        let mut entries: Vec<(u32, u32, u32, Vec<u8>)> = header
            .index
            .chunks_exact(ENTRY)
            .map(|e| {
                let (kind, offset, count) = (be32(e, 4), be32(e, 8) as usize, be32(e, 12));
                // Each value runs to the next entry's offset (entries are stored in order).
                let end = header
                    .index
                    .chunks_exact(ENTRY)
                    .map(|e| be32(e, 8) as usize)
                    .filter(|&o| o > offset)
                    .min()
                    .unwrap_or(header.store.len());
                (be32(e, 0), kind, count, header.store[offset..end].to_vec())
            })
            .collect();
        entries.push((1005, 7, 256, vec![0xaa; 256]));
        super::tests::blob(&entries)
    }

    #[test]
    fn a_complete_header() {
        let package = parse(&bash()).unwrap();
        assert_eq!(
            package,
            Package {
                name: "bash".into(),
                epoch: Some(1),
                version: "5.1.8".into(),
                release: "6.el9".into(),
                arch: Some("x86_64".into()),
                source_rpm: Some("bash-5.1.8-6.el9.src.rpm".into()),
                license: Some("GPLv3+".into()),
                files: vec![
                    "/etc/skel/bash".into(),
                    "/usr/bin/bash".into(),
                    "/usr/bin/sh".into()
                ],
            }
        );
        assert_eq!(package.evr(), "1:5.1.8-6.el9");
    }

    #[test]
    fn old_file_names_and_no_epoch() {
        let blob = blob(&[
            string(NAME, "setup"),
            string(VERSION, "2.5.58"),
            string(RELEASE, "9.el5"),
            array(OLDFILENAMES, &["/etc/passwd", "/etc/group"]),
        ]);
        let package = parse(&blob).unwrap();
        assert_eq!(package.epoch, None);
        assert_eq!(package.evr(), "2.5.58-9.el5");
        assert_eq!(package.files, ["/etc/passwd", "/etc/group"]);
        assert_eq!(package.arch, None);
    }

    #[test]
    fn the_last_occurrence_of_a_tag_counts() {
        let blob = blob(&[
            string(NAME, "old"),
            string(VERSION, "1"),
            string(RELEASE, "1"),
            string(NAME, "new"),
        ]);
        assert_eq!(parse(&blob).unwrap().name, "new");
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let missing = blob(&[string(NAME, "x"), string(VERSION, "1")]);
        assert_eq!(parse(&missing), Err(HeaderError::Missing(RELEASE)));
        assert_eq!(
            parse(&missing).unwrap_err().to_string(),
            "header has no RELEASE tag (1002)"
        );
        let wrong_type = blob(&[int32s(NAME, &[7])]);
        assert!(matches!(
            parse(&wrong_type),
            Err(HeaderError::WrongType {
                tag: NAME,
                found: INT32,
                ..
            })
        ));
        let bad_index = blob(&[
            string(NAME, "x"),
            string(VERSION, "1"),
            string(RELEASE, "1"),
            int32s(DIRINDEXES, &[0, 5]),
            array(BASENAMES, &["a", "b"]),
            array(DIRNAMES, &["/"]),
        ]);
        assert_eq!(
            parse(&bad_index),
            Err(HeaderError::BadDirIndex {
                file: 1,
                index: 5,
                dirnames: 1
            })
        );
        let huge_count = blob(&[(NAME.number, STRING_ARRAY, u32::MAX, b"x\0".to_vec())]);
        assert!(matches!(
            parse(&huge_count),
            Err(HeaderError::OutOfBounds { tag: NAME, .. })
        ));
        assert_eq!(
            parse(&[0, 0, 0, 1, 0, 0, 0, 0]),
            Err(HeaderError::SizeMismatch {
                entries: 1,
                data: 0,
                expected: 24,
                actual: 8
            })
        );
    }

    #[test]
    fn a_long_directory_repeated_is_refused() {
        let long = format!("/{}/", "d".repeat(1000));
        let count = 200;
        let blob = blob(&[
            string(NAME, "x"),
            string(VERSION, "1"),
            string(RELEASE, "1"),
            int32s(DIRINDEXES, &vec![0; count]),
            array(BASENAMES, &vec!["f"; count]),
            array(DIRNAMES, &[&long]),
        ]);
        assert!(matches!(
            parse(&blob),
            Err(HeaderError::FilesTooLarge { .. })
        ));
    }

    /// Every truncation and thousands of byte mutations of a real-shaped header: errors or
    /// packages, never a panic.
    #[test]
    fn truncated_and_mutated_headers_are_errors() {
        let good = bash();
        for len in 0..good.len() {
            assert!(parse(&good[..len]).is_err(), "truncated to {len} bytes");
        }
        let mut state = 0x2545_f491_u32;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state
        };
        // Every index entry pointed past the data store: all the tags read are checked.
        let entries = be32(&good, 0) as usize;
        let store = be32(&good, 4);
        for i in 0..entries {
            let mut bad = good.clone();
            let at = PREAMBLE + i * ENTRY + 8;
            bad[at..at + 4].copy_from_slice(&store.to_be_bytes());
            assert!(
                matches!(parse(&bad), Err(HeaderError::OutOfBounds { .. })),
                "entry {i}"
            );
        }
        let mut errors = 0;
        for _ in 0..20_000 {
            let mut mutated = good.clone();
            for _ in 0..1 + next() % 4 {
                let at = next() as usize % mutated.len();
                mutated[at] = next() as u8;
            }
            errors += usize::from(parse(&mutated).is_err());
        }
        assert!(errors > 0);
    }
}
