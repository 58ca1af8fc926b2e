//! No matches over real text from this machine: Debian's documentation, the Perl and Python
//! libraries and `/etc` — readable, non-binary regular files, scanned with their paths as they
//! would appear in an image. Only listed true positives may match.
//!
//! By default the test reads up to 12 MB from each directory (it runs in the debug profile);
//! with `STOWAWAY_SLOW_TESTS` set it reads everything (a few hundred MB; use `--release`).

use std::path::{Path, PathBuf};

use stowaway_secrets::{SecretScanner, looks_binary};

const DIRS: &[&str] = &[
    "/usr/share/doc",
    "/usr/share/perl5",
    "/usr/share/perl",
    "/usr/lib/python3",
    "/etc",
];

/// Real secrets that a real system holds, which the scanner is right to report.
const TRUE_POSITIVES: &[(&str, &str)] = &[
    // The ssl-cert package generates this key at install time: in an image it is one private key
    // shared by every container started from it.
    ("etc/ssl/private/ssl-cert-snakeoil.key", "private-key"),
    // Debian's chromium ships the Google API key and OAuth client secret Google assigned to
    // Debian: real credentials, in every image that installs chromium.
    ("etc/chromium.d/apikeys", "gcp-api-key"),
    ("etc/chromium.d/apikeys", "generic-password"),
];

/// Readable, non-binary regular files under `dir` in name order, up to `limit` bytes.
fn files(dir: &Path, limit: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        entries.sort();
        for path in entries.into_iter().rev() {
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file()
                && meta.len() < 64 << 20
                && let Ok(content) = std::fs::read(&path)
                && !looks_binary(&content)
            {
                total += content.len();
                let name = path.to_string_lossy().trim_start_matches('/').to_string();
                out.push((name, content));
                if total >= limit {
                    return out;
                }
            }
        }
    }
    out
}

#[test]
fn nothing_in_this_machines_text() {
    let limit = if std::env::var_os("STOWAWAY_SLOW_TESTS").is_some() {
        usize::MAX
    } else {
        12 << 20
    };
    let scanner = SecretScanner::builtin();
    let mut scanned = 0usize;
    let mut unexpected = Vec::new();
    for dir in DIRS {
        for (path, content) in files(Path::new(dir), limit) {
            scanned += content.len();
            for m in scanner.scan_file(&path, &content) {
                let line = format!("{path}:{}: {} {}", m.line, m.rule_id, m.redacted);
                if TRUE_POSITIVES.contains(&(path.as_str(), m.rule_id.as_str())) {
                    eprintln!("true positive: {line}");
                } else {
                    unexpected.push(line);
                }
            }
        }
    }
    eprintln!("scanned {:.1} MB", scanned as f64 / 1e6);
    assert!(scanned > 1 << 20, "too little text to mean anything");
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}
