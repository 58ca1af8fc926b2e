//! dpkg: `/var/lib/dpkg/status`, and distroless images' `/var/lib/dpkg/status.d/<package>` files
//! (one status paragraph each, no `Status:` field).
//!
//! A package counts when its `Status:` says it is installed (or when there is no `Status:`, as in
//! `status.d`): `deinstall ok config-files` leaves only configuration behind, and half-installed
//! packages are not there to match. The source package comes from `Source:` (`name` or
//! `name (version)`), licenses from a `License:` field where a maintainer declared one.
//!
//! `/var/lib/dpkg/info/<package>[:<arch>].list` names the files each package installed; they
//! become [`Output::Owns`], so that a Python module a `.deb` installed is known to be Debian's.
//!
//! The status database rarely declares licenses; `/usr/share/doc/<package>/copyright` does. In
//! Debian's machine-readable format (DEP-5) its `License:` fields name them (`GPL-3+`,
//! `LGPL-2.1`); older free-form files point at `/usr/share/common-licenses/<name>`. Both become
//! [`Output::Licenses`] for the package of that name, in the order they first appear.

use stowaway_findings::{Package, PackageType, SourcePackage};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;
use crate::paragraphs::{self, field};

pub struct Dpkg;

const STATUS: &str = "var/lib/dpkg/status";
const STATUS_D: &str = "var/lib/dpkg/status.d/";
const INFO: &str = "var/lib/dpkg/info/";
const DOC: &str = "usr/share/doc/";
const MAX_COPYRIGHT_BYTES: u64 = 1 << 20;

/// The package a `usr/share/doc/<package>/copyright` file belongs to.
fn copyright_owner(path: &str) -> Option<&str> {
    let name = path.strip_prefix(DOC)?.strip_suffix("/copyright")?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

/// The licenses a copyright file names: DEP-5 `License:` short names, else the
/// `/usr/share/common-licenses/` files it points at.
fn copyright_licenses(text: &str) -> Vec<String> {
    let mut names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("License:"))
        .collect();
    if names.is_empty() {
        const COMMON: &str = "/usr/share/common-licenses/";
        names = text
            .match_indices(COMMON)
            .map(|(start, _)| {
                let rest = &text[start + COMMON.len()..];
                let end = rest
                    .find(|c: char| {
                        !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
                    })
                    .unwrap_or(rest.len());
                &rest[..end]
            })
            .collect();
    }
    let mut licenses: Vec<String> = Vec::new();
    for name in names {
        let name = name
            .trim()
            .trim_end_matches(['.', ',', ';', ')', '"', '\'']);
        if !name.is_empty() && !licenses.iter().any(|l| l == name) {
            licenses.push(name.to_string());
        }
    }
    licenses
}

/// The package a `info/*.list` file belongs to.
fn list_owner(path: &str) -> Option<&str> {
    let name = path.strip_prefix(INFO)?.strip_suffix(".list")?;
    let name = name.split_once(':').map_or(name, |(name, _arch)| name);
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

impl Analyzer for Dpkg {
    fn id(&self) -> &'static str {
        "dpkg"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none()
            && file.size <= MAX_DATABASE_BYTES
            && (file.path == STATUS
                || file.path.strip_prefix(STATUS_D).is_some_and(|name| {
                    !name.is_empty() && !name.contains('/') && !name.ends_with(".md5sums")
                })
                || list_owner(file.path).is_some())
            || (file.member.is_none()
                && file.size <= MAX_COPYRIGHT_BYTES
                && copyright_owner(file.path).is_some())
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        if !complete {
            return;
        }
        if let Some(name) = copyright_owner(file.path) {
            let licenses = copyright_licenses(&String::from_utf8_lossy(content));
            if !licenses.is_empty() {
                out.push(Output::Licenses {
                    package_type: PackageType::Deb,
                    name: name.to_string(),
                    licenses,
                });
            }
            return;
        }
        if let Some(name) = list_owner(file.path) {
            let files = String::from_utf8_lossy(content)
                .lines()
                .filter_map(|line| line.strip_prefix('/'))
                .filter(|path| !path.is_empty() && *path != ".")
                .map(str::to_string)
                .collect();
            out.push(Output::Owns {
                package_type: PackageType::Deb,
                name: name.to_string(),
                files,
            });
            return;
        }
        out.extend(parse_status(&String::from_utf8_lossy(content)).map(Output::Package));
    }
}

