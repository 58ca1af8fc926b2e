//! Archives inside the image: recognising them by their bytes, decoding compressed streams, and
//! the bounds (member size, expansion ratio, total expanded bytes) that stop decompression bombs.

use std::cell::Cell;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};

use stowaway_findings::NotScannedCode;

use crate::limits::Limits;

/// An archive or compressed format the walker opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Zip,
    Tar,
    Gzip,
    Bzip2,
    Xz,
    Zstd,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Zip => "zip",
            Format::Tar => "tar",
            Format::Gzip => "gzip",
            Format::Bzip2 => "bzip2",
            Format::Xz => "xz",
            Format::Zstd => "zstd",
        }
    }

    /// Whether it can be read front to back (everything but zip, which needs its directory).
    pub fn is_stream(self) -> bool {
        self != Format::Zip
    }
}

/// Recognises an archive by its first bytes (at least 262 are needed to see a tar).
pub fn sniff(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        Some(Format::Zip)
    } else if head.starts_with(&[0x1f, 0x8b]) {
        Some(Format::Gzip)
    } else if head.len() >= 4 && head.starts_with(b"BZh") && (b'1'..=b'9').contains(&head[3]) {
        Some(Format::Bzip2)
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        Some(Format::Xz)
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some(Format::Zstd)
    } else if head.len() >= 262 && &head[257..262] == b"ustar" {
        Some(Format::Tar)
    } else {
        None
    }
}

/// The name of what a compressed file holds: `a.txt.gz` → `a.txt`, `a.tgz` → `a.tar`.
pub fn strip_extension(name: &str, format: Format) -> String {
    let lower = name.to_ascii_lowercase();
    let (suffixes, replacement): (&[&str], &str) = match format {
        Format::Gzip => (&[".tgz"], ".tar"),
        Format::Bzip2 => (&[".tbz2", ".tbz"], ".tar"),
        Format::Xz => (&[".txz"], ".tar"),
        Format::Zstd => (&[".tzst"], ".tar"),
        Format::Zip | Format::Tar => (&[], ""),
    };
    for suffix in suffixes {
        if lower.ends_with(suffix) {
            return format!("{}{replacement}", &name[..name.len() - suffix.len()]);
        }
    }
    let plain: &[&str] = match format {
        Format::Gzip => &[".gz"],
        Format::Bzip2 => &[".bz2"],
        Format::Xz => &[".xz"],
        Format::Zstd => &[".zst", ".zstd"],
        Format::Zip | Format::Tar => &[],
    };
    for suffix in plain {
        if lower.ends_with(suffix) && lower.len() > suffix.len() {
            return name[..name.len() - suffix.len()].to_string();
        }
    }
    format!("{name}.decompressed")
}

/// A decoder for a compressed stream format.
pub fn decoder<'r>(format: Format, reader: &'r mut dyn Read) -> io::Result<Box<dyn Read + 'r>> {
    Ok(match format {
        Format::Gzip => Box::new(flate2::read::MultiGzDecoder::new(io::BufReader::new(
            reader,
        ))),
        Format::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(reader)),
        // The dictionary an xz stream asks for is memory: cap it.
        Format::Xz => Box::new(lzma_rust2::XzReader::new_mem_limit(
            reader,
            true,
            XZ_MEMORY_KIB,
        )),
        Format::Zstd => Box::new(zstd::stream::read::Decoder::new(reader)?),
        Format::Zip | Format::Tar => Box::new(reader),
    })
}

/// Counts compressed bytes consumed, for the expansion ratio.
#[derive(Debug, Default)]
pub struct Counter(Cell<u64>);

impl Counter {
    pub fn add(&self, n: u64) {
        self.0.set(self.0.get() + n);
    }

    pub fn get(&self) -> u64 {
        self.0.get()
    }

    pub fn wrap<'r>(&'r self, inner: &'r mut dyn Read) -> Counted<'r> {
        Counted {
            inner,
            counter: self,
        }
    }
}

