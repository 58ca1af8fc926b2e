//! Go binaries: the build info the Go linker embeds in every executable (`go version -m`), read
//! by `stowaway-gobuildinfo`, becomes one package per module, as Syft's Go binary cataloger
//! reports them:
//!
//! - every dependency, under its replacement's path and version when it was replaced (a
//!   directory replacement is reported as the directory, with its version, usually `(devel)`);
//! - the main module (or, for a binary with a `path` but no `mod` line, that path as `(devel)`).
//!   A `(devel)` main module gets a better version where the build recorded one: a semantic
//!   version set by `-ldflags -X ...version=` / `...Tag=`, else the pseudo-version of the VCS
//!   revision and time (`v0.0.0-20240102150405-abcdef123456`); else it stays `(devel)`;
//! - the Go standard library as `stdlib`, version `go1.x.y` (the toolchain version without its
//!   `X:` experiments), when there was a module to report and the version is a release's.
//!
//! Every ELF, PE and Mach-O file is read, whatever its name, archive members included. Content
//! that is incomplete (beyond `--max-in-memory`) is searched as far as it goes: the build info
//! sits near the start of the data segment, so a very large binary may have it beyond.

use stowaway_findings::{Package, PackageType};
use stowaway_gobuildinfo::{BuildInfo, Module};
use stowaway_scan::{Analyzer, FileMeta, Output};

pub struct GoBinary;

const DEVEL: &str = "(devel)";

/// Whether the head is an executable's: ELF, PE (`MZ`), or Mach-O (32/64-bit, either order).
pub(crate) fn is_executable(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
        || head.starts_with(b"MZ")
        || [
            [0xfe, 0xed, 0xfa, 0xce],
            [0xfe, 0xed, 0xfa, 0xcf],
            [0xce, 0xfa, 0xed, 0xfe],
            [0xcf, 0xfa, 0xed, 0xfe],
        ]
        .iter()
        .any(|magic| head.starts_with(magic))
}

impl Analyzer for GoBinary {
    fn id(&self) -> &'static str {
        "go-binary"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.size > 0 && is_executable(file.head)
    }

    fn analyze(
        &self,
        _file: &FileMeta<'_>,
        content: &[u8],
        _complete: bool,
        out: &mut Vec<Output>,
    ) {
        if let Ok(info) = stowaway_gobuildinfo::read(content) {
            out.extend(packages(&info).into_iter().map(Output::Package));
        }
    }
}

/// The packages a Go binary's build info records.
pub fn packages(info: &BuildInfo) -> Vec<Package> {
    let mut packages: Vec<Package> = info
        .deps
        .iter()
        .map(effective)
        .filter(|module| !module.path.is_empty())
        .map(|module| Package::new(PackageType::Go, &module.path, &module.version))
        .collect();
    let main = match &info.main {
        Some(main) => Some(effective(main).clone()),
        None if !info.path.is_empty() => Some(Module {
            path: info.path.clone(),
            version: DEVEL.to_string(),
            ..Module::default()
        }),
        None => None,
    };
    if let Some(main) = main.filter(|main| !main.path.is_empty()) {
        let version = if main.version == DEVEL {
            main_version(info).unwrap_or(main.version)
        } else {
            main.version
        };
        packages.push(Package::new(PackageType::Go, main.path, version));
    }
    let toolchain = info.go_version.split(' ').next().unwrap_or_default();
    if !packages.is_empty() && is_release(toolchain) {
        packages.push(Package::new(PackageType::Go, "stdlib", toolchain));
    }
    packages
}

/// The module that was built: the replacement when there is one.
fn effective(module: &Module) -> &Module {
    module.replace.as_deref().unwrap_or(module)
}

/// `go1.21`, `go1.21.5`, `go1.22rc1`: `go` and a version that starts with a number.
fn is_release(version: &str) -> bool {
    version
        .strip_prefix("go")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
}

