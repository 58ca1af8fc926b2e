//! rpm: the package database of Red Hat, Fedora, CentOS, SUSE, ... images, in whichever of
//! rpm's three formats the image has (`rpmdb.sqlite`, Berkeley DB `Packages`, NDB
//! `Packages.db`), under `var/lib/rpm` or, on newer systems, `usr/lib/sysimage/rpm`. Reading
//! them is `stowaway-rpmdb`'s; this module turns its packages into SBOM packages.
//!
//! Each installed package becomes an [`Output::Package`] (version `[epoch:]version-release`, the
//! source rpm's file name as the source package, the LICENSE tag as its license) and an
//! [`Output::Owns`] with the files its header lists. `gpg-pubkey` entries are the keys rpm
//! trusts, stored as pseudo-packages, and are left out. A database that cannot be read, or a
//! header that does not parse, yields nothing for it (analyzers report what they found).

use stowaway_findings::{Package, PackageType, SourcePackage};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;

pub struct Rpm;

/// rpm databases are larger than other package databases: the real CentOS ones this module is
/// tested against hold 45 to 120 KB per package (Berkeley DB `Packages` of 5 to 31 MB), so a
/// server with a couple of thousand packages has one of 100 to 250 MB. Wanting it even when it
/// is above the walker's `--max-in-memory` makes the scan report it as only partly read.
const MAX_RPMDB_BYTES: u64 = 4 * MAX_DATABASE_BYTES;

const DATABASES: [&str; 6] = [
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "var/lib/rpm/Packages.db",
    "usr/lib/sysimage/rpm/rpmdb.sqlite",
    "usr/lib/sysimage/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
];

impl Analyzer for Rpm {
    fn id(&self) -> &'static str {
        "rpm"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none() && file.size <= MAX_RPMDB_BYTES && DATABASES.contains(&file.path)
    }

    fn analyze(&self, _file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        if !complete {
            return;
        }
        let Ok(database) = stowaway_rpmdb::read(content) else {
            return;
        };
        for package in database.packages {
            if package.name == "gpg-pubkey" {
                continue;
            }
            let files = package
                .files
                .iter()
                .filter_map(|path| path.strip_prefix('/'))
                .filter(|path| !path.is_empty())
                .map(str::to_string)
                .collect();
            out.push(Output::Owns {
                package_type: PackageType::Rpm,
                name: package.name.clone(),
                files,
            });
            out.push(Output::Package(sbom_package(package)));
        }
    }
}

fn sbom_package(package: stowaway_rpmdb::Package) -> Package {
    let mut sbom = Package::new(PackageType::Rpm, &package.name, package.evr());
    sbom.arch = package.arch;
    sbom.source = package.source_rpm.map(|name| SourcePackage {
        name,
        version: None,
    });
    sbom.licenses = package.license.into_iter().collect();
    sbom
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_only_the_databases() {
        let meta = |path, member, size| FileMeta {
            path,
            member,
            size,
            mode: 0o644,
            head: b"",
        };
        for path in DATABASES {
            assert!(Rpm.wants(&meta(path, None, 1 << 20)), "{path}");
        }
        assert!(!Rpm.wants(&meta("var/lib/rpm/Packages", Some("x"), 10)));
        assert!(Rpm.wants(&meta("var/lib/rpm/Packages", None, 200 << 20)));
        assert!(!Rpm.wants(&meta("var/lib/rpm/Packages", None, MAX_RPMDB_BYTES + 1)));
        assert!(!Rpm.wants(&meta("var/lib/rpm/Name", None, 10)));
        assert!(!Rpm.wants(&meta("var/lib/rpm/rpmdb.sqlite-wal", None, 10)));
        assert!(!Rpm.wants(&meta("home/user/var/lib/rpm/Packages", None, 10)));
    }

    #[test]
    fn sbom_fields() {
        let package = stowaway_rpmdb::Package {
            name: "bash".into(),
            epoch: Some(1),
            version: "5.1.8".into(),
            release: "6.el9".into(),
            arch: Some("x86_64".into()),
            source_rpm: Some("bash-5.1.8-6.el9.src.rpm".into()),
            license: Some("GPLv3+".into()),
            files: vec!["/usr/bin/bash".into()],
        };
        let sbom = sbom_package(package);
        assert_eq!(sbom.version, "1:5.1.8-6.el9");
        assert_eq!(sbom.arch.as_deref(), Some("x86_64"));
        assert_eq!(
            sbom.source,
            Some(SourcePackage {
                name: "bash-5.1.8-6.el9.src.rpm".into(),
                version: None
            })
        );
        assert_eq!(sbom.licenses, ["GPLv3+"]);
        assert_eq!(
            sbom.purl(None),
            "pkg:rpm/bash@5.1.8-6.el9?arch=x86_64&epoch=1&upstream=bash-5.1.8-6.el9.src.rpm"
        );
    }

    #[test]
    fn unreadable_databases_yield_nothing() {
        let mut out = Vec::new();
        let meta = FileMeta {
            path: "var/lib/rpm/Packages",
            member: None,
            size: 5,
            mode: 0o644,
            head: b"",
        };
        Rpm.analyze(&meta, b"junk!", true, &mut out);
        assert_eq!(out, []);
    }
}
