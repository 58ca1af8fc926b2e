//! Reads the build info that the Go toolchain embeds in every binary it links (what
//! `go version -m BINARY` prints): the Go version, the main module, every dependency module with
//! its replacement and checksum, and the build settings.
//!
//! The linker writes a 32-byte header, 16-byte aligned, at the start of the `.go.buildinfo`
//! section (ELF, Mach-O `__go_buildinfo`) or of the data section (PE):
//!
//! ```text
//! 0   "\xff Go buildinf:"   magic, 14 bytes
//! 14  pointer size          4 or 8
//! 15  flags                 bit 0: big-endian; bit 1: strings inline (Go 1.18 and later)
//! 16  two pointers          (pointer form) addresses of the Go string headers of
//!                           runtime.buildVersion and runtime.modinfo
//! 32  two strings           (inline form) each a uvarint length, then the bytes
//! ```
//!
//! In the pointer form (Go 1.13 to 1.17) each pointer is a virtual address: it is resolved to a
//! file offset through the ELF program headers, PE sections or Mach-O segments (`object`), the
//! string header there gives the address and length of the bytes. The modinfo string is framed by
//! two 16-byte sentinels and holds tab-separated lines (`path`, `mod`, `dep`, `=>`, `build`).
//!
//! Finding the header is a scan for the magic at 16-byte aligned offsets within the sections
//! that hold build info (`.go.buildinfo`, then the data section: a Go binary that embeds another
//! Go binary, or that links `debug/buildinfo` and so holds the magic as a string literal, still
//! reads as itself); a candidate counts only when it decodes to a plausible Go version. Without
//! a section table (stripped section headers, a truncated binary) the whole input is scanned, so
//! a truncated binary still reads when its build info is within what there is.
//!
//! The input is untrusted: every length and address is checked against the input, nothing is
//! allocated from a length the input claims, and malformed modinfo lines are skipped rather
//! than failing the whole binary.

use object::{Object, ObjectSection, ObjectSegment};

/// The magic that starts the build info header.
pub const MAGIC: &[u8; 14] = b"\xff Go buildinf:";

const HEADER_LEN: usize = 32;
const ALIGN: usize = 16;
/// Flag bit: the two strings follow the header inline, varint-prefixed (Go 1.18+).
const FLAG_INLINE: u8 = 0x2;
/// Flag bit: pointers are big-endian (pointer form only).
const FLAG_BIG_ENDIAN: u8 = 0x1;
/// The sentinels around the modinfo string (cmd/go's `infoStart` / `infoEnd`) are this long.
const SENTINEL_LEN: usize = 16;
/// The longest Go version string accepted (`devel go1.23-abcdef Tue Jan 2 ...` is ~60 bytes).
const MAX_VERSION_LEN: usize = 1024;

/// Why no build info could be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// No `\xff Go buildinf:` header at a 16-byte aligned offset: not a Go binary (or its build
    /// info lies beyond the bytes given).
    #[error("no Go build info header found")]
    NotFound,
    /// A header was found but is malformed.
    #[error("Go build info header at offset {offset}: {reason}")]
    BadHeader { offset: usize, reason: &'static str },
    /// A pointer of the pre-1.18 form points outside every mapped part of the file.
    #[error("Go build info address {address:#x} is not mapped to the file")]
    Unmapped { address: u64 },
    /// The pre-1.18 form needs the file's segments, and the file could not be parsed.
    #[error("Go build info uses pointers, but the executable's headers are unreadable: {0}")]
    Executable(String),
}

/// A module: the main module or a dependency.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Module {
    /// Module path (`golang.org/x/net`), or for a replacement a module path or a directory.
    pub path: String,
    /// Version (`v0.1.0`, `(devel)`); empty for a directory replacement.
    pub version: String,
    /// The `go.sum` checksum (`h1:...`), empty when there is none (replaced, vendored, main).
    pub sum: String,
    /// What the module was replaced with (`replace` directive), if it was.
    pub replace: Option<Box<Module>>,
}