/// A version for a `(devel)` main module: from `-ldflags`, else from the VCS stamp.
fn main_version(info: &BuildInfo) -> Option<String> {
    if let Some(version) = info.setting("-ldflags").and_then(ldflags_version) {
        return Some(version);
    }
    let revision = info.setting("vcs.revision")?;
    let time = info.setting("vcs.time")?;
    let short = revision.get(..12).unwrap_or(revision);
    Some(format!("v0.0.0-{}-{short}", pseudo_time(time)))
}

/// An RFC 3339 UTC time (`2024-01-02T15:04:05Z`, as Go stamps `vcs.time`) as `20240102150405`;
/// the zero time's `00010101000000` when it is not one, as Go's pseudo-versions do.
fn pseudo_time(time: &str) -> String {
    let digits: String = time.chars().take(19).filter(char::is_ascii_digit).collect();
    let shape = time.len() >= 20
        && time.is_char_boundary(19)
        && time[..19].chars().enumerate().all(|(i, c)| match i {
            4 | 7 => c == '-',
            10 => c == 'T',
            13 | 16 => c == ':',
            _ => c.is_ascii_digit(),
        })
        && (time[19..] == *"Z" || time[19..].starts_with('.') && time.ends_with('Z'));
    if shape && digits.len() == 14 {
        digits
    } else {
        "00010101000000".to_string()
    }
}

/// A version set with `-X` on a variable named like a version (`main.version`,
/// `cmd.gitVersion`, `pkg.BuildVer`) or a tag (`main.Tag`), as Syft reads it: the first
/// `.[git][build]ver[sion]=` assignment whose value (after any `a/b/` prefix) starts with a
/// `v1.2.3`-like version, else the first `.tag=` one; always with a leading `v`.
fn ldflags_version(ldflags: &str) -> Option<String> {
    let version_names = |name: &str| {
        let name = name
            .strip_prefix("git")
            .or_else(|| name.strip_prefix("Git"))
            .unwrap_or(name);
        let name = name
            .strip_prefix("build")
            .or_else(|| name.strip_prefix("Build"))
            .unwrap_or(name);
        matches!(name, "ver" | "Ver" | "version" | "Version")
    };
    let tag_names = |name: &str| matches!(name, "tag" | "Tag");
    [&version_names as &dyn Fn(&str) -> bool, &tag_names]
        .into_iter()
        .find_map(|names| assignment_version(ldflags, names))
        .map(|version| {
            if version.starts_with('v') {
                version.to_string()
            } else {
                format!("v{version}")
            }
        })
}

/// The first `.NAME=VALUE` in `ldflags` with a name `names` accepts and a version in its value.
fn assignment_version<'a>(ldflags: &'a str, names: &dyn Fn(&str) -> bool) -> Option<&'a str> {
    ldflags.match_indices('.').find_map(|(dot, _)| {
        let rest = &ldflags[dot + 1..];
        let (name, value) = rest.split_once('=')?;
        if !names(name) {
            return None;
        }
        // The value up to the first blank; a version after its last `/` that has one, as the
        // regex's greedy `(\S+/)*` takes it.
        let value = &value[..value.find(char::is_whitespace).unwrap_or(value.len())];
        value
            .match_indices('/')
            .map(|(slash, _)| slash + 1)
            .rev()
            .chain(std::iter::once(0))
            .find_map(|start| version_prefix(&value[start..]))
    })
}

