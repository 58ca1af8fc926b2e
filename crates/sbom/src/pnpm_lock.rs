//! `pnpm-lock.yaml`: the `packages:` map, whose keys name each resolved package in a format
//! that changed with the lockfile version:
//!
//! | `lockfileVersion` | key                                             | peers suffix          |
//! |-------------------|-------------------------------------------------|-----------------------|
//! | 5.x (pnpm 5–7)    | `/name/1.2.3`, `/@scope/name/1.2.3`             | `_peer@1.0.0`         |
//! | 6.x (pnpm 8)      | `/name@1.2.3`, `/@scope/name@1.2.3`             | `(peer@1.0.0)`        |
//! | 9.x (pnpm 9, 10)  | `name@1.2.3`, `'@scope/name@1.2.3'`             | none (in `snapshots`) |
//!
//! An entry that carries `name` and `version` fields (a tarball or git dependency) is named by
//! them. Other keys whose version is not a version (`name@file:...`, `name@https://...`, the
//! host-path keys of git dependencies) are local or remote sources without a registry version
//! and are left out. The same package resolved with different peers is reported once.

use serde_yaml_ng::Value;
use stowaway_findings::Package;

use crate::npm::{Resolved, split_at_version};
use crate::yarn_lock::scalar;

/// The packages a `pnpm-lock.yaml` resolved; nothing when it is not one.
pub fn parse(text: &str) -> Vec<Package> {
    let Ok(lock) = serde_yaml_ng::from_str::<Value>(text) else {
        return Vec::new();
    };
    let Some(major) = lock
        .get("lockfileVersion")
        .and_then(scalar)
        .and_then(|v| v.split('.').next()?.trim().parse::<u32>().ok())
    else {
        return Vec::new();
    };
    let Some(Value::Mapping(packages)) = lock.get("packages") else {
        return Vec::new();
    };
    let mut resolved = Resolved::default();
    for (key, entry) in packages {
        let fields = (
            entry.get("name").and_then(scalar),
            entry.get("version").and_then(scalar),
        );
        if let (Some(name), Some(version)) = fields {
            resolved.add(&name, &version, Vec::new());
        } else if let Some((name, version)) = key.as_str().and_then(|k| parse_key(k, major)) {
            resolved.add(name, version, Vec::new());
        }
    }
    resolved.into_packages()
}

/// The name and version in a `packages:` key of a lockfile of version `major`.
fn parse_key(key: &str, major: u32) -> Option<(&str, &str)> {
    let key = key.split('(').next()?;
    let (name, version) = if major < 6 {
        let (name, version) = key.strip_prefix('/')?.rsplit_once('/')?;
        (name, version.split('_').next()?)
    } else {
        split_at_version(key.strip_prefix('/').unwrap_or(key))?
    };
    let is_version = version.starts_with(|c: char| c.is_ascii_digit());
    (is_version && !name.is_empty()).then_some((name, version))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text)
            .into_iter()
            .map(|p| (p.name, p.version))
            .collect()
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    const EXPECTED: &[(&str, &str)] = &[
        ("@types/ms", "0.7.34"),
        ("ajv", "6.12.6"),
        ("ajv-keywords", "3.5.2"),
        ("ms", "2.1.3"),
    ];

    #[test]
    fn version_5_keys() {
        let text = "lockfileVersion: 5.4\n\nspecifiers:\n  ms: 2.1.3\n\npackages:\n\n  /@types/ms/0.7.34:\n    resolution: {integrity: sha512-x}\n    dev: false\n\n  /ajv-keywords/3.5.2_ajv@6.12.6:\n    resolution: {integrity: sha512-y}\n    peerDependencies:\n      ajv: ^6.9.1\n\n  /ajv/6.12.6:\n    resolution: {integrity: sha512-z}\n\n  /ms/2.1.3:\n    resolution: {integrity: sha512-w}\n\n  github.com/user/repo/0123abc:\n    resolution: {tarball: https://codeload.github.com/user/repo/tar.gz/0123abc}\n";
        assert_eq!(pairs(text), owned(EXPECTED));
    }

    #[test]
    fn version_6_keys() {
        let text = "lockfileVersion: '6.0'\n\npackages:\n\n  /@types/ms@0.7.34:\n    resolution: {integrity: sha512-x}\n\n  /ajv-keywords@3.5.2(ajv@6.12.6):\n    resolution: {integrity: sha512-y}\n\n  /ajv-keywords@3.5.2(ajv@6.12.7):\n    resolution: {integrity: sha512-y}\n\n  /ajv@6.12.6:\n    resolution: {integrity: sha512-z}\n\n  /ms@2.1.3:\n    resolution: {integrity: sha512-w}\n\n  file:packages/local:\n    resolution: {directory: packages/local, type: directory}\n";
        assert_eq!(pairs(text), owned(EXPECTED));
    }

    #[test]
    fn version_9_keys_and_named_entries() {
        let text = "lockfileVersion: '9.0'\n\nimporters:\n  .:\n    dependencies:\n      ms:\n        specifier: 2.1.3\n        version: 2.1.3\n\npackages:\n\n  '@types/ms@0.7.34':\n    resolution: {integrity: sha512-x}\n\n  ajv-keywords@3.5.2:\n    resolution: {integrity: sha512-y}\n    peerDependencies:\n      ajv: ^6.9.1\n\n  ajv@6.12.6:\n    resolution: {integrity: sha512-z}\n\n  ms@2.1.3:\n    resolution: {integrity: sha512-w}\n\n  local@file:local.tgz:\n    resolution: {integrity: sha512-v, tarball: file:local.tgz}\n\n  tarred@https://example.org/tarred.tgz:\n    resolution: {tarball: https://example.org/tarred.tgz}\n    name: tarred\n    version: 1.0.0\n\nsnapshots:\n\n  ajv-keywords@3.5.2(ajv@6.12.6):\n    dependencies:\n      ajv: 6.12.6\n";
        let mut expected = owned(EXPECTED);
        expected.push(("tarred".into(), "1.0.0".into()));
        assert_eq!(pairs(text), expected);
    }

    #[test]
    fn malformed_pnpm_locks_give_nothing() {
        for text in [
            "",
            ":",
            "lockfileVersion: [\n",
            "packages:\n  /ms/2.1.3: {}\n",
            "lockfileVersion: x\npackages:\n  /ms/2.1.3: {}\n",
            "lockfileVersion: '9.0'\npackages: [a, b]\n",
            "lockfileVersion: '9.0'\npackages:\n  ms: {}\n  '@scope': {}\n  '@': {}\n  ? [a]\n  : {}\n",
            "lockfileVersion: 5.4\npackages:\n  ms/2.1.3: {}\n  /ms: {}\n  /ms/x: {}\n",
        ] {
            assert!(pairs(text).is_empty(), "{text:?}");
        }
    }
}
