//! The secret scanner on untrusted content: the input is handed to `scan_file` under one of the
//! paths that switch on the path-scoped rules (`.env`, Docker's `config.json`, `.npmrc`,
//! `.pypirc`, `.netrc`, `.git-credentials`) or an ordinary one, and, as text, to `scan_text` (an
//! ENV entry, a label, a history line). Any result is fine; a panic is a bug, and so is a
//! redaction that shows the secret.

#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use stowaway_secrets::SecretScanner;

static SCANNER: LazyLock<SecretScanner> = LazyLock::new(SecretScanner::builtin);

const PATHS: [&str; 7] = [
    "srv/app/.env",
    "root/.docker/config.json",
    "home/node/.npmrc",
    "root/.pypirc",
    "root/.netrc",
    "root/.git-credentials",
    "srv/app/settings.py",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the path; the rest is the file.
    let Some((&pick, content)) = data.split_first() else {
        return;
    };
    let path = PATHS[usize::from(pick) % PATHS.len()];
    for found in SCANNER.scan_file(path, content) {
        let secret = String::from_utf8_lossy(&content[found.span.clone()]);
        assert!(secret.chars().count() < 8 || !found.redacted.contains(secret.as_ref()));
    }
    let _ = SCANNER.scan_text(&String::from_utf8_lossy(content));
});