pub struct Counted<'r> {
    inner: &'r mut dyn Read,
    counter: &'r Counter,
}

impl Read for Counted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.add(n as u64);
        Ok(n)
    }
}

/// Why reading stopped: a bound was hit.
#[derive(Debug)]
pub struct LimitHit(pub NotScannedCode, pub String);

impl std::fmt::Display for LimitHit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.1)
    }
}

/// The not-scanned code of an error met while reading an archive: the bound it hit, or a
/// damaged archive.
pub fn code_of(error: &io::Error) -> NotScannedCode {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<LimitHit>())
        .map_or(NotScannedCode::FailedToExtract, |hit| hit.0)
}

/// The not-scanned code of a zip error: encrypted members are told apart from damage.
pub fn code_of_zip(error: &zip::result::ZipError) -> NotScannedCode {
    match error {
        zip::result::ZipError::Io(e) => code_of(e),
        zip::result::ZipError::UnsupportedArchive(zip::result::ZipError::PASSWORD_REQUIRED) => {
            NotScannedCode::EncryptedArchive
        }
        _ => NotScannedCode::FailedToExtract,
    }
}

impl std::error::Error for LimitHit {}

const RATIO_FLOOR: u64 = 1 << 20;

/// Memory an xz decoder may use (its dictionary), in KiB.
const XZ_MEMORY_KIB: u32 = 256 << 10;

/// Enforces the per-member size, ratio and scan-wide expansion bounds on an archive member.
pub struct Bounded<'r, 'l> {
    inner: &'r mut dyn Read,
    limits: &'l Limits,
    budget: &'l AtomicU64,
    compressed: Option<&'r Counter>,
    read: u64,
}

impl<'r, 'l> Bounded<'r, 'l> {
    pub fn new(
        inner: &'r mut dyn Read,
        limits: &'l Limits,
        budget: &'l AtomicU64,
        compressed: Option<&'r Counter>,
    ) -> Self {
        Bounded {
            inner,
            limits,
            budget,
            compressed,
            read: 0,
        }
    }

    fn hit(code: NotScannedCode, message: String) -> io::Error {
        io::Error::other(LimitHit(code, message))
    }
}

impl Read for Bounded<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if let Some(compressed) = self.compressed {
            let ratio = self.read / compressed.get().max(1);
            if self.read > RATIO_FLOOR && ratio > self.limits.max_ratio {
                return Err(Self::hit(
                    NotScannedCode::ExceededArchiveSize,
                    format!(
                        "expands more than {}:1 (--max-ratio); possible decompression bomb",
                        self.limits.max_ratio
                    ),
                ));
            }
        }
        if self.read > self.limits.max_member_bytes {
            return Err(Self::hit(
                NotScannedCode::ExceededArchiveSize,
                format!(
                    "expands beyond {} bytes (--max-member-bytes)",
                    self.limits.max_member_bytes
                ),
            ));
        }
        let total = self.budget.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.limits.max_nested_bytes {
            return Err(Self::hit(
                NotScannedCode::ExceededArchiveSize,
                format!(
                    "the scan has expanded {} bytes from archives (--max-nested-bytes)",
                    self.limits.max_nested_bytes
                ),
            ));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_decompressed_files() {
        assert_eq!(
            strip_extension("changelog.Debian.gz", Format::Gzip),
            "changelog.Debian"
        );
        assert_eq!(strip_extension("app.tgz", Format::Gzip), "app.tar");
        assert_eq!(strip_extension("x.tar.xz", Format::Xz), "x.tar");
        assert_eq!(strip_extension("blob", Format::Zstd), "blob.decompressed");
    }

    #[test]
    fn sniffs_formats() {
        assert_eq!(sniff(b"PK\x03\x04rest"), Some(Format::Zip));
        assert_eq!(sniff(b"BZh91AY"), Some(Format::Bzip2));
        assert_eq!(sniff(b"BZhx"), None);
        assert_eq!(sniff(b"\x7fELF"), None);
    }
}
