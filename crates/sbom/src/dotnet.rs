//! .NET packages (NuGet): the `<app>.deps.json` that `dotnet build` and `dotnet publish` write
//! beside an application, listing every library it was built against.
//!
//! Its `libraries` object maps `Name/Version` to a record whose `type` says what it is:
//! `package` for a NuGet package, which is what is catalogued; `project` (the application and
//! the projects it references) and `reference`, `runtimepack` and the like are not NuGet
//! packages and are left out. Names keep the case the file gives (NuGet ids are
//! case-insensitive). A file that is not JSON gives nothing.
//!
//! Only files in the image itself count, not members of archives.

use serde_json::Value;
use stowaway_findings::{Package, PackageType};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;

pub struct Dotnet;

fn is_wanted(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.len() > ".deps.json".len() && name.ends_with(".deps.json")
}

impl Analyzer for Dotnet {
    fn id(&self) -> &'static str {
        "dotnet"
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
        out.extend(parse_deps(content).into_iter().map(Output::Package));
    }
}

/// The NuGet packages of a `.deps.json`.
pub fn parse_deps(content: &[u8]) -> Vec<Package> {
    let Ok(document) = serde_json::from_slice::<Value>(content) else {
        return Vec::new();
    };
    let Some(libraries) = document.get("libraries").and_then(Value::as_object) else {
        return Vec::new();
    };
    libraries
        .iter()
        .filter(|(_, library)| library.get("type").and_then(Value::as_str) == Some("package"))
        .filter_map(|(key, _)| {
            let (name, version) = key.split_once('/')?;
            (!name.is_empty() && !version.is_empty())
                .then(|| Package::new(PackageType::Nuget, name, version))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_paths() {
        assert!(is_wanted("app/MyApp.deps.json"));
        assert!(!is_wanted("app/.deps.json"));
        assert!(!is_wanted("app/MyApp.runtimeconfig.json"));
    }

    #[test]
    fn malformed_documents() {
        for text in [
            &b""[..],
            b"[",
            b"[]",
            br#"{"libraries": []}"#,
            br#"{"libraries": {"NoVersion": {"type": "package"}, "/1.0": {"type": "package"}, "A/": {"type": "package"}, "B/1.0": {"type": 1}, "C/1.0": null}}"#,
        ] {
            assert!(parse_deps(text).is_empty(), "{:?}", String::from_utf8_lossy(text));
        }
    }
}