/// One `build` line: a build setting (`-ldflags`, `GOOS`, `vcs.revision`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSetting {
    pub key: String,
    pub value: String,
}

/// The build info of a Go binary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BuildInfo {
    /// The toolchain's version: `go1.21.5`, `go1.22.0 X:boringcrypto`, `devel go1.23-...`.
    pub go_version: String,
    /// The main package's import path (`path` line), empty when not recorded.
    pub path: String,
    /// The main module (`mod` line); `None` for binaries built outside a module.
    pub main: Option<Module>,
    /// Dependency modules (`dep` lines), in the order recorded.
    pub deps: Vec<Module>,
    /// Build settings (`build` lines), in the order recorded; Go 1.18 and later.
    pub settings: Vec<BuildSetting>,
}

impl BuildInfo {
    /// The value of a build setting.
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|setting| setting.key == key)
            .map(|setting| setting.value.as_str())
    }
}

/// Reads the build info of a Go executable (ELF, PE or Mach-O) from its bytes, or from a prefix
/// of them.
pub fn read(data: &[u8]) -> Result<BuildInfo, Error> {
    let (go_version, modinfo) = read_strings(data)?;
    let mut info = parse_modinfo(&strip_sentinels(&modinfo));
    info.go_version = go_version;
    Ok(info)
}

/// The Go version and the raw modinfo string (still framed by its sentinels, when it has them).
pub fn read_strings(data: &[u8]) -> Result<(String, Vec<u8>), Error> {
    let file = object::File::parse(data);
    let mut first_error = None;
    let mut ranges = preferred_ranges(file.as_ref().ok(), data.len());
    // Like Go's own reader, a file whose section table is there is searched only in the sections
    // that hold build info; the whole file only when there is no section table to go by (a
    // stripped or truncated binary), so that other executables are not read twice over.
    let has_sections = file.as_ref().is_ok_and(|f| f.sections().next().is_some());
    if !has_sections {
        ranges.push((0, data.len()));
    }
    for (start, end) in ranges {
        for offset in candidates(data, start, end) {
            match decode_header(data, offset, file.as_ref()) {
                Ok(strings) => return Ok(strings),
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
    }
    Err(first_error.unwrap_or(Error::NotFound))
}

/// The file ranges of the sections that hold build info when the file's headers name them.
fn preferred_ranges(file: Option<&object::File<'_>>, len: usize) -> Vec<(usize, usize)> {
    let Some(file) = file else {
        return Vec::new();
    };
    [".go.buildinfo", "__go_buildinfo", ".data", "__data"]
        .into_iter()
        .filter_map(|name| file.section_by_name(name)?.file_range())
        .filter_map(|(offset, size)| {
            let start = usize::try_from(offset).ok()?;
            let end = usize::try_from(offset.saturating_add(size)).unwrap_or(len);
            (start < len).then_some((start, end.min(len)))
        })
        .collect()
}

/// Offsets of the magic at 16-byte steps in `start..end`, each with room for the header.
fn candidates(data: &[u8], start: usize, end: usize) -> impl Iterator<Item = usize> + '_ {
    (start..end.min(data.len()).saturating_sub(HEADER_LEN - 1))
        .step_by(ALIGN)
        .filter(move |&offset| data[offset..].starts_with(MAGIC))
}

fn bad(offset: usize, reason: &'static str) -> Error {
    Error::BadHeader { offset, reason }
}

fn decode_header(
    data: &[u8],
    offset: usize,
    file: Result<&object::File<'_>, &object::Error>,
) -> Result<(String, Vec<u8>), Error> {
    let header = data
        .get(offset..offset + HEADER_LEN)
        .ok_or_else(|| bad(offset, "truncated header"))?;
    let pointer_size = usize::from(header[14]);
    let flags = header[15];
    if pointer_size != 4 && pointer_size != 8 {
        return Err(bad(offset, "pointer size is neither 4 nor 8"));
    }
    let (version, modinfo) = if flags & FLAG_INLINE != 0 {
        let rest = &data[offset + HEADER_LEN..];
        let (version, rest) =
            inline_string(rest).ok_or_else(|| bad(offset, "bad inline version string"))?;
        let (modinfo, _) =
            inline_string(rest).ok_or_else(|| bad(offset, "bad inline modinfo string"))?;
        (version, modinfo)
    } else {
        let file = file.map_err(|error| Error::Executable(error.to_string()))?;
        let reader = Pointers {
            data,
            file,
            size: pointer_size,
            big_endian: flags & FLAG_BIG_ENDIAN != 0,
        };
        let version_at = reader.pointer(&header[16..]);
        let modinfo_at = reader.pointer(&header[16 + pointer_size..]);
        (reader.string(version_at)?, reader.string(modinfo_at)?)
    };
    if !plausible_version(version) {
        return Err(bad(offset, "no Go version string"));
    }
    Ok((
        String::from_utf8_lossy(version).into_owned(),
        modinfo.to_vec(),
    ))
}

/// A Go version string: non-empty, short, printable text.
fn plausible_version(version: &[u8]) -> bool {
    !version.is_empty()
        && version.len() <= MAX_VERSION_LEN
        && std::str::from_utf8(version).is_ok_and(|text| !text.chars().any(char::is_control))
}

/// A uvarint-length-prefixed string and what follows it.
fn inline_string(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, used) = uvarint(data)?;
    let len = usize::try_from(len).ok()?;
    let rest = data.get(used..)?;
    (len <= rest.len()).then(|| rest.split_at(len))
}

