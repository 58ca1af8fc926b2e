//! Python: the core metadata every installed distribution carries, in the formats the installers
//! have written over the years:
//!
//! - `<name>-<version>.dist-info/METADATA` (pip and every wheel installer; wheels themselves);
//! - `<name>-<version>.egg-info/PKG-INFO` (setuptools' `install`/`develop`, Debian's python3-*
//!   packages), and `<name>-<version>.egg-info` as a single file (old distutils);
//! - `EGG-INFO/PKG-INFO` in a `<name>.egg` directory or zip (easy_install).
//!
//! The metadata is RFC 822 headers (`Name:`, `Version:`, `License:`, `Classifier:`, ...) followed
//! by a blank line and the long description, which is never read. The name is kept as written;
//! the PURL normalises it (PEP 503). Licenses: `License-Expression` (an SPDX expression, core
//! metadata 2.4) when present, else a one-line `License`, else the `License ::` trove classifiers.
//!
//! Inside archives only a wheel's or an egg's own top-level metadata counts: the `PKG-INFO` of a
//! source tarball or a copy vendored deep in some other archive is not an installed package.

use stowaway_findings::{Package, PackageType};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;
use crate::paragraphs;

pub struct Python;

/// Whether `path` (a path in the layer, or a member's path in its archive) names a metadata file.
fn is_metadata_path(path: &str) -> bool {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let parent = dir.rsplit('/').next().unwrap_or(dir);
    match file {
        "METADATA" => parent.ends_with(".dist-info"),
        "PKG-INFO" => {
            parent.ends_with(".egg-info")
                || (parent == "EGG-INFO" && {
                    let egg = dir.strip_suffix("EGG-INFO").unwrap_or(dir);
                    let egg = egg.strip_suffix('/').unwrap_or(egg);
                    egg.rsplit('/').next().unwrap_or(egg).ends_with(".egg")
                })
        }
        _ => file.ends_with(".egg-info") && file.len() > ".egg-info".len(),
    }
}

/// Whether an archive member is the top-level metadata of the wheel or egg that holds it.
fn is_archive_metadata(archive: &str, member: &str) -> bool {
    let archive = archive.rsplit('/').next().unwrap_or(archive);
    let Some((dir, file)) = member.split_once('/') else {
        return false;
    };
    if archive.ends_with(".whl") {
        file == "METADATA" && dir.ends_with(".dist-info")
    } else if archive.ends_with(".egg") {
        file == "PKG-INFO" && dir == "EGG-INFO"
    } else {
        false
    }
}

impl Analyzer for Python {
    fn id(&self) -> &'static str {
        "python"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        if file.size > MAX_DATABASE_BYTES {
            return false;
        }
        match file.member {
            None => is_metadata_path(file.path),
            Some(member) => {
                // `outer.tar!inner.whl!x.dist-info/METADATA`: the innermost archive holds it.
                let (archive, member) = member.rsplit_once('!').unwrap_or((file.path, member));
                let archive = archive.rsplit('!').next().unwrap_or(archive);
                is_archive_metadata(archive, member)
            }
        }
    }

    fn analyze(&self, _file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        let text = String::from_utf8_lossy(content);
        let Some(headers) = headers(&text, complete) else {
            return;
        };
        out.extend(parse_metadata(headers).map(Output::Package));
    }
}

/// The header block of a metadata file: up to the first blank line. `None` when the content was
/// cut off before the headers ended.
fn headers(text: &str, complete: bool) -> Option<&str> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim().is_empty() {
            return Some(&text[..offset]);
        }
        offset += line.len();
    }
    complete.then_some(text)
}

/// The distribution that the metadata headers describe, if they name one and its version.
pub fn parse_metadata(headers: &str) -> Option<Package> {
    let paragraph = paragraphs::parse(headers).into_iter().next()?;
    let field = |key: &str| {
        paragraph
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    };
    let name = field("Name")?;
    let version = field("Version")?;
    if name.contains(char::is_whitespace) || version.contains(char::is_whitespace) {
        return None;
    }
    let mut package = Package::new(PackageType::Python, name, version);
    package.licenses = if let Some(expression) = field("License-Expression") {
        vec![expression.to_string()]
    } else if let Some(license) = field("License").filter(|l| is_license_name(l)) {
        vec![license.to_string()]
    } else {
        paragraph
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("Classifier"))
            .filter_map(|(_, v)| v.strip_prefix("License ::"))
            .filter_map(|v| v.rsplit("::").next())
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != "OSI Approved")
            .map(str::to_string)
            .collect()
    };
    Some(package)
}

