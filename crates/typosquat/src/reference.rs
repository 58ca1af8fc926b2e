//! Image references as Docker writes them, `[host[:port]/][namespace/]repository[:tag][@digest]`,
//! parsed by the grammar of the distribution project's `reference` package: lowercase path
//! components joined by `.`, `_`, `__` or runs of `-`; the first component is a registry host if
//! it contains `.` or `:`, is `localhost`, or has an uppercase letter; otherwise the image is on
//! Docker Hub, whose bare names live in the `library/` namespace. Anything else is an error that
//! names the input and the problem; nothing here panics on input.

/// Docker Hub's registry host names; `docker.io` is the canonical one.
pub const DOCKER_HUB_HOSTS: [&str; 3] = ["docker.io", "index.docker.io", "registry-1.docker.io"];

/// The longest name (host and path) the grammar allows.
const MAX_NAME_LEN: usize = 255;

/// A reference the grammar does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference {input:?}: {reason}")]
pub struct ReferenceError {
    pub input: String,
    pub reason: String,
}

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    host: Option<String>,
    port: Option<u16>,
    path: Vec<String>,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageReference {
    /// Parses `input`; for Docker Hub (no host, or one of [`DOCKER_HUB_HOSTS`]) a single path
    /// component is put in the `library/` namespace, as Docker does.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let fail = |reason: &str| ReferenceError {
            input: input.chars().take(300).collect(),
            reason: reason.to_string(),
        };
        if input.is_empty() {
            return Err(fail("it is empty"));
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, digest)) => {
                check_digest(digest).map_err(fail)?;
                (rest, Some(digest.to_string()))
            }
            None => (input, None),
        };
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => {
                let at = last_slash + colon;
                let tag = &rest[at + 1..];
                check_tag(tag).map_err(fail)?;
                (&rest[..at], Some(tag.to_string()))
            }
            None => (rest, None),
        };
        if name.len() > MAX_NAME_LEN {
            return Err(fail("the name is longer than 255 characters"));
        }
        let mut components: Vec<&str> = name.split('/').collect();
        let first = components.first().copied().unwrap_or_default();
        let has_host = components.len() > 1
            && (first.contains(['.', ':'])
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()));
        let (host, port) = if has_host {
            components.remove(0);
            let (host, port) = split_host(first).map_err(fail)?;
            (Some(host), port)
        } else {
            (None, None)
        };
        for component in &components {
            check_component(component).map_err(fail)?;
        }
        let mut path: Vec<String> = components.into_iter().map(String::from).collect();
        let mut reference = ImageReference {
            host,
            port,
            path: Vec::new(),
            tag,
            digest,
        };
        if reference.is_docker_hub() && path.len() == 1 {
            path.insert(0, "library".to_string());
        }
        reference.path = path;
        Ok(reference)
    }

    /// The registry host as written (without the port), or `None` when the reference names none
    /// (Docker Hub).
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// Whether the image is on Docker Hub: no host, or one of Docker Hub's own, without a port.
    pub fn is_docker_hub(&self) -> bool {
        match &self.host {
            None => true,
            Some(host) => {
                self.port.is_none()
                    && DOCKER_HUB_HOSTS
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(host))
            }
        }
    }

    /// The canonical registry host: `docker.io` for Docker Hub, otherwise the host in lowercase
    /// with its port, if any.
    pub fn registry(&self) -> String {
        match (&self.host, self.port) {
            _ if self.is_docker_hub() => "docker.io".to_string(),
            (Some(host), Some(port)) => format!("{}:{port}", host.to_ascii_lowercase()),
            (Some(host), None) => host.to_ascii_lowercase(),
            (None, _) => "docker.io".to_string(),
        }
    }

    /// The path components before the repository, joined by `/` (`library` for Docker Hub's
    /// official images); empty when there are none.
    pub fn namespace(&self) -> String {
        self.path[..self.path.len().saturating_sub(1)].join("/")
    }

    /// The last path component.
    pub fn repository(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }

    /// The path: namespace and repository.
    pub fn path(&self) -> String {
        self.path.join("/")
    }

    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }
}

fn check_digest(digest: &str) -> Result<(), &'static str> {
    let (algorithm, encoded) = digest
        .split_once(':')
        .ok_or("the digest has no algorithm (like sha256:)")?;
    let algorithm_ok = !algorithm.is_empty()
        && algorithm.split(['+', '.', '_', '-']).all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        });
    if !algorithm_ok {
        return Err("the digest algorithm is malformed");
    }
    let hex = |len: usize| {
        encoded.len() == len
            && encoded
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let ok = match algorithm {
        "sha256" => hex(64),
        "sha512" => hex(128),
        _ => {
            !encoded.is_empty()
                && encoded
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'=' | b'_' | b'-'))
        }
    };
    if ok {
        Ok(())
    } else {
        Err("the digest is malformed")
    }
}

fn check_tag(tag: &str) -> Result<(), &'static str> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    match bytes.first() {
        None => Err("the tag is empty"),
        Some(_) if bytes.len() > 128 => Err("the tag is longer than 128 characters"),
        Some(&b) if !word(b) => Err("the tag must start with a letter, digit or underscore"),
        Some(_) if !bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-') => {
            Err("the tag has characters other than letters, digits, '_', '.' and '-'")
        }
        Some(_) => Ok(()),
    }
}

