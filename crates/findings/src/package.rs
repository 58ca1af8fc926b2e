//! The SBOM model: one installed package, its ecosystem, and its package URL.
//!
//! Catalogers (`stowaway-sbom`) report a [`Package`] without location or PURL; the assembly fills
//! in where it was found (layer, path, status) and the PURL, which for OS packages needs the
//! distribution the whole image turned out to be.

use std::fmt::Write;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Location, OsInfo};

/// The ecosystem a package belongs to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum PackageType {
    /// Debian and Ubuntu packages (dpkg).
    Deb,
    /// Alpine packages (apk).
    Apk,
    /// Red Hat, Fedora, SUSE, ... packages (rpm).
    Rpm,
    /// Python distributions (PyPI).
    Python,
    /// JavaScript packages (npm, yarn, pnpm).
    Npm,
    /// Java archives (Maven coordinates).
    Java,
    /// Go modules, and the Go toolchain as `stdlib`.
    Go,
    /// Rust crates.
    Rust,
    /// Ruby gems.
    Gem,
    /// PHP packages (Composer).
    Composer,
    /// .NET packages (NuGet).
    Nuget,
}

impl PackageType {
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Apk => "apk",
            PackageType::Rpm => "rpm",
            PackageType::Python => "python",
            PackageType::Npm => "npm",
            PackageType::Java => "java",
            PackageType::Go => "go",
            PackageType::Rust => "rust",
            PackageType::Gem => "gem",
            PackageType::Composer => "composer",
            PackageType::Nuget => "nuget",
        }
    }

    /// The package-URL type (`pkg:<type>/...`).
    pub fn purl_type(self) -> &'static str {
        match self {
            PackageType::Deb => "deb",
            PackageType::Apk => "apk",
            PackageType::Rpm => "rpm",
            PackageType::Python => "pypi",
            PackageType::Npm => "npm",
            PackageType::Java => "maven",
            PackageType::Go => "golang",
            PackageType::Rust => "cargo",
            PackageType::Gem => "gem",
            PackageType::Composer => "composer",
            PackageType::Nuget => "nuget",
        }
    }

    /// Whether the distribution's package manager installed it.
    pub fn is_os(self) -> bool {
        matches!(self, PackageType::Deb | PackageType::Apk | PackageType::Rpm)
    }
}

/// The source package an OS package was built from (dpkg `Source:`, rpm source RPM, apk origin).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub struct SourcePackage {
    pub name: String,
    /// Absent when it is the binary package's own version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// One installed package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Package {
    /// The name as its ecosystem writes it: `libc6`, `requests`, `@types/node`, `golang.org/x/net`.
    pub name: String,
    /// Maven group id, the one ecosystem whose name has two parts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The version as its ecosystem writes it (rpm: `[epoch:]version-release`).
    pub version: String,
    #[serde(rename = "type")]
    pub package_type: PackageType,
    /// Package URL (https://github.com/package-url/purl-spec), with the distribution as a
    /// qualifier for OS packages.
    #[serde(default)]
    pub purl: String,
    /// Architecture, for OS packages and binaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arch: Option<String>,
    /// The source package, for OS packages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourcePackage>,
    /// Licenses as declared by the package (SPDX expressions where the package gives one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// Where it was found: the file that records it, the layer that introduced it, and whether
    /// it is still installed in the final filesystem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// PURL of the OS package that installed this language package's files, if one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

impl Package {
    /// A package with the fields every ecosystem has; the rest empty.
    pub fn new(
        package_type: PackageType,
        name: impl Into<String>,
        version: impl Into<String>,
    ) -> Package {
        Package {
            name: name.into(),
            group: None,
            version: version.into(),
            package_type,
            purl: String::new(),
            arch: None,
            source: None,
            licenses: Vec::new(),
            location: None,
            owner: None,
        }
    }

