//! Throughput of `SecretScanner::scan_file`, as a ratio against a baseline pass over the same
//! bytes in the same run (counting newlines: the least any scanner must do).
//!
//! ```text
//! cargo run --release -p stowaway-secrets --example throughput -- \
//!     [--list] [--limit-mb 100] /usr/share/doc /usr/share/perl /usr/lib/python3
//! ```
//!
//! It reads the readable, non-binary regular files under the given directories (up to the
//! limit) and times three things: every file scanned on its own (with its path, as the walker
//! does), all of it as one buffer ("no-hit text"), and the same buffer with a made-up credential
//! line spliced in every 4 KiB ("text with hits"). `--list` prints every match in the files.

use std::time::Instant;

use stowaway_secrets::{SecretScanner, looks_binary};

fn main() {
    let mut list = false;
    let mut limit_mb = 100usize;
    let mut dirs = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => list = true,
            "--limit-mb" => {
                limit_mb = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            _ => dirs.push(arg),
        }
    }
    if dirs.is_empty() {
        usage();
    }
    let files = read_files(&dirs, limit_mb << 20);
    let total: usize = files.iter().map(|(_, c)| c.len()).sum();
    let scanner = SecretScanner::builtin();
    eprintln!("{} files, {:.1} MB", files.len(), total as f64 / 1e6);

    // Per file, with paths.
    let (matches, per_file) = best_of(3, || {
        let mut n = 0;
        for (path, content) in &files {
            let found = scanner.scan_file(path, content);
            if list {
                for m in &found {
                    println!("{path}:{}: {} {}", m.line, m.rule_id, m.redacted);
                }
            }
            n += found.len();
        }
        n
    });
    let buffer: Vec<u8> = files.iter().flat_map(|(_, c)| c.iter().copied()).collect();
    let (_, baseline) = best_of(3, || newlines(&buffer));
    let (one, whole) = best_of(3, || scanner.scan_file("corpus.txt", &buffer).len());
    let with_hits = splice_secrets(&buffer);
    let (hits, hit_time) = best_of(3, || scanner.scan_file("corpus.txt", &with_hits).len());
    let mbps = |bytes: usize, secs: f64| bytes as f64 / 1e6 / secs;
    println!(
        "baseline (count newlines):  {:8.0} MB/s",
        mbps(buffer.len(), baseline)
    );
    println!(
        "scan_file per file:         {:8.0} MB/s  ({:.2}x baseline time, {matches} matches)",
        mbps(total, per_file),
        per_file / baseline
    );
    println!(
        "scan_file one buffer:       {:8.0} MB/s  ({:.2}x baseline time, {one} matches)",
        mbps(buffer.len(), whole),
        whole / baseline
    );
    println!(
        "with a secret every 4 KiB:  {:8.0} MB/s  ({:.2}x baseline time, {hits} matches)",
        mbps(with_hits.len(), hit_time),
        hit_time / baseline
    );
}

/// The baseline: counts line breaks, vectorised (blocks of 255 bytes with a byte-wide count).
fn newlines(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|block| u64::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'))))
        .sum()
}

fn usage() -> ! {
    eprintln!("usage: throughput [--list] [--limit-mb N] DIR...");
    std::process::exit(2)
}

/// Runs `f` `n` times; its last result and the fastest time in seconds.
fn best_of<T>(n: usize, mut f: impl FnMut() -> T) -> (T, f64) {
    let mut best = f64::MAX;
    let mut result = None;
    for _ in 0..n {
        let start = Instant::now();
        result = Some(std::hint::black_box(f()));
        best = best.min(start.elapsed().as_secs_f64());
    }
    (result.unwrap_or_else(|| unreachable!("n > 0")), best)
}

/// Readable, non-binary regular files under `dirs`, up to `limit` bytes in all, as (path in
/// the image without the leading `/`, content).
fn read_files(dirs: &[String], limit: usize) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut total = 0;
    let mut stack: Vec<std::path::PathBuf> = dirs.iter().map(Into::into).collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && let Ok(content) = std::fs::read(&path)
                && !looks_binary(&content)
            {
                total += content.len();
                let name = path.to_string_lossy().trim_start_matches('/').to_string();
                files.push((name, content));
                if total >= limit {
                    return files;
                }
            }
        }
    }
    files
}

/// `buffer` with a made-up GitHub token line after every 4 KiB (at the next line break).
fn splice_secrets(buffer: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(buffer.len() + buffer.len() / 64);
    let mut since = 0;
    let mut n = 0u64;
    for &b in buffer {
        out.push(b);
        since += 1;
        if b == b'\n' && since >= 4096 {
            n += 1;
            let token: String = (0..36)
                .map(|i| {
                    let x = (n.wrapping_mul(6364136223846793005) >> (i % 40)) ^ (i * 7919);
                    char::from(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789"[(x % 46) as usize])
                })
                .collect();
            out.extend_from_slice(format!("GITHUB_TOKEN={}{token}\n", "ghp_").as_bytes());
            since = 0;
        }
    }
    out
}
