//! JavaScript: installed packages and the lockfiles of npm, yarn and pnpm.
//!
//! Installed packages are the `package.json` files that sit directly in a package's directory
//! under `node_modules` (`node_modules/<name>/package.json`, `node_modules/@scope/<name>/...`,
//! at any depth, pnpm's `node_modules/.pnpm/<id>/node_modules/<name>/` included). Other
//! `package.json` files — the project's own, or the `{"type": "module"}` stubs packages keep in
//! subdirectories — are not packages of the image; neither is one without a name and a version.
//!
//! Lockfiles (`package-lock.json` and `npm-shrinkwrap.json`, `yarn.lock`, `pnpm-lock.yaml`) list
//! what a project resolved, installed or not: their parsers are in [`crate::npm_lock`],
//! [`crate::yarn_lock`] and [`crate::pnpm_lock`]. As Syft does, a lockfile anywhere under a
//! `node_modules` directory is a dependency's own (published by mistake, or npm's hidden
//! `node_modules/.package-lock.json`, which is named differently anyway) and is not read: what
//! was installed is already seen in the `package.json` files. Each lockfile reports a name and
//! version once, however many places in the tree it resolves to; that a lockfile and the
//! installed tree both report a package is for the assembly to reconcile.
//!
//! Only files of the layers count, not members of archives: a tarball of a project is not
//! installed.

use serde_json::Value;
use stowaway_findings::{Package, PackageType};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::{MAX_DATABASE_BYTES, npm_lock, pnpm_lock, yarn_lock};

pub struct Npm;

/// The kinds of file this cataloger reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    PackageJson,
    PackageLock,
    YarnLock,
    PnpmLock,
}

/// What kind of file `path` is, if it is one to read.
fn kind(path: &str) -> Option<Kind> {
    let (dir, file) = path.rsplit_once('/').unwrap_or(("", path));
    let in_node_modules = dir.split('/').any(|part| part == "node_modules");
    match file {
        "package.json" if is_package_dir(dir) => Some(Kind::PackageJson),
        _ if in_node_modules => None,
        "package-lock.json" | "npm-shrinkwrap.json" => Some(Kind::PackageLock),
        "yarn.lock" => Some(Kind::YarnLock),
        "pnpm-lock.yaml" => Some(Kind::PnpmLock),
        _ => None,
    }
}

/// Whether `dir` is `.../node_modules/<name>` or `.../node_modules/@scope/<name>`.
fn is_package_dir(dir: &str) -> bool {
    let mut parts = dir.rsplit('/');
    let valid = |name: &str| !name.is_empty() && !name.starts_with('.') && name != "node_modules";
    let (Some(name), Some(parent)) = (parts.next(), parts.next()) else {
        return false;
    };
    if !valid(name) {
        return false;
    }
    if parent == "node_modules" {
        return !name.starts_with('@');
    }
    parent.len() > 1
        && parent.starts_with('@')
        && valid(&parent[1..])
        && parts.next() == Some("node_modules")
}

impl Analyzer for Npm {
    fn id(&self) -> &'static str {
        "npm"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none() && file.size <= MAX_DATABASE_BYTES && kind(file.path).is_some()
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        if !complete {
            return;
        }
        let Some(kind) = kind(file.path) else {
            return;
        };
        let text = String::from_utf8_lossy(content);
        let packages = match kind {
            Kind::PackageJson => parse_package_json(&text).into_iter().collect(),
            Kind::PackageLock => npm_lock::parse(&text),
            Kind::YarnLock => yarn_lock::parse(&text),
            Kind::PnpmLock => pnpm_lock::parse(&text),
        };
        out.extend(packages.into_iter().map(Output::Package));
    }
}

/// The package an installed `package.json` describes, if it has a name and a version.
pub fn parse_package_json(text: &str) -> Option<Package> {
    let json: Value = serde_json::from_str(text).ok()?;
    let name = json
        .get("name")?
        .as_str()
        .filter(|n| !n.trim().is_empty())?;
    let version = json
        .get("version")?
        .as_str()
        .filter(|v| !v.trim().is_empty())?;
    let mut package = Package::new(PackageType::Npm, name.trim(), version.trim());
    package.licenses = licenses(json.get("license"));
    if package.licenses.is_empty() {
        package.licenses = licenses(json.get("licenses"));
    }
    Some(package)
}

/// Licenses as `package.json` and lockfiles declare them: an SPDX expression (the standard), a
/// `{"type": ...}` object or an array of either (deprecated, still common in old packages).
pub(crate) fn licenses(value: Option<&Value>) -> Vec<String> {
    let one = |value: &Value| match value {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Object(o) => o.get("type")?.as_str().map(|s| s.trim().to_string()),
        _ => None,
    };
    let all: Vec<String> = match value {
        Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
        Some(value) => one(value).into_iter().collect(),
        None => Vec::new(),
    };
    all.into_iter().filter(|l| !l.is_empty()).collect()
}

/// A lockfile's packages, each name and version once.
#[derive(Default)]
pub(crate) struct Resolved {
    seen: std::collections::HashSet<(String, String)>,
    packages: Vec<Package>,
}

