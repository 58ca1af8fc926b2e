//! Package URLs as VEX compares them: type, namespace, name and version, ignoring qualifiers
//! and subpath, percent-decoded.

/// The parts of a purl that identify a package version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purl {
    /// Lower-cased type (`deb`, `pypi`, `oci`).
    pub kind: String,
    /// Namespace and name, decoded (`debian/libc6`, `django`).
    pub name: String,
    /// Decoded version, when the purl has one.
    pub version: Option<String>,
}

impl Purl {
    /// Parses `pkg:type/namespace/name@version?qualifiers#subpath`; None when it is not a purl.
    pub fn parse(purl: &str) -> Option<Purl> {
        let rest = purl.trim().strip_prefix("pkg:")?;
        let rest = rest.split_once('#').map_or(rest, |(head, _)| head);
        let rest = rest.split_once('?').map_or(rest, |(head, _)| head);
        let (kind, path) = rest.trim_start_matches('/').split_once('/')?;
        let last_slash = path.rfind('/').map_or(0, |i| i + 1);
        let (name, version) = match path[last_slash..].find('@') {
            Some(at) => (
                &path[..last_slash + at],
                Some(decode(&path[last_slash + at + 1..])),
            ),
            None => (path, None),
        };
        (!kind.is_empty() && !name.is_empty()).then(|| Purl {
            kind: kind.to_ascii_lowercase(),
            name: decode(name.trim_end_matches('/')),
            version,
        })
    }

    /// Whether this purl (a VEX product) names `package`: same type and name, and the same
    /// version unless this one has none.
    pub fn covers(&self, package: &Purl) -> bool {
        self.kind == package.kind
            && self.name == package.name
            && self
                .version
                .as_ref()
                .is_none_or(|version| package.version.as_ref() == Some(version))
    }

    /// Whether this purl names a container image rather than a package.
    pub fn is_image(&self) -> bool {
        self.kind == "oci" || self.kind == "docker"
    }
}

/// Percent-decodes `s`; a `%` not followed by two hex digits is kept as it is.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purl(s: &str) -> Purl {
        Purl::parse(s).unwrap()
    }

    #[test]
    fn parts_are_decoded_and_qualifiers_dropped() {
        let libc = purl("pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12");
        assert_eq!(libc.kind, "deb");
        assert_eq!(libc.name, "debian/libc6");
        assert_eq!(libc.version.as_deref(), Some("2.36-9+deb12u1"));
        let scoped = purl("pkg:npm/%40angular/core@1.0.0#lib");
        assert_eq!(scoped.name, "@angular/core");
        assert_eq!(purl("pkg:npm/@angular/core@1.0.0").name, "@angular/core");
        assert_eq!(purl("pkg:PyPI/django").version, None);
        assert_eq!(Purl::parse("django@4.2"), None);
        assert_eq!(Purl::parse("pkg:pypi"), None);
    }

    #[test]
    fn a_product_without_version_covers_every_version() {
        let installed = purl("pkg:pypi/django@4.2.1");
        assert!(purl("pkg:pypi/django").covers(&installed));
        assert!(purl("pkg:pypi/django@4.2.1?repository_url=x").covers(&installed));
        assert!(!purl("pkg:pypi/django@4.2.2").covers(&installed));
        assert!(!purl("pkg:pypi/flask").covers(&installed));
        assert!(!purl("pkg:npm/django").covers(&installed));
        assert!(purl("pkg:oci/app@sha256%3Aab").is_image());
    }
}