/// The installed packages of a status database (or one `status.d` file).
pub fn parse_status(text: &str) -> impl Iterator<Item = Package> + '_ {
    paragraphs::parse(text).into_iter().filter_map(|paragraph| {
        let installed = field(&paragraph, "Status")
            .is_none_or(|status| status.split_whitespace().nth(2) == Some("installed"));
        if !installed {
            return None;
        }
        let name = field(&paragraph, "Package")?;
        let version = field(&paragraph, "Version")?;
        let mut package = Package::new(PackageType::Deb, name, version);
        package.arch = field(&paragraph, "Architecture").map(str::to_string);
        package.source = field(&paragraph, "Source").map(|source| match source.split_once('(') {
            Some((name, version)) => SourcePackage {
                name: name.trim().to_string(),
                version: Some(version.trim_end_matches(')').trim().to_string()),
            },
            None => SourcePackage {
                name: source.to_string(),
                version: None,
            },
        });
        package.licenses = field(&paragraph, "License")
            .map(|license| vec![license.to_string()])
            .unwrap_or_default();
        Some(package)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS_TEXT: &str = "\
Package: libc6
Status: install ok installed
Priority: optional
Architecture: amd64
Multi-Arch: same
Source: glibc
Version: 2.36-9+deb12u4
Description: GNU C Library: Shared libraries
 Contains the standard libraries.

Package: removed-but-configured
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0-1

Package: libpython3.11-minimal
Status: install ok installed
Architecture: amd64
Source: python3.11 (3.11.2-6+deb12u1)
Version: 3.11.2-6+deb12u1
";

    #[test]
    fn installed_packages_with_their_source() {
        let packages: Vec<Package> = parse_status(STATUS_TEXT).collect();
        type Row<'a> = (
            &'a str,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
            Option<&'a str>,
        );
        let summary: Vec<Row> = packages
            .iter()
            .map(|p| {
                (
                    p.name.as_str(),
                    p.version.as_str(),
                    p.arch.as_deref(),
                    p.source.as_ref().map(|s| s.name.as_str()),
                    p.source.as_ref().and_then(|s| s.version.as_deref()),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "libc6",
                    "2.36-9+deb12u4",
                    Some("amd64"),
                    Some("glibc"),
                    None
                ),
                (
                    "libpython3.11-minimal",
                    "3.11.2-6+deb12u1",
                    Some("amd64"),
                    Some("python3.11"),
                    Some("3.11.2-6+deb12u1")
                ),
            ]
        );
    }

    #[test]
    fn status_d_files_have_no_status_field() {
        let packages: Vec<Package> =
            parse_status("Package: tzdata\nVersion: 2024a-0+deb12u1\nArchitecture: all\n")
                .collect();
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].name, "tzdata");
    }

    #[test]
    fn licenses_from_copyright_files() {
        let dep5 = "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\nFiles: *\nLicense: GPL-3+\n\nFiles: lib/x.c\nLicense: GPL-3+ and ISC\n\nLicense: GPL-3+\n This program is free software.\n On Debian systems, see /usr/share/common-licenses/GPL-3.\n";
        assert_eq!(copyright_licenses(dep5), ["GPL-3+", "GPL-3+ and ISC"]);
        let free = "This is the Debian version.\nSee /usr/share/common-licenses/LGPL-2.1 and\n`/usr/share/common-licenses/GPL-2'.\n";
        assert_eq!(copyright_licenses(free), ["LGPL-2.1", "GPL-2"]);
        assert_eq!(copyright_owner("usr/share/doc/sed/copyright"), Some("sed"));
        assert_eq!(copyright_owner("usr/share/doc/sed/x/copyright"), None);
    }

    #[test]
    fn wants_only_the_databases() {
        let meta = |path| FileMeta {
            path,
            member: None,
            size: 10,
            mode: 0o644,
            head: b"",
        };
        assert!(Dpkg.wants(&meta("var/lib/dpkg/status")));
        assert!(Dpkg.wants(&meta("var/lib/dpkg/status.d/base")));
        assert!(!Dpkg.wants(&meta("var/lib/dpkg/status.d/base.md5sums")));
        assert!(!Dpkg.wants(&meta("var/lib/dpkg/status-old")));
        assert!(Dpkg.wants(&meta("var/lib/dpkg/info/libc6:amd64.list")));
        assert!(!Dpkg.wants(&meta("var/lib/dpkg/info/libc6:amd64.md5sums")));
        assert_eq!(
            list_owner("var/lib/dpkg/info/libc6:amd64.list"),
            Some("libc6")
        );
        assert_eq!(
            list_owner("var/lib/dpkg/info/python3-six.list"),
            Some("python3-six")
        );
    }
}