/// The `v?N.N.N[-\w]*` version at the start of `text` (any one character between the numbers,
/// as Syft's pattern has it).
fn version_prefix(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = usize::from(bytes.first() == Some(&b'v'));
    for part in 0..3 {
        if part > 0 {
            // Any one character (a `.` in practice); a multi-byte one is not worth a match.
            if !bytes.get(i).is_some_and(u8::is_ascii) {
                return None;
            }
            i += 1;
        }
        let digits = bytes[i.min(bytes.len())..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        i += digits;
    }
    i += bytes[i..]
        .iter()
        .take_while(|&&b| b == b'-' || b == b'_' || b.is_ascii_alphanumeric())
        .count();
    Some(&text[..i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use stowaway_gobuildinfo::BuildSetting;

    fn module(path: &str, version: &str) -> Module {
        Module {
            path: path.into(),
            version: version.into(),
            ..Module::default()
        }
    }

    fn listed(packages: &[Package]) -> Vec<String> {
        packages
            .iter()
            .map(|p| format!("{} {}", p.name, p.version))
            .collect()
    }

    fn with_settings(settings: &[(&str, &str)]) -> BuildInfo {
        BuildInfo {
            go_version: "go1.22.1 X:boringcrypto".into(),
            path: "example.com/app/cmd/app".into(),
            main: Some(module("example.com/app", DEVEL)),
            deps: Vec::new(),
            settings: settings
                .iter()
                .map(|(key, value)| BuildSetting {
                    key: key.to_string(),
                    value: value.to_string(),
                })
                .collect(),
        }
    }

    #[test]
    fn replacements_main_and_stdlib() {
        let mut replaced = module("example.com/orig", "v1.0.0");
        replaced.replace = Some(Box::new(module("example.com/fork", "v1.0.1")));
        let info = BuildInfo {
            deps: vec![module("golang.org/x/net", "v0.1.0"), replaced],
            ..with_settings(&[])
        };
        let packages = packages(&info);
        assert_eq!(
            listed(&packages),
            [
                "golang.org/x/net v0.1.0",
                "example.com/fork v1.0.1",
                "example.com/app (devel)",
                "stdlib go1.22.1",
            ]
        );
        assert!(packages.iter().all(|p| p.package_type == PackageType::Go));
    }

    #[test]
    fn no_modules_no_packages() {
        let info = BuildInfo {
            go_version: "go1.17".into(),
            ..BuildInfo::default()
        };
        assert!(packages(&info).is_empty());
        // A `path` without a `mod` line (a file built outside a module) is the main module.
        let info = BuildInfo {
            go_version: "devel go1.23-abc".into(),
            path: "command-line-arguments".into(),
            ..BuildInfo::default()
        };
        assert_eq!(listed(&packages(&info)), ["command-line-arguments (devel)"]);
    }

    #[test]
    fn devel_main_version_from_vcs() {
        let info = with_settings(&[
            ("vcs.revision", "0123456789abcdef0123456789abcdef01234567"),
            ("vcs.time", "2024-01-02T15:04:05Z"),
        ]);
        assert_eq!(
            packages(&info)[0].version,
            "v0.0.0-20240102150405-0123456789ab"
        );
        let info = with_settings(&[("vcs.revision", "abc"), ("vcs.time", "yesterday")]);
        assert_eq!(packages(&info)[0].version, "v0.0.0-00010101000000-abc");
        let info = with_settings(&[("vcs.revision", "abc")]);
        assert_eq!(packages(&info)[0].version, DEVEL);
    }

    #[test]
    fn devel_main_version_from_ldflags() {
        for (ldflags, version) in [
            ("-s -w -X main.version=1.4.2", Some("v1.4.2")),
            (
                "-X 'github.com/a/b/cmd.Version=v2.0.0-rc.1'",
                Some("v2.0.0-rc"),
            ),
            ("-X main.gitVersion=refs/tags/v3.1.4_x", Some("v3.1.4_x")),
            ("-X main.BuildVer=1.2.3 -X main.Tag=9.9.9", Some("v1.2.3")),
            ("-X main.Tag=0.5.0", Some("v0.5.0")),
            ("-X main.version=dev -X main.commit=1.2.3", None),
            ("-X main.versions=1.2.3", None),
        ] {
            assert_eq!(ldflags_version(ldflags).as_deref(), version, "{ldflags}");
        }
        let info = with_settings(&[
            ("-ldflags", "-X main.version=1.4.2"),
            ("vcs.revision", "0123456789abcdef"),
            ("vcs.time", "2024-01-02T15:04:05Z"),
        ]);
        assert_eq!(packages(&info)[0].version, "v1.4.2");
    }

    #[test]
    fn executables_by_magic() {
        assert!(is_executable(b"\x7fELF\x02\x01"));
        assert!(is_executable(b"MZ\x90\x00"));
        assert!(is_executable(&[0xcf, 0xfa, 0xed, 0xfe, 7]));
        assert!(!is_executable(b"#!/bin/sh"));
        assert!(!is_executable(b""));
    }
}