impl Resolved {
    /// Adds a package unless its name or version is empty or it is already there.
    pub(crate) fn add(&mut self, name: &str, version: &str, licenses: Vec<String>) {
        let (name, version) = (name.trim(), version.trim());
        if name.is_empty() || version.is_empty() {
            return;
        }
        if self.seen.insert((name.to_string(), version.to_string())) {
            let mut package = Package::new(PackageType::Npm, name, version);
            package.licenses = licenses;
            self.packages.push(package);
        }
    }

    /// The packages, by name and version.
    pub(crate) fn into_packages(mut self) -> Vec<Package> {
        self.packages
            .sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        self.packages
    }
}

/// Splits `name@range` (`@scope/name@range` too) at the `@` that ends the name.
pub(crate) fn split_at_version(descriptor: &str) -> Option<(&str, &str)> {
    let first = descriptor.chars().next()?.len_utf8();
    let at = descriptor[first..].find('@')? + first;
    Some((&descriptor[..at], &descriptor[at + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(path: &str) -> FileMeta<'_> {
        FileMeta {
            path,
            member: None,
            size: 100,
            mode: 0o644,
            head: b"",
        }
    }

    #[test]
    fn wants_installed_package_json_and_project_lockfiles() {
        for path in [
            "app/node_modules/express/package.json",
            "app/node_modules/@types/node/package.json",
            "app/node_modules/a/node_modules/ms/package.json",
            "app/node_modules/.pnpm/ms@2.1.3/node_modules/ms/package.json",
            "usr/local/lib/node_modules/npm/package.json",
            "node_modules/ms/package.json",
            "app/package-lock.json",
            "package-lock.json",
            "app/npm-shrinkwrap.json",
            "app/yarn.lock",
            "app/pnpm-lock.yaml",
        ] {
            assert!(Npm.wants(&meta(path)), "{path}");
        }
        for path in [
            "app/package.json",
            "app/node_modules/express/lib/package.json",
            "app/node_modules/@types/package.json",
            "app/node_modules/.bin/package.json",
            "app/node_modules/@/x/package.json",
            "app/node_modules/express/package-lock.json",
            "app/node_modules/.package-lock.json",
            "app/node_modules/x/yarn.lock",
            "app/node_modules/x/sub/pnpm-lock.yaml",
            "app/package.json5",
        ] {
            assert!(!Npm.wants(&meta(path)), "{path}");
        }
        let mut member = meta("app.tar");
        member.member = Some("node_modules/ms/package.json");
        assert!(!Npm.wants(&member));
    }

    #[test]
    fn package_json_licenses_in_every_form() {
        let parse = |text: &str| parse_package_json(text).map(|p| (p.name, p.version, p.licenses));
        assert_eq!(
            parse(r#"{"name":"ms","version":"2.1.3","license":"MIT"}"#),
            Some(("ms".into(), "2.1.3".into(), vec!["MIT".into()]))
        );
        assert_eq!(
            parse(r#"{"name":"a","version":"1.0.0","license":{"type":"ISC","url":"x"}}"#)
                .map(|p| p.2),
            Some(vec!["ISC".into()])
        );
        assert_eq!(
            parse(r#"{"name":"a","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#)
                .map(|p| p.2),
            Some(vec!["MIT".into(), "Apache-2.0".into()])
        );
        assert_eq!(
            parse(r#"{"name":"a","version":"1.0.0","license":42,"licenses":"BSD"}"#).map(|p| p.2),
            Some(vec!["BSD".into()])
        );
        let scoped = parse_package_json(r#"{"name":"@types/node","version":"20.1.0"}"#).unwrap();
        assert_eq!(scoped.purl(None), "pkg:npm/%40types/node@20.1.0");
        assert_eq!(scoped.package_type, PackageType::Npm);
    }

    #[test]
    fn malformed_package_json_gives_nothing() {
        for text in [
            "",
            "{",
            "[]",
            "null",
            r#"{"name":"x"}"#,
            r#"{"version":"1.0.0"}"#,
            r#"{"name":"","version":"1.0.0"}"#,
            r#"{"name":"x","version":1}"#,
            r#"{"name":["x"],"version":"1"}"#,
            "\u{feff}garbage",
        ] {
            assert_eq!(parse_package_json(text), None, "{text}");
        }
    }

    #[test]
    fn descriptors_split_after_the_scope() {
        assert_eq!(split_at_version("ms@^2.1.3"), Some(("ms", "^2.1.3")));
        assert_eq!(
            split_at_version("@types/ms@npm:0.7.34"),
            Some(("@types/ms", "npm:0.7.34"))
        );
        assert_eq!(split_at_version("@types/ms"), None);
        assert_eq!(split_at_version(""), None);
        assert_eq!(split_at_version("é@1"), Some(("é", "1")));
    }

    #[test]
    fn lockfiles_are_parsed_whole_or_not_at_all() {
        let mut out = Vec::new();
        let lock = br#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/ms":{"version":"2.1.3"}}}"#;
        Npm.analyze(&meta("app/package-lock.json"), lock, false, &mut out);
        assert!(out.is_empty());
        Npm.analyze(&meta("app/package-lock.json"), lock, true, &mut out);
        assert_eq!(out.len(), 1);
    }
}
