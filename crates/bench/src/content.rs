//! What goes into the benchmark image: a deterministic plan of files and their contents.
//!
//! The plan is a function of the seed and the target size only, so the same files (same paths,
//! same bytes) end up in the image however many layers it is split into; the variants of one run
//! differ only in how the bytes are cut into gzip streams.
//!
//! The mix imitates a distribution image with language runtimes on it, by bytes roughly half
//! text and half binaries:
//! - text files (source, docs, configs) of 32 B to 128 KiB, pseudo-random words drawn with a
//!   Zipf-like skew from a fixed vocabulary, which gzip shrinks about 3-4x;
//! - "binary" files (shared libraries, executables) of 64 KiB to 4 MiB that start with an ELF
//!   header and mix random bytes, zero runs, repeats and a small code-like alphabet, which gzip
//!   shrinks about 2x;
//! - a few small gzip-compressed changelogs, as every Debian image has, which the walker opens;
//! - an `etc/os-release`, so the OS analyzer has something to read.

use std::io::Write;

/// SplitMix64: small, fast, and good enough to make benchmark bytes.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Log-uniform in `lo..=hi`: as many files of 100 B-1 KiB as of 10-100 KiB.
    fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let (l, h) = ((lo as f64).ln(), (hi as f64).ln());
        ((l + self.unit() * (h - l)).exp() as u64).clamp(lo, hi)
    }

    fn fill(&mut self, out: &mut [u8]) {
        let mut chunks = out.chunks_exact_mut(8);
        for chunk in &mut chunks {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        let rest = chunks.into_remainder();
        let last = self.next_u64().to_le_bytes();
        rest.copy_from_slice(&last[..rest.len()]);
    }
}

/// Mixes a file's index into the run's seed.
fn file_seed(seed: u64, index: usize) -> u64 {
    Rng::new(seed ^ (index as u64).wrapping_mul(0xd6e8_feb8_6659_fd93)).next_u64()
}

const VOCABULARY: usize = 4096;
/// Entries of the word-choice table: a 16-bit random number picks one.
const CHOICES: usize = 1 << 16;

/// A fixed vocabulary and a table that draws from it with a Zipf-like skew.
pub struct Words {
    words: Vec<Vec<u8>>,
    choice: Vec<u16>,
}

impl Words {
    pub fn new(seed: u64) -> Words {
        let mut rng = Rng::new(seed ^ 0x5747_4f52_4453);
        // Letters roughly by English frequency: an earlier letter is likelier.
        const LETTERS: &[u8] = b"etaoinshrdlcumwfgypbvkjxqz";
        let words = (0..VOCABULARY)
            .map(|_| {
                let len = 2 + rng.below(5) + rng.below(5);
                (0..len)
                    .map(|_| {
                        let a = rng.below(LETTERS.len() as u64);
                        let b = rng.below(LETTERS.len() as u64);
                        LETTERS[a.min(b) as usize]
                    })
                    .collect()
            })
            .collect();
        // Rank r is drawn with probability about proportional to 1/r (log-uniform ranks).
        let choice = (0..CHOICES)
            .map(|i| {
                let u = (i as f64 + 0.5) / CHOICES as f64;
                ((VOCABULARY as f64).powf(u) as usize).clamp(1, VOCABULARY) as u16 - 1
            })
            .collect();
        Words { words, choice }
    }

    fn pick(&self, rng_bits: u64) -> &[u8] {
        let index = self.choice[(rng_bits & 0xffff) as usize];
        &self.words[usize::from(index)]
    }

    /// `size` bytes of text lines into `out` (cleared first).
    pub fn text(&self, rng: &mut Rng, size: usize, out: &mut Vec<u8>) {
        out.clear();
        out.reserve(size + 64);
        while out.len() < size {
            let bits = rng.next_u64();
            if out.len() > 256 && (bits >> 56) < 96 {
                // Over a third of the lines repeat a stretch of recent text, as code and docs do.
                let back = 64 + ((bits >> 8) % 4096).min(out.len() as u64 - 64) as usize;
                let len = 16 + ((bits >> 24) % 64) as usize;
                let start = out.len() - back;
                for i in start..start + len {
                    out.push(out[i]);
                }
                out.push(b'\n');
                continue;
            }
            let indent = [0usize, 0, 2, 4, 4, 8, 0, 12][(bits & 7) as usize];
            out.extend(std::iter::repeat_n(b' ', indent));
            let count = 3 + (bits >> 3) % 10;
            for i in 0..count {
                let bits = rng.next_u64();
                if i > 0 {
                    out.push(match (bits >> 16) % 24 {
                        0 => b'_',
                        1 => b'.',
                        2 => b'=',
                        3 => b'/',
                        _ => b' ',
                    });
                }
                out.extend_from_slice(self.pick(bits));
                match (bits >> 24) % 40 {
                    0 => out.push(b','),
                    1 => {
                        let _ = write!(out, "{}", (bits >> 32) % 1000);
                    }
                    2 => out.extend_from_slice(b"()"),
                    _ => {}
                }
            }
            out.push(b'\n');
        }
        out.truncate(size);
    }