/// Go's `binary.Uvarint`: the value and the number of bytes read.
fn uvarint(data: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &byte) in data.iter().enumerate().take(10) {
        if i == 9 && byte > 1 {
            return None;
        }
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Reads the pointer form through the executable's address map.
struct Pointers<'a, 'f> {
    data: &'a [u8],
    file: &'f object::File<'a>,
    size: usize,
    big_endian: bool,
}

impl<'a> Pointers<'a, '_> {
    /// The pointer at the start of `bytes` (which hold at least one: the callers slice them).
    fn pointer(&self, bytes: &[u8]) -> u64 {
        let bytes = &bytes[..self.size.min(bytes.len())];
        let fold = |value: u64, byte: &u8| (value << 8) | u64::from(*byte);
        if self.big_endian {
            bytes.iter().fold(0, fold)
        } else {
            bytes.iter().rev().fold(0, fold)
        }
    }

    /// `len` bytes at virtual address `address`, from the segment that maps it.
    fn read_at(&self, address: u64, len: u64) -> Result<&'a [u8], Error> {
        let unmapped = || Error::Unmapped { address };
        for segment in self.file.segments() {
            let (file_offset, file_size) = segment.file_range();
            let Some(delta) = address.checked_sub(segment.address()) else {
                continue;
            };
            if delta >= file_size {
                continue;
            }
            if len > file_size - delta {
                return Err(unmapped());
            }
            let from = file_offset
                .checked_add(delta)
                .and_then(|from| usize::try_from(from).ok())
                .ok_or_else(unmapped)?;
            let len = usize::try_from(len).map_err(|_| unmapped())?;
            return self
                .data
                .get(from..)
                .and_then(|rest| rest.get(..len))
                .ok_or_else(unmapped);
        }
        Err(unmapped())
    }

    /// The bytes of the Go string whose header (data pointer, length) is at `address`.
    fn string(&self, address: u64) -> Result<&'a [u8], Error> {
        let header = self.read_at(address, 2 * self.size as u64)?;
        let data = self.pointer(header);
        let len = self.pointer(&header[self.size..]);
        self.read_at(data, len)
    }
}

