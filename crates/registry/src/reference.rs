//! Image references as Docker reads them: `[registry/]repository[:tag][@sha256:digest]`.
//!
//! The first `/`-separated component is the registry when it contains `.` or `:`, is `localhost`,
//! or has an uppercase letter; otherwise the registry is Docker Hub (`docker.io`, whose API is
//! served by `registry-1.docker.io`), where a one-component name is an official image under
//! `library/`. Without a tag or a digest the tag is `latest`.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use stowaway_image::Digest;

use crate::error::RegistryError;

/// Docker Hub's name in references.
pub(crate) const DOCKER_HUB: &str = "docker.io";
/// The host that serves Docker Hub's registry API.
const DOCKER_HUB_API: &str = "registry-1.docker.io";
/// The longest repository name Docker accepts.
const MAX_NAME_LEN: usize = 255;
/// The longest tag Docker accepts.
const MAX_TAG_LEN: usize = 128;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The registry as written (`docker.io`, `ghcr.io`, `localhost:5000`, `[::1]:5000`).
    pub registry: String,
    /// The repository path (`library/alpine`, `ns/app`).
    pub repository: String,
    /// The tag; `latest` when neither a tag nor a digest was given, `None` for a digest alone.
    pub tag: Option<String>,
    /// `sha256:<hex>` when the reference pins the manifest.
    pub digest: Option<Digest>,
}

impl Reference {
    /// The `host[:port]` that serves the registry API.
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// Whether the registry is this machine (`localhost`, `127.0.0.0/8`, `::1`), which Docker
    /// reaches over plain http.
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.registry)
    }

    /// What `GET /v2/<name>/manifests/<ref>` asks for: the digest when there is one.
    pub fn manifest_ref(&self) -> &str {
        match (&self.digest, &self.tag) {
            (Some(digest), _) => digest.as_str(),
            (None, Some(tag)) => tag,
            (None, None) => "latest",
        }
    }
}

impl fmt::Display for Reference {
    /// The normalised form: `docker.io/library/alpine:3.19`, `host:5000/ns/app@sha256:…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Whether `host[:port]` is `localhost`, in `127.0.0.0/8` or `[::1]`.
pub(crate) fn is_loopback_host(registry: &str) -> bool {
    let host = split_port(registry).0;
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// `host:port` → (`host`, `Some(port)`); `[::1]:5000` → (`::1`, `Some("5000")`).
fn split_port(registry: &str) -> (&str, Option<&str>) {
    if let Some(rest) = registry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((host, tail)) => (host, tail.strip_prefix(':')),
            None => (registry, None),
        };
    }
    match registry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (registry, None),
    }
}

/// Parses a reference the way `docker pull` does.
pub fn parse_reference(s: &str) -> Result<Reference, RegistryError> {
    let bad = |message: &str| RegistryError::Reference {
        input: s.to_string(),
        message: message.to_string(),
    };
    if s.is_empty() {
        return Err(bad("it is empty"));
    }
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("it contains whitespace"));
    }
    let (rest, digest) = match s.split_once('@') {
        Some((rest, digest)) => {
            let digest = Digest::parse(digest).map_err(|m| bad(&m))?;
            (rest, Some(digest))
        }
        None => (s, None),
    };
    // A tag is after the last ':' that follows the last '/' (a ':' before it is a port).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        check_tag(tag).map_err(bad)?;
    }
    let (registry, repository) = match name.split_once('/') {
        Some((first, path))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            (first, path.to_string())
        }
        _ => (DOCKER_HUB, name.to_string()),
    };
    let registry = match registry {
        "index.docker.io" => DOCKER_HUB,
        other => other,
    };
    check_registry(registry).map_err(bad)?;
    let repository = if registry == DOCKER_HUB && !repository.contains('/') {
        format!("library/{repository}")
    } else {
        repository
    };
    check_repository(&repository).map_err(bad)?;
    let tag = match (tag, &digest) {
        (Some(tag), _) => Some(tag.to_string()),
        (None, Some(_)) => None,
        (None, None) => Some("latest".to_string()),
    };
    Ok(Reference {
        registry: registry.to_string(),
        repository,
        tag,
        digest,
    })
}

