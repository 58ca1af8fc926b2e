//! apk: Alpine's `/lib/apk/db/installed`, one paragraph per package with one-letter keys
//! (`P` name, `V` version, `A` architecture, `o` origin — the source package —, `L` license),
//! and the files each installed: `R` lines naming files of the directory the last `F` line named,
//! reported as [`Output::Owns`].

use stowaway_findings::{Package, PackageType, SourcePackage};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;
use crate::paragraphs::{self, Paragraph, field};

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
        let text = String::from_utf8_lossy(content);
        for paragraph in paragraphs::parse(&text) {
            let Some(package) = package(&paragraph) else {
                continue;
            };
            out.push(Output::Owns {
                package_type: PackageType::Apk,
                name: package.name.clone(),
                files: owned_files(&paragraph),
            });
            out.push(Output::Package(package));
        }
    }
}

/// The files of one package: each `R:` file in the directory of the `F:` line before it.
fn owned_files(paragraph: &Paragraph) -> Vec<String> {
    let mut dir = "";
    let mut files = Vec::new();
    for (key, value) in paragraph {
        match *key {
            "F" => dir = value.as_str(),
            "R" if dir.is_empty() => files.push(value.clone()),
            "R" => files.push(format!("{dir}/{value}")),
            _ => {}
        }
    }
    files
}

/// One package of an apk installed database.
fn package(paragraph: &Paragraph) -> Option<Package> {
    let mut package = Package::new(
        PackageType::Apk,
        field(paragraph, "P")?,
        field(paragraph, "V")?,
    );
    package.arch = field(paragraph, "A").map(str::to_string);
    package.source = field(paragraph, "o").map(|origin| SourcePackage {
        name: origin.to_string(),
        version: None,
    });
    package.licenses = field(paragraph, "L")
        .map(|license| vec![license.to_string()])
        .unwrap_or_default();
    Some(package)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpine_installed_database() {
        let text = "C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nI:622592\nT:the musl c library\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Timo Teräs\nt:1698929434\nc:c1a1\nF:lib\nR:ld-musl-x86_64.so.1\n\nP:busybox-binsh\nV:1.36.1-r5\nA:x86_64\nL:GPL-2.0-only\no:busybox\n";
        let packages: Vec<Package> = paragraphs::parse(text).iter().filter_map(package).collect();
        assert_eq!(packages.len(), 2);
        assert_eq!(packages[0].name, "musl");
        assert_eq!(packages[0].version, "1.2.4-r2");
        assert_eq!(packages[0].licenses, ["MIT"]);
        assert_eq!(packages[1].source.as_ref().unwrap().name, "busybox");
    }

    #[test]
    fn files_of_each_package() {
        let text = "P:py3-six\nV:1.16.0-r9\nF:usr\nF:usr/lib/python3.12/site-packages/six-1.16.0.dist-info\nR:METADATA\nR:RECORD\nF:usr/lib/python3.12/site-packages\nR:six.py\n";
        let paragraph = &paragraphs::parse(text)[0];
        assert_eq!(
            owned_files(paragraph),
            [
                "usr/lib/python3.12/site-packages/six-1.16.0.dist-info/METADATA",
                "usr/lib/python3.12/site-packages/six-1.16.0.dist-info/RECORD",
                "usr/lib/python3.12/site-packages/six.py",
            ]
        );
    }
}