/// Whether a `License:` value names a license rather than holding its whole text (some packages
/// paste the license in) or saying nothing (`UNKNOWN`, setuptools' old default).
fn is_license_name(value: &str) -> bool {
    !value.contains('\n') && value.len() <= 100 && !value.eq_ignore_ascii_case("UNKNOWN")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta<'a>(path: &'a str, member: Option<&'a str>) -> FileMeta<'a> {
        FileMeta {
            path,
            member,
            size: 100,
            mode: 0o644,
            head: b"",
        }
    }

    fn run(content: &[u8], complete: bool) -> Vec<Package> {
        let mut out = Vec::new();
        Python.analyze(
            &meta("x.dist-info/METADATA", None),
            content,
            complete,
            &mut out,
        );
        out.into_iter()
            .map(|o| match o {
                Output::Package(p) => p,
                other => panic!("unexpected {other:?}"),
            })
            .collect()
    }

    #[test]
    fn wants_the_metadata_files_only() {
        let site = "usr/local/lib/python3.12/site-packages";
        for path in [
            format!("{site}/requests-2.31.0.dist-info/METADATA"),
            format!("{site}/six-1.16.0.egg-info/PKG-INFO"),
            format!("{site}/six-1.16.0.egg-info"),
            format!("{site}/foo-1.0-py3.12.egg/EGG-INFO/PKG-INFO"),
        ] {
            assert!(Python.wants(&meta(&path, None)), "{path}");
        }
        for path in [
            format!("{site}/requests-2.31.0.dist-info/RECORD"),
            format!("{site}/requests/METADATA"),
            format!("{site}/foo/EGG-INFO/PKG-INFO"),
            "src/foo-1.0/PKG-INFO".to_string(),
            ".egg-info".to_string(),
        ] {
            assert!(!Python.wants(&meta(&path, None)), "{path}");
        }
        let wheel = "root/six-1.16.0-py2.py3-none-any.whl";
        assert!(Python.wants(&meta(wheel, Some("six-1.16.0.dist-info/METADATA"))));
        assert!(Python.wants(&meta("a.egg", Some("EGG-INFO/PKG-INFO"))));
        assert!(Python.wants(&meta("b.tar", Some("c.whl!six-1.16.0.dist-info/METADATA"))));
        assert!(!Python.wants(&meta(wheel, Some("six-1.16.0.dist-info/RECORD"))));
        assert!(!Python.wants(&meta(wheel, Some("vendor/x.dist-info/METADATA"))));
        assert!(!Python.wants(&meta(
            "foo-1.0.tar.gz",
            Some("foo-1.0.tar!foo-1.0/foo.egg-info/PKG-INFO")
        )));
        let mut big = meta("x.dist-info/METADATA", None);
        big.size = MAX_DATABASE_BYTES + 1;
        assert!(!Python.wants(&big));
    }

    #[test]
    fn dist_info_metadata_with_classifier_license() {
        let text = b"Metadata-Version: 2.1\r\nName: Typing_Extensions\r\nVersion: 4.8.0\r\n\
Summary: Backported and Experimental Type Hints\r\nClassifier: Development Status :: 5 - Production/Stable\r\n\
Classifier: License :: OSI Approved :: Python Software Foundation License\r\n\r\n\
Name: NotThis\r\nVersion: 9\r\n";
        let packages = run(text, true);
        assert_eq!(packages.len(), 1);
        let p = &packages[0];
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("Typing_Extensions", "4.8.0")
        );
        assert_eq!(p.package_type, PackageType::Python);
        assert_eq!(p.licenses, ["Python Software Foundation License"]);
        assert_eq!(p.purl(None), "pkg:pypi/typing-extensions@4.8.0");
    }

    #[test]
    fn license_expression_wins_then_license_then_classifiers() {
        let with = |extra: &str| {
            let text = format!(
                "Name: x\nVersion: 1\n{extra}\nClassifier: License :: OSI Approved :: MIT License\n\nbody"
            );
            run(text.as_bytes(), true).remove(0).licenses
        };
        assert_eq!(
            with("License-Expression: Apache-2.0 OR MIT\nLicense: BSD"),
            ["Apache-2.0 OR MIT"]
        );
        assert_eq!(with("License: BSD-3-Clause"), ["BSD-3-Clause"]);
        assert_eq!(with("License: UNKNOWN"), ["MIT License"]);
        assert_eq!(
            with("License: Copyright (c) 2010 someone\n        Permission is hereby granted"),
            ["MIT License"]
        );
    }

    #[test]
    fn the_body_is_never_read() {
        let text = b"Name: real\nVersion: 1.0\nDescription-Content-Type: text/markdown\n\n# Title\nLicense: not-a-header\nVersion: 2\n";
        let packages = run(text, true);
        assert_eq!(packages.len(), 1);
        assert_eq!(packages[0].version, "1.0");
        assert!(packages[0].licenses.is_empty());
    }

    #[test]
    fn malformed_or_cut_metadata_gives_nothing() {
        for text in [
            &b""[..],
            b"\n\nName: x\nVersion: 1\n",
            b"Name: x\n",
            b"Version: 1\n",
            b"Name:\nVersion: 1\n",
            b"Name: two words\nVersion: 1\n",
            b"\xff\xfe\x00garbage",
            b"no colon at all\njust lines\n",
        ] {
            assert!(run(text, true).is_empty(), "{text:?}");
        }
        // The headers end beyond what was read: nothing, rather than a guess.
        assert!(run(b"Name: x\nVersion: 1\nSummary: and more", false).is_empty());
        assert_eq!(run(b"Name: x\nVersion: 1\n\nbody cut", false).len(), 1);
    }

    #[test]
    fn single_file_egg_info_of_distutils() {
        let text = b"Metadata-Version: 1.0\nName: pycurl\nVersion: 7.19.0\nSummary: PycURL\nLicense: LGPL/MIT\nDescription: \n        This module provides Python bindings for cURL.\nPlatform: All\n";
        let packages = run(text, true);
        assert_eq!(packages[0].name, "pycurl");
        assert_eq!(packages[0].licenses, ["LGPL/MIT"]);
    }
}
