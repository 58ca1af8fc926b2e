//! What the SBOM formats share: which packages an SBOM lists, a stable document identity, and
//! license text sorted into what the formats can say.
//!
//! An SBOM describes the image as it runs: packages whose record a later layer removed or
//! replaced are left out (the JSON report keeps them, with their status).

use sha2::{Digest, Sha256};
use stowaway_findings::{ImageReport, Package};

use crate::fingerprint::{hex, uuid};

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
    uuid(&hex(&hasher.finalize()))
}

/// SPDX license identifiers common in images; an expression is written as such only when every
/// identifier in it is one of these (or a `LicenseRef-`), so that documents always validate. The
/// rest is kept as text (a CycloneDX license name, an SPDX `LicenseRef-` with the text).
const KNOWN_IDS: &[&str] = &[
    "0BSD",
    "AFL-2.1",
    "AGPL-3.0-only",
    "AGPL-3.0-or-later",
    "Apache-1.1",
    "Apache-2.0",
    "Artistic-1.0",
    "Artistic-1.0-Perl",
    "Artistic-2.0",
    "BlueOak-1.0.0",
    "BSD-1-Clause",
    "BSD-2-Clause",
    "BSD-3-Clause",
    "BSD-4-Clause",
    "BSL-1.0",
    "CC-BY-3.0",
    "CC-BY-4.0",
    "CC-BY-SA-4.0",
    "CC0-1.0",
    "CDDL-1.0",
    "CDDL-1.1",
    "curl",
    "EPL-1.0",
    "EPL-2.0",
    "GFDL-1.2-or-later",
    "GFDL-1.3-or-later",
    "GPL-1.0-or-later",
    "GPL-2.0",
    "GPL-2.0+",
    "GPL-2.0-only",
    "GPL-2.0-or-later",
    "GPL-3.0",
    "GPL-3.0+",
    "GPL-3.0-only",
    "GPL-3.0-or-later",
    "HPND",
    "ICU",
    "ISC",
    "LGPL-2.0-only",
    "LGPL-2.0-or-later",
    "LGPL-2.1",
    "LGPL-2.1+",
    "LGPL-2.1-only",
    "LGPL-2.1-or-later",
    "LGPL-3.0",
    "LGPL-3.0+",
    "LGPL-3.0-only",
    "LGPL-3.0-or-later",
    "MIT",
    "MIT-0",
    "MPL-1.1",
    "MPL-2.0",
    "MS-PL",
    "NCSA",
    "OFL-1.1",
    "OpenSSL",
    "PostgreSQL",
    "PSF-2.0",
    "Python-2.0",
    "Ruby",
    "Unicode-3.0",
    "Unicode-DFS-2016",
    "Unlicense",
    "UPL-1.0",
    "Vim",
    "W3C",
    "WTFPL",
    "X11",
    "Zlib",
    "ZPL-2.1",
    "Classpath-exception-2.0",
    "GCC-exception-3.1",
    "LLVM-exception",
    "OpenSSL-exception",
];

/// Whether `text` is an SPDX license expression stowaway can vouch for: known identifiers
/// (`MIT`, `GPL-2.0-or-later`, `LicenseRef-x`) joined by `AND`, `OR`, `WITH`, with parentheses.
/// Free text (`GPL-2+`, `BSD style`) and unknown identifiers are not.
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
    KNOWN_IDS.contains(&id)
        || id.strip_prefix("LicenseRef-").is_some_and(|rest| {
            !rest.is_empty()
                && rest
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'))
        })
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
            "GPL-3+",
            "Expat",
        ] {
            assert!(!is_spdx_expression(text), "{text}");
        }
    }
}