/// The modinfo text without its sentinels; empty when it has none (as Go's reader does).
fn strip_sentinels(modinfo: &[u8]) -> String {
    let len = modinfo.len();
    if len > 2 * SENTINEL_LEN && modinfo[len - SENTINEL_LEN - 1] == b'\n' {
        String::from_utf8_lossy(&modinfo[SENTINEL_LEN..len - SENTINEL_LEN]).into_owned()
    } else {
        String::new()
    }
}

/// Parses the modinfo lines (as `runtime/debug.ParseBuildInfo` does, but a malformed line is
/// skipped instead of rejecting everything). The Go version is left empty.
pub fn parse_modinfo(text: &str) -> BuildInfo {
    let mut info = BuildInfo::default();
    // Where a `=>` line attaches: the main module, a dependency, or nothing.
    #[derive(Clone, Copy)]
    enum Last {
        None,
        Main,
        Dep(usize),
    }
    let mut last = Last::None;
    // Only complete lines count: Go drops a last line without its newline.
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines.pop();
    for line in lines {
        let (word, rest) = line.split_once('\t').unwrap_or((line, ""));
        match word {
            "path" => info.path = rest.to_string(),
            "mod" => {
                info.main = module_line(rest);
                last = if info.main.is_some() {
                    Last::Main
                } else {
                    Last::None
                };
            }
            "dep" => match module_line(rest) {
                Some(module) => {
                    info.deps.push(module);
                    last = Last::Dep(info.deps.len() - 1);
                }
                None => last = Last::None,
            },
            "=>" => {
                let columns: Vec<&str> = rest.split('\t').collect();
                let target = match last {
                    Last::Main => info.main.as_mut(),
                    Last::Dep(i) => info.deps.get_mut(i),
                    Last::None => None,
                };
                if let (Some(module), [path, version, sum]) = (target, columns.as_slice()) {
                    module.replace = Some(Box::new(Module {
                        path: path.to_string(),
                        version: version.to_string(),
                        sum: sum.to_string(),
                        replace: None,
                    }));
                }
                last = Last::None;
            }
            "build" => {
                if let Some(setting) = build_line(rest) {
                    info.settings.push(setting);
                }
            }
            _ => {}
        }
    }
    info
}

/// `path version [sum]`.
fn module_line(rest: &str) -> Option<Module> {
    let columns: Vec<&str> = rest.split('\t').collect();
    let (path, version, sum) = match columns.as_slice() {
        [path, version] => (path, version, ""),
        [path, version, sum] => (path, version, *sum),
        _ => return None,
    };
    Some(Module {
        path: path.to_string(),
        version: version.to_string(),
        sum: sum.to_string(),
        replace: None,
    })
}

/// `key=value`, either side possibly Go-quoted.
fn build_line(kv: &str) -> Option<BuildSetting> {
    let (key, raw_value) = match kv.as_bytes().first()? {
        b'=' => return None,
        b'"' | b'`' => {
            let (key, len) = unquote_prefix(kv)?;
            (key, kv[len..].strip_prefix('=')?)
        }
        _ => {
            let (key, value) = kv.split_once('=')?;
            (key.to_string(), value)
        }
    };
    let value = match raw_value.as_bytes().first() {
        Some(b'"' | b'`') => match unquote_prefix(raw_value)? {
            (value, len) if len == raw_value.len() => value,
            _ => return None,
        },
        _ => raw_value.to_string(),
    };
    Some(BuildSetting { key, value })
}