    pub fn word(&self, rng: &mut Rng) -> &str {
        // The vocabulary is ASCII letters only.
        std::str::from_utf8(self.pick(rng.next_u64())).unwrap_or("word")
    }
}

/// `size` bytes of something like a shared library into `out` (cleared first).
pub fn binary(rng: &mut Rng, size: usize, out: &mut Vec<u8>) {
    const BLOCK: usize = 64;
    // Common x86-64 opcode and ModRM bytes: code compresses to about half.
    const CODE: &[u8] = &[
        0x48, 0x89, 0x8b, 0xe8, 0x0f, 0x85, 0x84, 0xc3, 0x31, 0xc0, 0xff, 0x24, 0x44, 0x83, 0x74,
        0x75,
    ];
    out.clear();
    out.reserve(size + BLOCK);
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0\x3e\0\x01\0\0\0");
    let mut block = [0u8; BLOCK];
    while out.len() < size {
        let bits = rng.next_u64();
        match bits % 100 {
            0..32 => {
                rng.fill(&mut block);
                out.extend_from_slice(&block);
            }
            32..50 => out.extend_from_slice(&[0; BLOCK]),
            50..80 if out.len() >= 4 * BLOCK => {
                // A repeat from the last 16 KiB (relocations, tables, padding patterns).
                let back = (BLOCK as u64 + ((bits >> 8) % 16_384)).min(out.len() as u64) as usize;
                let start = out.len() - back;
                for i in 0..BLOCK {
                    let byte = out[start + i];
                    out.push(byte);
                }
            }
            _ => {
                let mut bits = rng.next_u64();
                for (i, byte) in block.iter_mut().enumerate() {
                    if i % 16 == 0 {
                        bits = rng.next_u64();
                    }
                    *byte = CODE[(bits & 0xf) as usize];
                    bits >>= 4;
                }
                out.extend_from_slice(&block);
            }
        }
    }
    out.truncate(size);
}

/// What kind of content a planned file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Binary,
    /// Text, gzip-compressed (a `changelog.gz`); its size is that of the text.
    Gzipped,
    OsRelease,
}

/// One file of the image.
#[derive(Debug, Clone)]
pub struct PlannedFile {
    pub path: String,
    pub kind: Kind,
    /// Content size (for [`Kind::Gzipped`], of the text before compression).
    pub size: u64,
    pub mode: u32,
    pub seed: u64,
}

impl PlannedFile {
    /// The file's bytes into `out`.
    pub fn content(&self, words: &Words, out: &mut Vec<u8>) -> std::io::Result<()> {
        let mut rng = Rng::new(self.seed);
        let size = self.size as usize;
        match self.kind {
            Kind::Text => words.text(&mut rng, size, out),
            Kind::Binary => binary(&mut rng, size, out),
            Kind::Gzipped => {
                let mut text = Vec::new();
                words.text(&mut rng, size, &mut text);
                out.clear();
                let mut encoder = flate2::write::GzEncoder::new(
                    std::mem::take(out),
                    flate2::Compression::default(),
                );
                encoder.write_all(&text)?;
                *out = encoder.finish()?;
            }
            Kind::OsRelease => {
                out.clear();
                out.extend_from_slice(
                    b"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                      VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n",
                );
            }
        }
        Ok(())
    }
}

