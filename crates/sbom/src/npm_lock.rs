//! npm's `package-lock.json` (and `npm-shrinkwrap.json`, the same format).
//!
//! - Versions 2 and 3 (npm 7 and later) have a `packages` map keyed by install path:
//!   `node_modules/a`, `node_modules/a/node_modules/b`, `packages/ws/node_modules/c` for a
//!   workspace's own dependencies. The `""` entry is the project itself and keys without a
//!   `node_modules/` are workspace members: neither is a dependency. `link: true` entries point at
//!   such a member. An aliased dependency (`"x": "npm:real@1"`) has the real name in `name`.
//!   Version 2 also carries the version 1 tree for old npm: when `packages` is there, it alone is
//!   read, so nothing is reported twice.
//! - Version 1 (npm 5 and 6) has a nested `dependencies` tree; an alias's version reads
//!   `npm:real@1.2.3`.

use serde_json::{Map, Value};
use stowaway_findings::Package;

use crate::npm::{Resolved, licenses, split_at_version};

/// The packages a `package-lock.json` resolved; nothing when it is not one.
pub fn parse(text: &str) -> Vec<Package> {
    let Ok(Value::Object(lock)) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let mut resolved = Resolved::default();
    if let Some(Value::Object(packages)) = lock.get("packages") {
        for (path, entry) in packages {
            let Some((_, name_in_path)) = path.rsplit_once("node_modules/") else {
                continue;
            };
            if entry.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(name_in_path);
            if let Some(version) = entry.get("version").and_then(Value::as_str) {
                resolved.add(name, version, licenses(entry.get("license")));
            }
        }
    } else if let Some(Value::Object(dependencies)) = lock.get("dependencies") {
        add_tree(dependencies, &mut resolved);
    }
    resolved.into_packages()
}

/// Adds a version 1 `dependencies` tree (its depth is bounded by the JSON parser's).
fn add_tree(dependencies: &Map<String, Value>, resolved: &mut Resolved) {
    for (name, entry) in dependencies {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            match version.strip_prefix("npm:").and_then(split_at_version) {
                Some((real, version)) => resolved.add(real, version, Vec::new()),
                None => resolved.add(name, version, Vec::new()),
            }
        }
        if let Some(Value::Object(nested)) = entry.get("dependencies") {
            add_tree(nested, resolved);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(text: &str) -> Vec<(String, String, Vec<String>)> {
        parse(text)
            .into_iter()
            .map(|p| (p.name, p.version, p.licenses))
            .collect()
    }

    fn pair(name: &str, version: &str) -> (String, String, Vec<String>) {
        (name.into(), version.into(), Vec::new())
    }

    #[test]
    fn version_3_packages_map() {
        let text = r#"{
  "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true,
  "packages": {
    "": {"name": "app", "version": "1.0.0", "dependencies": {"debug": "2.6.9"}},
    "node_modules/debug": {"version": "2.6.9", "license": "MIT"},
    "node_modules/debug/node_modules/ms": {"version": "2.0.0", "license": "MIT"},
    "node_modules/send/node_modules/ms": {"version": "2.0.0", "license": "MIT"},
    "node_modules/ms": {"version": "2.1.3", "dev": true},
    "node_modules/@types/node": {"version": "20.1.0"},
    "node_modules/strip-ansi-cjs": {"name": "strip-ansi", "version": "6.0.1"},
    "node_modules/ws-member": {"resolved": "packages/ws-member", "link": true},
    "packages/ws-member": {"name": "ws-member", "version": "0.1.0"},
    "packages/ws-member/node_modules/left-pad": {"version": "1.3.0"},
    "node_modules/no-version": {}
  }
}"#;
        assert_eq!(
            summary(text),
            [
                pair("@types/node", "20.1.0"),
                ("debug".into(), "2.6.9".into(), vec!["MIT".into()]),
                pair("left-pad", "1.3.0"),
                ("ms".into(), "2.0.0".into(), vec!["MIT".into()]),
                pair("ms", "2.1.3"),
                pair("strip-ansi", "6.0.1"),
            ]
        );
    }

    #[test]
    fn version_2_reads_packages_not_also_dependencies() {
        let text = r#"{"lockfileVersion": 2,
  "packages": {"": {"name": "app"}, "node_modules/ms": {"version": "2.1.3"}},
  "dependencies": {"ms": {"version": "2.1.3"}, "only-in-v1-tree": {"version": "1.0.0"}}}"#;
        assert_eq!(summary(text), [pair("ms", "2.1.3")]);
    }

    #[test]
    fn version_1_nested_tree_and_aliases() {
        let text = r#"{"name": "app", "lockfileVersion": 1, "dependencies": {
  "debug": {"version": "2.6.9", "requires": {"ms": "2.0.0"},
            "dependencies": {"ms": {"version": "2.0.0"}}},
  "ms": {"version": "2.1.3", "dev": true},
  "string-width-cjs": {"version": "npm:string-width@4.2.3"},
  "weird": {"version": 7},
  "@babel/core": {"version": "7.0.0", "dependencies": {"debug": {"version": "2.6.9"}}}
}}"#;
        assert_eq!(
            summary(text),
            [
                pair("@babel/core", "7.0.0"),
                pair("debug", "2.6.9"),
                pair("ms", "2.0.0"),
                pair("ms", "2.1.3"),
                pair("string-width", "4.2.3"),
            ]
        );
    }

    #[test]
    fn malformed_lockfiles_give_nothing_or_what_is_well_formed() {
        for text in [
            "",
            "{",
            "[1,2]",
            r#"{"packages": []}"#,
            r#"{"packages": {"node_modules/x": "1.0.0"}}"#,
            r#"{"dependencies": {"x": []}}"#,
            r#"{"packages": {"node_modules/": {"version": "1.0.0"}}}"#,
            r#"{"packages": {"node_modules/x": {"version": ""}}}"#,
        ] {
            assert!(parse(text).is_empty(), "{text}");
        }
        let deep = format!(
            "{}{}",
            "{\"dependencies\":{\"a\":".repeat(200),
            "}}".repeat(200)
        );
        assert!(parse(&deep).is_empty());
    }
}