/// Whether a command-line argument names an image in a registry rather than a file: it is not an
/// existing path, does not end like an archive file name, and parses as a reference.
pub fn looks_like_reference(s: &str) -> bool {
    const ARCHIVE_SUFFIXES: [&str; 6] = [".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.xz", ".oci"];
    !Path::new(s).exists()
        && !ARCHIVE_SUFFIXES.iter().any(|suffix| s.ends_with(suffix))
        && parse_reference(s).is_ok()
}

fn check_tag(tag: &str) -> Result<(), &'static str> {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if !first_ok || tag.len() > MAX_TAG_LEN {
        return Err(
            "a tag is 1 to 128 characters: letters, digits, '_', '.', '-', not starting with '.' or '-'",
        );
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')) {
        return Err("a tag has only letters, digits, '_', '.' and '-'");
    }
    Ok(())
}

fn check_registry(registry: &str) -> Result<(), &'static str> {
    let (host, port) = split_port(registry);
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("the registry's port is not a number");
    }
    if registry.starts_with('[') {
        return match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(_)) => Ok(()),
            _ => Err("the registry's IPv6 address is malformed"),
        };
    }
    let labels_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if labels_ok {
        Ok(())
    } else {
        Err("the registry is not a host name or address")
    }
}

/// Path components are lowercase `[a-z0-9]` runs joined by `.`, `_`, `__` or runs of `-`.
fn check_repository(repository: &str) -> Result<(), &'static str> {
    if repository.is_empty() {
        return Err("the repository name is empty");
    }
    if repository.len() > MAX_NAME_LEN {
        return Err("the repository name is longer than 255 characters");
    }
    if repository.chars().any(|c| c.is_ascii_uppercase()) {
        return Err("the repository name must be lowercase");
    }
    for component in repository.split('/') {
        if !component_ok(component.as_bytes()) {
            return Err(
                "each part of the repository name is lowercase letters and digits, joined by '.', '_', '__' or '-'",
            );
        }
    }
    Ok(())
}