/// A path component: `[a-z0-9]+` parts joined by `.`, `_`, `__` or any run of `-`.
fn check_component(component: &str) -> Result<(), &'static str> {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return Err("a path component is empty");
    };
    if !alnum(first) || !alnum(last) {
        return Err("a path component must start and end with a lowercase letter or digit");
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let run_start = i;
        let sep = bytes[i];
        while i < bytes.len() && bytes[i] == sep {
            i += 1;
        }
        let run = i - run_start;
        let allowed = match sep {
            b'.' => run == 1,
            b'_' => run <= 2,
            b'-' => true,
            _ => {
                return Err(
                    "a path component has characters other than a-z, 0-9, '.', '_' and '-'",
                );
            }
        };
        if !allowed || !bytes.get(i).copied().is_some_and(alnum) {
            return Err("a path component has a malformed separator");
        }
    }
    Ok(())
}

/// Splits `host[:port]` (IPv6 addresses in brackets) and checks both parts.
fn split_host(text: &str) -> Result<(String, Option<u16>), &'static str> {
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (address, after) = rest
            .split_once(']')
            .ok_or("an IPv6 host is missing its ']'")?;
        if address.is_empty()
            || !address
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err("the IPv6 host is malformed");
        }
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':').ok_or("junk after the IPv6 host")?),
        };
        (format!("[{address}]"), port)
    } else {
        let (host, port) = match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        };
        let label_ok = |label: &str| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-')
                && b.first().is_some_and(u8::is_ascii_alphanumeric)
                && b.last().is_some_and(u8::is_ascii_alphanumeric)
        };
        if !host.split('.').all(label_ok) {
            return Err("the registry host is malformed");
        }
        (host.to_string(), port)
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| "the registry port is out of range")?,
        ),
        Some(_) => return Err("the registry port is malformed"),
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(input: &str) -> (String, String, Option<String>, Option<String>) {
        let r = ImageReference::parse(input).unwrap_or_else(|e| panic!("{e}"));
        (
            r.registry(),
            r.path(),
            r.tag().map(String::from),
            r.digest().map(String::from),
        )
    }

    #[test]
    fn docker_hub_names() {
        let hex = "a".repeat(64);
        assert_eq!(
            parts("nginx"),
            ("docker.io".into(), "library/nginx".into(), None, None)
        );
        assert_eq!(parts("node:20-alpine").2.as_deref(), Some("20-alpine"));
        assert_eq!(parts("docker.io/library/node").1, "library/node");
        assert_eq!(parts("index.docker.io/nginx").1, "library/nginx");
        assert_eq!(parts("registry-1.docker.io/someuser/app").1, "someuser/app");
        let digested = parts(&format!("docker.io/library/python@sha256:{hex}"));
        assert_eq!(digested.1, "library/python");
        assert_eq!(digested.3, Some(format!("sha256:{hex}")));
        let both = parts(&format!("python:3.12@sha256:{hex}"));
        assert_eq!(both.2.as_deref(), Some("3.12"));
    }

    #[test]
    fn other_registries() {
        assert_eq!(parts("ghcr.io/someorg/tool").0, "ghcr.io");
        assert_eq!(parts("localhost:5000/app:1").0, "localhost:5000");
        assert_eq!(parts("localhost/app").0, "localhost");
        assert_eq!(parts("[::1]:5000/app").0, "[::1]:5000");
        assert_eq!(
            parts("Registry.Example.com/a/b/c").0,
            "registry.example.com"
        );
        let r = ImageReference::parse("mcr.microsoft.com/dotnet/runtime:8.0").ok();
        assert_eq!(
            r.as_ref().map(ImageReference::namespace).as_deref(),
            Some("dotnet")
        );
        assert_eq!(r.as_ref().map(ImageReference::repository), Some("runtime"));
        // A port makes it another registry, even on a Docker Hub host name.
        assert!(!ImageReference::parse("docker.io:443/nginx").is_ok_and(|r| r.is_docker_hub()));
    }

    #[test]
    fn separators_in_components() {
        for ok in ["a__b", "a--b", "a---b", "a.b", "a_b-c.d"] {
            assert!(ImageReference::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["a___b", "a..b", "a._b", "-a", "a-", "_a", "A", "a/B"] {
            assert!(ImageReference::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let long = "a".repeat(300);
        for bad in [
            "",
            ":",
            "@",
            "/",
            "a/",
            "/a",
            "a//b",
            "a:",
            "a@sha256:",
            "a@sha256:abc",
            "a@:abc",
            "nginx:-x",
            "nginx:a b",
            "ex ample.com/a",
            "example.com:/a",
            "example.com:99999/a",
            "[::1/a",
            "[]/a",
            "héllo",
            "a@sha256:ZZZZ",
            long.as_str(),
            "a:b:c",
            "a@b@c",
        ] {
            assert!(ImageReference::parse(bad).is_err(), "{bad:?}");
        }
        let error = ImageReference::parse("Nginx").err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some(
                r#"invalid image reference "Nginx": a path component must start and end with a lowercase letter or digit"#
            )
        );
    }
}