/// Go's `strconv.QuotedPrefix` + `Unquote`: the quoted string at the start of `text` (double
/// quotes with Go escapes, or back quotes), and how many bytes it took.
fn unquote_prefix(text: &str) -> Option<(String, usize)> {
    let mut chars = text.char_indices();
    let (_, quote) = chars.next()?;
    if quote == '`' {
        let end = text[1..].find('`')? + 1;
        return Some((text[1..end].replace('\r', ""), end + 1));
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, i + 1)),
            '\n' => return None,
            '\\' => {
                let (_, escape) = chars.next()?;
                let simple = match escape {
                    'a' => Some('\x07'),
                    'b' => Some('\x08'),
                    'f' => Some('\x0c'),
                    'n' => Some('\n'),
                    'r' => Some('\r'),
                    't' => Some('\t'),
                    'v' => Some('\x0b'),
                    '\\' => Some('\\'),
                    '"' => Some('"'),
                    '\'' => Some('\''),
                    _ => None,
                };
                if let Some(c) = simple {
                    out.push(c);
                    continue;
                }
                let (digits, radix) = match escape {
                    'x' => (2, 16),
                    'u' => (4, 16),
                    'U' => (8, 16),
                    '0'..='7' => (2, 8),
                    _ => return None,
                };
                let mut value = if radix == 8 { escape.to_digit(8)? } else { 0 };
                for _ in 0..digits {
                    let (_, digit) = chars.next()?;
                    value = value
                        .checked_mul(radix)?
                        .checked_add(digit.to_digit(radix)?)?;
                }
                if escape == 'x' || radix == 8 {
                    // A byte; Go strings may hold any bytes, text here is UTF-8.
                    let byte = u8::try_from(value).ok()?;
                    out.push(char::from(byte));
                } else {
                    out.push(char::from_u32(value)?);
                }
            }
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &[u8; 16] = b"0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6";
    const END: &[u8; 16] = b"\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2";

    const MODINFO: &str = "path\texample.com/hello\n\
        mod\texample.com/hello\t(devel)\t\n\
        dep\tgolang.org/x/text\tv0.3.7\th1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=\n\
        dep\texample.com/lib\tv0.0.0\n\
        =>\t../lib\t\t\n\
        build\t-compiler=gc\n\
        build\t-ldflags=\"-s -w -X \\\"main.v=1\\\"\"\n\
        build\t\"quoted key\"=`raw value`\n\
        build\tGOOS=linux\n";

    fn framed(modinfo: &str) -> Vec<u8> {
        let mut out = START.to_vec();
        out.extend_from_slice(modinfo.as_bytes());
        out.extend_from_slice(END);
        out
    }

    fn varint(mut n: usize, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push((n as u8) | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }

    fn inline_blob(version: &str, modinfo: &[u8]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&[8, FLAG_INLINE]);
        out.resize(HEADER_LEN, 0);
        varint(version.len(), &mut out);
        out.extend_from_slice(version.as_bytes());
        varint(modinfo.len(), &mut out);
        out.extend_from_slice(modinfo);
        out
    }

    fn expected() -> BuildInfo {
        BuildInfo {
            go_version: "go1.21.5".into(),
            path: "example.com/hello".into(),
            main: Some(Module {
                path: "example.com/hello".into(),
                version: "(devel)".into(),
                ..Module::default()
            }),
            deps: vec![
                Module {
                    path: "golang.org/x/text".into(),
                    version: "v0.3.7".into(),
                    sum: "h1:olpwvP2KacW1ZWvsR7uQhoyTYvKAupfQrRGBFM352Gk=".into(),
                    replace: None,
                },
                Module {
                    path: "example.com/lib".into(),
                    version: "v0.0.0".into(),
                    sum: String::new(),
                    replace: Some(Box::new(Module {
                        path: "../lib".into(),
                        ..Module::default()
                    })),
                },
            ],
            settings: [
                ("-compiler", "gc"),
                ("-ldflags", "-s -w -X \"main.v=1\""),
                ("quoted key", "raw value"),
                ("GOOS", "linux"),
            ]
            .into_iter()
            .map(|(key, value)| BuildSetting {
                key: key.into(),
                value: value.into(),
            })
            .collect(),
        }
    }

    #[test]
    fn inline_form_at_an_aligned_offset() {
        let mut data = vec![0u8; 100];
        // A misaligned magic first, as a string literal in rodata could be.
        data[37..51].copy_from_slice(MAGIC);
        data.resize(128, 0);
        data.extend(inline_blob("go1.21.5", &framed(MODINFO)));
        assert_eq!(read(&data).unwrap(), expected());
    }

    #[test]
    fn an_aligned_magic_that_does_not_decode_is_passed_over() {
        let mut data = MAGIC.to_vec();
        data.extend_from_slice(&[8, FLAG_INLINE]);
        data.resize(HEADER_LEN, 0);
        data.extend_from_slice(&[0xff; 16]); // a varint that never ends
        data.extend(inline_blob("go1.21.5", &framed(MODINFO)));
        assert_eq!(read(&data).unwrap(), expected());
    }

    #[test]
    fn not_go() {
        assert_eq!(read(b""), Err(Error::NotFound));
        assert_eq!(read(&[0u8; 4096]), Err(Error::NotFound));
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&[3, FLAG_INLINE]);
        header.resize(64, 0);
        assert!(matches!(
            read(&header),
            Err(Error::BadHeader { offset: 0, .. })
        ));
    }

    #[test]
    fn modinfo_without_sentinels_is_ignored_as_go_does() {
        let info = read(&inline_blob("go1.12", MODINFO.as_bytes())).unwrap();
        assert_eq!(info.go_version, "go1.12");
        assert_eq!(info.main, None);
        assert!(info.deps.is_empty());
    }

    #[test]
    fn every_truncation_is_an_error_or_a_result_never_a_panic() {
        let blob = inline_blob("go1.21.5", &framed(MODINFO));
        for len in 0..blob.len() {
            let _ = read(&blob[..len]);
        }
        assert_eq!(read(&blob).unwrap(), expected());
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let info = parse_modinfo(
            "mod\ta\n=>\tnope\ndep\tb\tv1\tsum\textra\n=>\tc\tv2\th1:x\ndep\td\tv3\n\
             build\t=x\nbuild\tnoequals\nbuild\tk=\"unterminated\nbuild\tk2=v2\ndep\te\tv4",
        );
        assert_eq!(info.main, None);
        assert_eq!(info.deps.len(), 1);
        assert_eq!(info.deps[0].path, "d");
        assert_eq!(info.deps[0].replace, None);
        assert_eq!(info.setting("k2"), Some("v2"));
        assert_eq!(info.settings.len(), 1);
    }

    #[test]
    fn go_quoting() {
        assert_eq!(
            unquote_prefix(r#""a\tb\x41\101\u00e9\U0001F600\\\"" rest"#),
            Some(("a\tbAAé😀\\\"".to_string(), 34))
        );
        assert_eq!(unquote_prefix("`raw\\n`x"), Some(("raw\\n".to_string(), 7)));
        assert_eq!(unquote_prefix(r#""\q""#), None);
        assert_eq!(unquote_prefix(r#""\U00110000""#), None);
        assert_eq!(unquote_prefix("\"open"), None);
    }

    #[test]
    fn uvarints() {
        assert_eq!(uvarint(&[0x05]), Some((5, 1)));
        assert_eq!(uvarint(&[0x80, 0x01]), Some((128, 2)));
        assert_eq!(uvarint(&[0x80]), None);
        assert_eq!(uvarint(&[0xff; 10]), None);
    }

    /// A 64-bit little-endian ELF executable with one PT_LOAD segment mapping the whole file at
    /// `base`, holding the pre-1.18 pointer form: the header's two pointers lead to Go string
    /// headers, which lead to the strings.
    fn pointer_form_elf(big_endian: bool) -> Vec<u8> {
        const BASE: u64 = 0x40_0000;
        let put = |out: &mut Vec<u8>, at: usize, value: u64, size: usize| {
            let bytes = if big_endian {
                value.to_be_bytes()[8 - size..].to_vec()
            } else {
                value.to_le_bytes()[..size].to_vec()
            };
            out[at..at + size].copy_from_slice(&bytes);
        };
        let mut elf = vec![0u8; 0x200];
        elf[..4].copy_from_slice(b"\x7fELF");
        elf[4] = 2; // 64-bit
        elf[5] = if big_endian { 2 } else { 1 };
        elf[6] = 1; // version
        put(&mut elf, 0x10, 2, 2); // ET_EXEC
        put(&mut elf, 0x12, 62, 2); // x86-64
        put(&mut elf, 0x14, 1, 4);
        put(&mut elf, 0x18, BASE + 0x100, 8); // entry
        put(&mut elf, 0x20, 0x40, 8); // phoff
        put(&mut elf, 0x28, 0, 8); // shoff: no sections
        put(&mut elf, 0x34, 64, 2); // ehsize
        put(&mut elf, 0x36, 56, 2); // phentsize
        put(&mut elf, 0x38, 1, 2); // phnum
        put(&mut elf, 0x3a, 64, 2); // shentsize
        // PT_LOAD at 0x40, filled in once the file's length is known.
        let header = 0x100;
        elf[header..header + 14].copy_from_slice(MAGIC);
        elf[header + 14] = 8;
        elf[header + 15] = u8::from(big_endian);
        let version_header = 0x120;
        let modinfo_header = 0x130;
        put(&mut elf, header + 16, BASE + version_header as u64, 8);
        put(&mut elf, header + 24, BASE + modinfo_header as u64, 8);
        let version = b"go1.16.15";
        let version_at = 0x140;
        elf[version_at..version_at + version.len()].copy_from_slice(version);
        put(&mut elf, version_header, BASE + version_at as u64, 8);
        put(&mut elf, version_header + 8, version.len() as u64, 8);
        let modinfo =
            framed("path\tex.com/old\nmod\tex.com/old\tv1.0.0\t\ndep\tex.com/a\tv1.2.3\th1:abc=\n");
        let modinfo_at = elf.len();
        elf.extend_from_slice(&modinfo);
        put(&mut elf, modinfo_header, BASE + modinfo_at as u64, 8);
        put(&mut elf, modinfo_header + 8, modinfo.len() as u64, 8);
        let file_len = elf.len() as u64;
        put(&mut elf, 0x40, 1, 4); // PT_LOAD
        put(&mut elf, 0x44, 5, 4); // R+X
        put(&mut elf, 0x48, 0, 8); // offset
        put(&mut elf, 0x50, BASE, 8); // vaddr
        put(&mut elf, 0x58, BASE, 8); // paddr
        put(&mut elf, 0x60, file_len, 8); // filesz
        put(&mut elf, 0x68, file_len, 8); // memsz
        put(&mut elf, 0x70, 0x1000, 8); // align
        elf
    }

    #[test]
    fn pointer_form_through_the_segments() {
        for big_endian in [false, true] {
            let info = read(&pointer_form_elf(big_endian)).unwrap();
            assert_eq!(info.go_version, "go1.16.15");
            assert_eq!(info.path, "ex.com/old");
            assert_eq!(info.main.unwrap().version, "v1.0.0");
            assert_eq!(
                info.deps,
                [Module {
                    path: "ex.com/a".into(),
                    version: "v1.2.3".into(),
                    sum: "h1:abc=".into(),
                    replace: None,
                }]
            );
        }
    }

    #[test]
    fn pointer_form_out_of_the_segments() {
        let mut elf = pointer_form_elf(false);
        // The version's string header now points past the end of the segment.
        elf[0x120..0x128].copy_from_slice(&0x7fff_0000u64.to_le_bytes());
        assert_eq!(
            read(&elf),
            Err(Error::Unmapped {
                address: 0x7fff_0000
            })
        );
        // And when the executable cannot be parsed, the pointer form cannot be read.
        let mut header = MAGIC.to_vec();
        header.extend_from_slice(&[8, 0]);
        header.resize(64, 0);
        assert!(matches!(read(&header), Err(Error::Executable(_))));
    }
}