fn component_ok(component: &[u8]) -> bool {
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let (Some(first), Some(last)) = (component.first(), component.last()) else {
        return false;
    };
    if !alnum(first) || !alnum(last) {
        return false;
    }
    let mut i = 0;
    while i < component.len() {
        if alnum(&component[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < component.len() && !alnum(&component[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, b"." | b"_" | b"__") || separator.iter().all(|&b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(s: &str) -> (String, String, Option<String>, Option<String>) {
        let r = parse_reference(s).unwrap();
        (
            r.registry,
            r.repository,
            r.tag,
            r.digest.map(|d| d.to_string()),
        )
    }

    const DIGEST: &str = "sha256:9b2b1b1ab6d1d1b2e0f8a3c07f6a2f4f4b5e5f6e7d8c9b0a1f2e3d4c5b6a7988";

    #[test]
    fn docker_hub_defaults() {
        let alpine = parse_reference("alpine").unwrap();
        assert_eq!(alpine.to_string(), "docker.io/library/alpine:latest");
        assert_eq!(alpine.api_host(), "registry-1.docker.io");
        assert_eq!(alpine.manifest_ref(), "latest");
        assert_eq!(
            parse_reference("alpine:3.19").unwrap().to_string(),
            "docker.io/library/alpine:3.19"
        );
        assert_eq!(
            parse_reference("docker.io/library/alpine:3.19")
                .unwrap()
                .to_string(),
            "docker.io/library/alpine:3.19"
        );
        assert_eq!(
            parse_reference("index.docker.io/alpine")
                .unwrap()
                .to_string(),
            "docker.io/library/alpine:latest"
        );
        // Two components on Docker Hub: a user's repository, no `library/`.
        assert_eq!(
            parts("bitnami/redis:7.2"),
            (
                "docker.io".into(),
                "bitnami/redis".into(),
                Some("7.2".into()),
                None
            )
        );
    }

    #[test]
    fn registries_ports_and_localhost() {
        let r = parse_reference("127.0.0.1:5000/ns/app:1.0").unwrap();
        assert_eq!(
            (r.registry.as_str(), r.repository.as_str(), r.tag.as_deref()),
            ("127.0.0.1:5000", "ns/app", Some("1.0"))
        );
        assert!(r.is_loopback());
        assert_eq!(r.api_host(), "127.0.0.1:5000");
        // A port without a tag: the ':' is before the last '/'.
        assert_eq!(
            parts("localhost:5000/app"),
            (
                "localhost:5000".into(),
                "app".into(),
                Some("latest".into()),
                None
            )
        );
        assert!(parse_reference("localhost/app").unwrap().is_loopback());
        assert_eq!(
            parse_reference("localhost/app").unwrap().registry,
            "localhost"
        );
        assert_eq!(parts("ghcr.io/owner/repo/sub:v1").0, "ghcr.io".to_string());
        assert!(!parse_reference("ghcr.io/owner/repo").unwrap().is_loopback());
        let v6 = parse_reference("[::1]:5000/app:2").unwrap();
        assert_eq!(v6.registry, "[::1]:5000");
        assert!(v6.is_loopback());
        // Without '.', ':' or "localhost" the first component is a namespace on Docker Hub.
        assert_eq!(parts("myhost/app").0, "docker.io".to_string());
        assert_eq!(parts("myhost/app").1, "myhost/app".to_string());
    }

    #[test]
    fn digests() {
        let pinned = parse_reference(&format!("alpine@{DIGEST}")).unwrap();
        assert_eq!(pinned.tag, None);
        assert_eq!(pinned.manifest_ref(), DIGEST);
        assert_eq!(
            pinned.to_string(),
            format!("docker.io/library/alpine@{DIGEST}")
        );
        let both = parse_reference(&format!("localhost:5000/a/b:1.2@{DIGEST}")).unwrap();
        assert_eq!(both.tag.as_deref(), Some("1.2"));
        assert_eq!(both.manifest_ref(), DIGEST);
        assert_eq!(both.to_string(), format!("localhost:5000/a/b:1.2@{DIGEST}"));
    }

    #[test]
    fn bad_input() {
        for bad in [
            "",
            "Alpine:UPPER/x",
            "ALPINE",
            "alpine:",
            "alpine:-x",
            "alpine:a b",
            "alpine@sha256:abc",
            "alpine@md5:d41d8cd98f00b204e9800998ecf8427e",
            "a//b",
            "/abs/path",
            "./image.tar",
            "ns/app/",
            "localhost:port/app",
            "host:99999999/app",
            "-bad.io/app",
            "[::1/app",
            "ex..ample.com/app",
            "app__-x",
            "a/B",
            &format!("a:{}", "x".repeat(129)),
            &format!("a/{}", "x".repeat(300)),
        ] {
            let error = parse_reference(bad).expect_err(bad);
            assert!(
                error.to_string().contains("is not an image reference"),
                "{bad}: {error}"
            );
        }
        assert!(
            parse_reference("a/B")
                .unwrap_err()
                .to_string()
                .contains("lowercase")
        );
        // Separators Docker allows.
        for good in ["a.b/c_d/e__f/g---h:T_1.x-y", "a-b.c-d.io:443/x"] {
            parse_reference(good).unwrap();
        }
    }

    #[test]
    fn arguments_that_look_like_references() {
        assert!(looks_like_reference("alpine:3.19"));
        assert!(looks_like_reference("127.0.0.1:5000/ns/app"));
        assert!(!looks_like_reference("image.tar"));
        assert!(!looks_like_reference("dist/image.tar.gz"));
        assert!(!looks_like_reference("./layout"));
        // An existing path is a path even when it would parse: tests run in the package
        // directory, which has `src`.
        assert!(parse_reference("src").is_ok());
        assert!(!looks_like_reference("src"));
    }
}
