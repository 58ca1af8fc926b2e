//! What the CI formats (SARIF, JUnit, GitLab) share: a finding's stable identity across scans,
//! an advisory's links, and a location as one line.
//!
//! A finding in a file is identified by its rule or advisory id, the layer's digest, the path, the
//! archive member and, for a vulnerability, the package: rebuilding an unchanged layer keeps it,
//! changing the layer makes it a new finding. An image-wide finding (no location) is identified
//! by its id and the image's repository without tag or digest, so a new tag of the same image
//! keeps it.

use std::fmt::Write;

use sha2::{Digest, Sha256};
use stowaway_findings::{Finding, ImageReport, Location};

/// The sha256 of what identifies `finding` in `image`, as 64 hex digits.
pub(crate) fn fingerprint(image: &ImageReport, finding: &Finding) -> String {
    let mut hasher = Sha256::new();
    let mut field = |text: &str| {
        hasher.update(text.as_bytes());
        hasher.update([0]);
    };
    field(&finding.id);
    match &finding.location {
        Some(location) => {
            let layer = match &location.layer_digest {
                Some(digest) => digest.clone(),
                None => format!("layer-{}", location.layer),
            };
            field(&layer);
            field(&location.path);
            field(location.member.as_deref().unwrap_or_default());
        }
        None => field(repository(&image.name)),
    }
    if let Some(vulnerability) = &finding.vulnerability {
        field(&vulnerability.package);
    }
    hex(&hasher.finalize())
}

/// A UUID-shaped identifier (version 5 layout) made from the first 32 hex digits of `hash`.
pub(crate) fn uuid(hash: &str) -> String {
    let mut bytes = [0u8; 16];
    for (i, byte) in bytes.iter_mut().enumerate() {
        *byte = hash
            .get(2 * i..2 * i + 2)
            .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            .unwrap_or_default();
    }
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

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// `registry/name` of an image reference: the tag (`:1.2`) and digest (`@sha256:…`) dropped.
fn repository(name: &str) -> &str {
    let name = name.split_once('@').map_or(name, |(repo, _)| repo);
    match name.rfind(':') {
        Some(colon) if !name[colon..].contains('/') => &name[..colon],
        _ => name,
    }
}

/// The osv.dev page of an advisory.
pub(crate) fn osv_url(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{}", encode(id, false))
}

/// The page of an advisory id by its own database, and the kind of id: `cve` (NVD), `ghsa`
/// (GitHub), or `osv` (osv.dev) for every other id.
pub(crate) fn advisory(id: &str) -> (&'static str, String) {
    if id.starts_with("CVE-") {
        (
            "cve",
            format!("https://nvd.nist.gov/vuln/detail/{}", encode(id, false)),
        )
    } else if id.starts_with("GHSA-") {
        (
            "ghsa",
            format!("https://github.com/advisories/{}", encode(id, false)),
        )
    } else {
        ("osv", osv_url(id))
    }
}

/// Percent-encodes `text` for a URI path: everything but unreserved characters (and `/` when
/// `keep_slash`) as UTF-8 bytes `%XX`.
pub(crate) fn encode(text: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && byte == b'/')
        {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `layer-<n>/<path>[!<member>][:<line>]`, as the CI formats name a finding's place.
pub(crate) fn display_location(location: &Location) -> String {
    let mut text = format!("layer-{}/{}", location.layer, location.display_path());
    if let Some(line) = location.line {
        let _ = write!(text, ":{line}");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_drop_tags_and_digests() {
        assert_eq!(repository("alpine:3.19"), "alpine");
        assert_eq!(repository("registry:5000/app:1.2"), "registry:5000/app");
        assert_eq!(repository("registry:5000/app"), "registry:5000/app");
        assert_eq!(repository("app@sha256:abcd"), "app");
        assert_eq!(repository("rootfs"), "rootfs");
    }

    #[test]
    fn uuids_have_the_version_5_layout() {
        let id = uuid(&"ab".repeat(32));
        assert_eq!(id, "abababab-abab-5bab-abab-abababababab");
        assert_eq!(uuid("").len(), 36);
    }

    #[test]
    fn paths_are_percent_encoded() {
        assert_eq!(encode("usr/lib/a b!c", true), "usr/lib/a%20b%21c");
        assert_eq!(encode("app:1", false), "app%3A1");
    }
}