    /// The package URL, for an image whose OS is `os` (OS packages carry it as `distro`).
    pub fn purl(&self, os: Option<&OsInfo>) -> String {
        let mut purl = format!("pkg:{}/", self.package_type.purl_type());
        let mut segments: Vec<String> = Vec::new();
        let name = match self.package_type {
            PackageType::Deb | PackageType::Apk | PackageType::Rpm => {
                let namespace = os.map_or(self.default_namespace(), |os| os.id.to_lowercase());
                segments.push(namespace);
                self.name.clone()
            }
            PackageType::Python => normalize_python_name(&self.name),
            PackageType::Java => {
                if let Some(group) = &self.group {
                    segments.push(group.clone());
                }
                self.name.clone()
            }
            // Scoped npm names, Go module paths and Composer `vendor/name` have their namespace
            // in the name.
            PackageType::Npm | PackageType::Go | PackageType::Composer => {
                let mut parts: Vec<&str> = self.name.split('/').collect();
                let last = parts.pop().unwrap_or_default();
                segments.extend(parts.into_iter().map(str::to_string));
                last.to_string()
            }
            PackageType::Rust | PackageType::Gem | PackageType::Nuget => self.name.clone(),
        };
        for segment in segments.iter().filter(|s| !s.is_empty()) {
            purl.push_str(&encode(segment));
            purl.push('/');
        }
        purl.push_str(&encode(&name));
        let mut qualifiers: Vec<(&str, String)> = Vec::new();
        let mut version = self.version.as_str();
        if let (PackageType::Rpm, Some((epoch, rest))) =
            (self.package_type, version.split_once(':'))
        {
            qualifiers.push(("epoch", epoch.to_string()));
            version = rest;
        }
        // The Go toolchain: `go1.21.3` as the binary says, `1.21.3` as Go's advisories (and
        // Syft) write it.
        if self.package_type == PackageType::Go && self.name == "stdlib" {
            version = version.strip_prefix("go").unwrap_or(version);
        }
        if !version.is_empty() {
            purl.push('@');
            purl.push_str(&encode(version));
        }
        if self.package_type.is_os() {
            if let Some(arch) = self.arch.as_ref().filter(|a| !a.is_empty()) {
                qualifiers.push(("arch", arch.clone()));
            }
            if let Some(os) = os {
                let distro = match &os.version_id {
                    Some(version) => format!("{}-{version}", os.id),
                    None => os.id.clone(),
                };
                qualifiers.push(("distro", distro));
            }
            if let Some(source) = &self.source {
                let value = match (&source.version, self.package_type) {
                    (Some(version), PackageType::Deb) => format!("{}@{version}", source.name),
                    _ => source.name.clone(),
                };
                if source.name != self.name || source.version.is_some() {
                    qualifiers.push(("upstream", value));
                }
            }
        }
        qualifiers.sort();
        for (i, (key, value)) in qualifiers.iter().enumerate() {
            purl.push(if i == 0 { '?' } else { '&' });
            let _ = write!(purl, "{key}={}", encode(value));
        }
        purl
    }

    fn default_namespace(&self) -> String {
        match self.package_type {
            PackageType::Apk => "alpine".into(),
            PackageType::Deb => "debian".into(),
            _ => String::new(),
        }
    }
}

/// PEP 503 normalisation: lowercase, runs of `-`, `_` and `.` become one `-`.
pub fn normalize_python_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// Percent-encodes everything but the purl spec's unreserved characters (and `:`, which
/// versions with an epoch carry unencoded).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_' | b'~' | b':') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn debian() -> OsInfo {
        OsInfo {
            id: "debian".into(),
            version_id: Some("12".into()),
            pretty_name: None,
            source: "etc/os-release".into(),
        }
    }

    #[test]
    fn purls_per_ecosystem() {
        let mut libc = Package::new(PackageType::Deb, "libc6", "2.36-9+deb12u4");
        libc.arch = Some("amd64".into());
        libc.source = Some(SourcePackage {
            name: "glibc".into(),
            version: None,
        });
        assert_eq!(
            libc.purl(Some(&debian())),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12&upstream=glibc"
        );
        let mut jar = Package::new(PackageType::Java, "commons-text", "1.9");
        jar.group = Some("org.apache.commons".into());
        assert_eq!(
            jar.purl(None),
            "pkg:maven/org.apache.commons/commons-text@1.9"
        );
        assert_eq!(
            Package::new(PackageType::Npm, "@types/node", "20.1.0").purl(None),
            "pkg:npm/%40types/node@20.1.0"
        );
        assert_eq!(
            Package::new(PackageType::Python, "Typing_Extensions", "4.0").purl(None),
            "pkg:pypi/typing-extensions@4.0"
        );
        assert_eq!(
            Package::new(PackageType::Go, "golang.org/x/net", "v0.1.0").purl(None),
            "pkg:golang/golang.org/x/net@v0.1.0"
        );
        assert_eq!(
            Package::new(PackageType::Go, "stdlib", "go1.21.3").purl(None),
            "pkg:golang/stdlib@1.21.3"
        );
        assert_eq!(
            Package::new(PackageType::Rpm, "bash", "1:5.1-2.el9").purl(None),
            "pkg:rpm/bash@5.1-2.el9?epoch=1"
        );
    }

    #[test]
    fn pep_503_names() {
        assert_eq!(normalize_python_name("Foo.Bar__baz"), "foo-bar-baz");
        assert_eq!(normalize_python_name("requests"), "requests");
    }
}