/// Files adding up to at least `total` content bytes, in a stable order.
pub fn plan(seed: u64, total: u64, words: &Words) -> Vec<PlannedFile> {
    let mut rng = Rng::new(seed);
    let mut files = vec![PlannedFile {
        path: "etc/os-release".into(),
        kind: Kind::OsRelease,
        size: 0,
        mode: 0o644,
        seed: 0,
    }];
    const EXTENSIONS: [&str; 10] = [
        "py", "txt", "md", "json", "conf", "html", "js", "h", "rb", "pl",
    ];
    let mut sum = 0u64;
    let mut package = String::new();
    let mut subdir = String::new();
    while sum < total {
        let index = files.len();
        if index % 40 == 1 {
            package = format!("{}-{}", words.word(&mut rng), index / 40);
        }
        if index % 8 == 1 {
            subdir = words.word(&mut rng).to_string();
        }
        let name = words.word(&mut rng).to_string();
        let roll = rng.below(1000);
        let (path, kind, size, mode) = if roll < 20 {
            let size = rng.log_uniform(64 << 10, 4 << 20);
            if roll < 5 {
                (format!("usr/bin/{name}{index}"), Kind::Binary, size, 0o755)
            } else {
                let path = format!("usr/lib/x86_64-linux-gnu/{package}/lib{name}{index}.so.1");
                (path, Kind::Binary, size, 0o644)
            }
        } else if roll < 30 {
            let size = rng.log_uniform(256, 8 << 10);
            let path = format!("usr/share/doc/{package}/changelog{index}.gz");
            (path, Kind::Gzipped, size, 0o644)
        } else {
            let size = rng.log_uniform(32, 128 << 10);
            let ext = EXTENSIONS[rng.below(EXTENSIONS.len() as u64) as usize];
            let path = format!("usr/share/{package}/{subdir}/{name}_{index}.{ext}");
            (path, Kind::Text, size, 0o644)
        };
        sum += size;
        files.push(PlannedFile {
            path,
            kind,
            size,
            mode,
            seed: file_seed(seed, index),
        });
    }
    files
}

/// Cuts the plan into `layers` runs of about equal content size, none empty when there are
/// enough files.
pub fn split(files: &[PlannedFile], layers: usize) -> Vec<&[PlannedFile]> {
    let layers = layers.max(1);
    let total: u64 = files.iter().map(|f| f.size).sum();
    let mut bounds = vec![0];
    let mut sum = 0u64;
    for (i, file) in files.iter().enumerate() {
        sum += file.size;
        let next = bounds.len();
        let room = files.len() - (i + 1) >= layers - next;
        if next < layers && room && sum >= total / layers as u64 * next as u64 {
            bounds.push(i + 1);
        }
    }
    while bounds.len() < layers {
        bounds.push(files.len());
    }
    bounds.push(files.len());
    bounds.windows(2).map(|w| &files[w[0]..w[1]]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip_ratio(bytes: &[u8]) -> f64 {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(bytes).expect("into memory");
        let compressed = encoder.finish().expect("into memory");
        bytes.len() as f64 / compressed.len() as f64
    }

    #[test]
    fn text_compresses_three_to_four_times_and_binaries_about_twice() {
        let words = Words::new(1);
        let mut rng = Rng::new(7);
        let mut text = Vec::new();
        words.text(&mut rng, 1 << 20, &mut text);
        assert_eq!(text.len(), 1 << 20);
        let ratio = gzip_ratio(&text);
        eprintln!("text ratio {ratio}");
        assert!((3.0..=4.5).contains(&ratio), "text ratio {ratio}");

        let mut bin = Vec::new();
        binary(&mut rng, 1 << 20, &mut bin);
        assert_eq!(bin.len(), 1 << 20);
        assert!(bin.starts_with(b"\x7fELF"));
        let ratio = gzip_ratio(&bin);
        eprintln!("binary ratio {ratio}");
        assert!((1.6..=2.6).contains(&ratio), "binary ratio {ratio}");
    }

    #[test]
    fn the_plan_is_the_same_however_it_is_split() {
        let words = Words::new(3);
        let files = plan(3, 128 << 20, &words);
        let again = plan(3, 128 << 20, &words);
        assert_eq!(
            files.iter().map(|f| (&f.path, f.size)).collect::<Vec<_>>(),
            again.iter().map(|f| (&f.path, f.size)).collect::<Vec<_>>()
        );
        for layers in [1, 2, 4, 7] {
            let parts = split(&files, layers);
            assert_eq!(parts.len(), layers);
            assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), files.len());
            assert!(parts.iter().all(|p| !p.is_empty()));
        }
        let sizes: Vec<u64> = split(&files, 4)
            .iter()
            .map(|p| p.iter().map(|f| f.size).sum())
            .collect();
        let total: u64 = sizes.iter().sum();
        assert!(sizes.iter().all(|&s| s > total / 8), "{sizes:?}");
    }

    #[test]
    fn paths_are_unique() {
        let words = Words::new(5);
        let files = plan(5, 16 << 20, &words);
        let mut paths: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
        paths.sort_unstable();
        let before = paths.len();
        paths.dedup();
        assert_eq!(paths.len(), before);
    }
}
