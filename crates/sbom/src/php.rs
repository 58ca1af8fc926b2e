//! PHP packages (Composer): `vendor/composer/installed.json`, which Composer writes for what it
//! installed into `vendor/` (Composer 1: an array of packages; Composer 2: `{"packages": […]}`),
//! and `composer.lock` (`packages` and `packages-dev`).
//!
//! Each package is its `name` (`vendor/name`), its `version` as Composer wrote it (`v6.3.0`,
//! `2.1.x-dev`) and its `license` array. Development packages count as well: they are in the
//! image, and a lock file does not say whether `--no-dev` was used. Entries without a name or a
//! version are skipped; a file that is not JSON gives nothing.
//!
//! Only files in the image itself count, not members of archives (a package's dist zip in
//! Composer's cache carries the package's own development `composer.lock`).

use serde_json::Value;
use stowaway_findings::{Package, PackageType};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;

pub struct Php;

const INSTALLED: &str = "vendor/composer/installed.json";

fn is_wanted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name == "composer.lock"
        || path == INSTALLED
        || path
            .strip_suffix(INSTALLED)
            .is_some_and(|dir| dir.ends_with('/'))
}

impl Analyzer for Php {
    fn id(&self) -> &'static str {
        "php"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none() && file.size <= MAX_DATABASE_BYTES && is_wanted(file.path)
    }

    fn analyze(&self, _file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        if !complete {
            return;
        }
        out.extend(parse(content).into_iter().map(Output::Package));
    }
}

/// The packages of an `installed.json` (either Composer version) or a `composer.lock`.
pub fn parse(content: &[u8]) -> Vec<Package> {
    let Ok(document) = serde_json::from_slice::<Value>(content) else {
        return Vec::new();
    };
    let lists: Vec<&Value> = match &document {
        Value::Array(_) => vec![&document],
        Value::Object(object) => ["packages", "packages-dev"]
            .iter()
            .filter_map(|key| object.get(*key))
            .collect(),
        _ => Vec::new(),
    };
    lists
        .into_iter()
        .filter_map(Value::as_array)
        .flatten()
        .filter_map(package)
        .collect()
}

fn package(entry: &Value) -> Option<Package> {
    let text = |key: &str| {
        entry
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let mut package = Package::new(PackageType::Composer, text("name")?, text("version")?);
    package.licenses = match entry.get("license") {
        Some(Value::Array(licenses)) => licenses
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(license)) => vec![license.clone()],
        _ => Vec::new(),
    };
    Some(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(packages: &[Package]) -> Vec<(&str, &str)> {
        packages
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect()
    }

    #[test]
    fn wanted_paths() {
        assert!(is_wanted("var/www/vendor/composer/installed.json"));
        assert!(is_wanted("vendor/composer/installed.json"));
        assert!(is_wanted("app/composer.lock"));
        assert!(!is_wanted("app/myvendor/composer/installed.json"));
        assert!(!is_wanted("app/composer.json"));
    }

    #[test]
    fn composer_1_array_and_string_license() {
        let packages = parse(
            br#"[{"name":"monolog/monolog","version":"1.27.1","license":"MIT"},{"name":"x/y"}]"#,
        );
        assert_eq!(names(&packages), [("monolog/monolog", "1.27.1")]);
        assert_eq!(packages[0].licenses, ["MIT"]);
    }

    #[test]
    fn malformed_documents() {
        for text in [
            &b""[..],
            b"{",
            b"null",
            b"\"packages\"",
            br#"{"packages": {"name": "a/b"}}"#,
            br#"{"packages": [1, null, {"name": 2, "version": "1"}, {"name": "a/b", "version": ""}]}"#,
            b"\xff\xfe",
        ] {
            assert!(parse(text).is_empty(), "{:?}", String::from_utf8_lossy(text));
        }
        let odd =
            parse(br#"{"packages": [{"name": "a/b", "version": "1", "license": [1, "MIT"]}]}"#);
        assert_eq!(odd[0].licenses, ["MIT"]);
    }
}
