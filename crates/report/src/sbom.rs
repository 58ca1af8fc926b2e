//! What the SBOM formats share: which packages an SBOM lists, a stable document identity, and
//! license text sorted into what the formats can say.
//!
//! An SBOM describes the image as it runs: packages whose record a later layer removed or
//! replaced are left out (the JSON report keeps them, with their status).

use std::fmt::Write;

use sha2::{Digest, Sha256};
use stowaway_findings::{ImageReport, Package};

/// The packages still installed in the final filesystem.
pub(crate) fn installed(image: &ImageReport) -> impl Iterator<Item = &Package> {
    image
        .packages
        .iter()
        .filter(|p| p.location.as_ref().is_none_or(|l| l.status.is_present()))
}

/// A name-based (version 5 layout) UUID from the image's identity and its package list, so the
/// same image gives the same document identity.
pub(crate) fn document_uuid(image: &ImageReport) -> String {
    let mut hasher = Sha256::new();
    hasher.update(image.name.as_bytes());
    hasher.update(
        image
            .config_digest
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    );
    for package in installed(image) {
        hasher.update(package.purl.as_bytes());
        hasher.update(b"\n");
    }
    let mut bytes: [u8; 16] = hasher.finalize()[..16].try_into().unwrap_or_default();
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Whether `text` reads as an SPDX license expression: identifiers (`MIT`, `GPL-2.0-or-later`,
/// `LicenseRef-x`) joined by `AND`, `OR`, `WITH`, with parentheses. Free text (`GPL-2+`, `BSD
/// style`) is not one.
pub(crate) fn is_spdx_expression(text: &str) -> bool {
    let spaced = text.replace('(', " ( ").replace(')', " ) ");
    let mut expect_id = true;
    let mut depth = 0i32;
    for token in spaced.split_whitespace() {
        match token {
            "(" if expect_id => depth += 1,
            ")" if !expect_id => depth -= 1,
            "AND" | "OR" | "WITH" if !expect_id => expect_id = true,
            id if expect_id && is_spdx_id(id) => expect_id = false,
            _ => return false,
        }
        if depth < 0 {
            return false;
        }
    }
    !expect_id && depth == 0
}

fn is_spdx_id(id: &str) -> bool {
    let id = id.strip_suffix('+').unwrap_or(id);
    !id.is_empty()
        && id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        && !id.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spdx_expressions_and_free_text() {
        for expression in [
            "MIT",
            "MIT OR Apache-2.0",
            "(MIT OR Apache-2.0) AND BSD-3-Clause",
            "GPL-2.0-or-later WITH Classpath-exception-2.0",
            "LicenseRef-x",
        ] {
            assert!(is_spdx_expression(expression), "{expression}");
        }
        for text in [
            "GPL-2+ or Artistic",
            "BSD style",
            "",
            "MIT OR",
            "(MIT",
            "Public Domain",
            "GPL-",
        ] {
            assert!(!is_spdx_expression(text), "{text}");
        }
    }
}
