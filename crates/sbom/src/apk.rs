//! apk: Alpine's `/lib/apk/db/installed`, one paragraph per package with one-letter keys
//! (`P` name, `V` version, `A` architecture, `o` origin — the source package —, `L` license).

use stowaway_findings::{Package, PackageType, SourcePackage};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;
use crate::paragraphs::{self, field};

pub struct Apk;

const INSTALLED: &str = "lib/apk/db/installed";

impl Analyzer for Apk {
    fn id(&self) -> &'static str {
        "apk"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none() && file.size <= MAX_DATABASE_BYTES && file.path == INSTALLED
    }

    fn analyze(&self, _file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        if !complete {
            return;
        }
        out.extend(parse_installed(&String::from_utf8_lossy(content)).map(Output::Package));
    }
}

/// The packages of an apk installed database.
pub fn parse_installed(text: &str) -> impl Iterator<Item = Package> + '_ {
    paragraphs::parse(text).into_iter().filter_map(|paragraph| {
        let mut package = Package::new(
            PackageType::Apk,
            field(&paragraph, "P")?,
            field(&paragraph, "V")?,
        );
        package.arch = field(&paragraph, "A").map(str::to_string);
        package.source = field(&paragraph, "o").map(|origin| SourcePackage {
            name: origin.to_string(),
            version: None,
        });
        package.licenses = field(&paragraph, "L")
            .map(|license| vec![license.to_string()])
            .unwrap_or_default();
        Some(package)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpine_installed_database() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nI:622592\nT:the musl c library\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Timo Teräs\nt:1698929434\nc:c1a1\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox-binsh\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\no:busybox\n";
        let packages: Vec<Package> = parse_installed(text).collect();
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].name, "musl");
        assert_eq!(packages[0].version, "1.2.4-r2");
        assert_eq!(packages[0].licenses, ["MIT"]);
        assert_eq!(packages[1].source.as_ref().unwrap().name, "busybox");
    }
}
