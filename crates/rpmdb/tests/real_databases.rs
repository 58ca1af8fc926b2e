//! The reader against databases the real tools wrote, with `rpm -qa` as the oracle:
//!
//! - sqlite: written by rpm 4.18 (`rpm -i --justdb`) for three packages built by `rpmbuild`;
//! - Berkeley DB hash: written by libdb 5.3 (`db5.3_load`) from those packages' header blobs, in
//!   both byte orders and two page sizes, and read back by rpm's own `bdb_ro` backend too;
//! - Berkeley DB hash from real systems: the `Packages` of CentOS 5 to 8 images that the
//!   go-rpmdb project keeps as test data (Debian ships them in golang-github-knqyf263-go-rpmdb-dev;
//!   `scripts/with-test-deps` unpacks them into `$STOWAWAY_RPMDB_TESTDATA`);
//! - NDB: no tool on Debian writes it (Debian's rpm has no NDB backend), so an NDB file is
//!   laid out here by hand as rpm's `rpmpkg.c` writes it, around the real header blobs.

mod common;

use std::path::PathBuf;

use common::{Queried, build_and_install, db_load, have, machine_arch, queried, rpm_query_all};
use stowaway_rpmdb::{Format, Package, read};

fn parsed(db: &[u8]) -> Vec<Queried> {
    let packages = read(db).unwrap();
    assert_eq!(packages.errors, []);
    packages.packages.iter().map(queried).collect()
}

fn sorted(mut packages: Vec<Queried>) -> Vec<Queried> {
    packages.sort();
    packages
}

/// The three test packages, by name.
fn expected() -> Vec<Package> {
    let mut data_files = vec!["/usr/share/stowaway-tool".to_string()];
    for d in 1..=20 {
        data_files.push(format!("/usr/share/stowaway-tool/dir{d}"));
        for f in 1..=10 {
            data_files.push(format!("/usr/share/stowaway-tool/dir{d}/file{f}.txt"));
        }
    }
    // rpm sorts each package's file list by path.
    data_files.sort();
    vec![
        Package {
            name: "stowaway-hello".into(),
            epoch: Some(3),
            version: "1.2.3".into(),
            release: "4.test".into(),
            arch: Some("noarch".into()),
            source_rpm: Some("stowaway-hello-1.2.3-4.test.src.rpm".into()),
            license: Some("MIT AND (Apache-2.0 OR BSD-3-Clause)".into()),
            files: vec![
                "/etc/stowaway-hello.conf".into(),
                "/usr/lib/python3.11/site-packages/stowaway_hello-1.2.3.dist-info/METADATA".into(),
                "/usr/share/stowaway-hello".into(),
                "/usr/share/stowaway-hello/greeting.txt".into(),
            ],
        },
        Package {
            name: "stowaway-tool".into(),
            epoch: None,
            version: "0.9".into(),
            release: "1".into(),
            arch: Some(machine_arch().into()),
            source_rpm: Some("stowaway-tool-0.9-1.src.rpm".into()),
            license: Some("GPL-2.0-or-later".into()),
            files: vec!["/usr/bin/stowaway-tool".into()],
        },
        Package {
            name: "stowaway-tool-data".into(),
            epoch: None,
            version: "0.9".into(),
            release: "1".into(),
            arch: Some("noarch".into()),
            source_rpm: Some("stowaway-tool-0.9-1.src.rpm".into()),
            license: Some("CC0-1.0".into()),
            files: data_files,
        },
    ]
}

fn by_name(mut packages: Vec<Package>) -> Vec<Package> {
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    packages
}

#[test]
fn sqlite_database_written_by_rpm() {
    if !have("sqlite_database_written_by_rpm", &["rpmbuild", "rpm"]) {
        return;
    }
    let installed = build_and_install();
    let db = std::fs::read(installed.sqlite()).unwrap();
    assert_eq!(Format::detect(&db), Some(Format::Sqlite));
    let packages = read(&db).unwrap();
    assert_eq!(packages.errors, []);
    assert_eq!(by_name(packages.packages.clone()), expected());
    assert_eq!(packages.packages[0].evr(), "0.9-1");
    let hello = packages
        .packages
        .iter()
        .find(|p| p.name == "stowaway-hello");
    assert_eq!(hello.map(Package::evr).as_deref(), Some("3:1.2.3-4.test"));
    // Same packages, same order (instance order), same files as rpm itself lists.
    assert_eq!(
        parsed(&db),
        rpm_query_all(&installed.dbpath, "sqlite"),
        "rpm -qa disagrees"
    );
}

#[test]
fn berkeley_db_written_by_libdb() {
    if !have(
        "berkeley_db_written_by_libdb",
        &["rpmbuild", "rpm", "db5.3_load"],
    ) {
        return;
    }
    let installed = build_and_install();
    let blobs = common::sqlite_blobs(&installed.sqlite());
    assert_eq!(blobs.len(), 3);
    for (page_size, little_endian) in [(512, true), (4096, true), (512, false), (8192, false)] {
        let what = format!("{page_size}-byte pages, little endian {little_endian}");
        let dbpath = installed
            .dir
            .path()
            .join(format!("bdb-{page_size}-{little_endian}"));
        let packages = db_load(&blobs, &dbpath, page_size, little_endian);
        let db = std::fs::read(&packages).unwrap();
        assert_eq!(Format::detect(&db), Some(Format::BerkeleyDb), "{what}");
        let read = read(&db).unwrap();
        assert_eq!(read.errors, [], "{what}");
        assert_eq!(by_name(read.packages), expected(), "{what}");
        // rpm's read-only BDB backend agrees on the file libdb wrote.
        assert_eq!(
            sorted(parsed(&db)),
            sorted(rpm_query_all(&dbpath, "bdb_ro")),
            "{what}: rpm -qa disagrees"
        );
    }
}

#[test]
fn checksummed_berkeley_db_is_refused_by_name() {
    if !have(
        "checksummed_berkeley_db_is_refused_by_name",
        &["rpmbuild", "rpm", "db5.3_load"],
    ) {
        return;
    }
    let installed = build_and_install();
    let blobs = common::sqlite_blobs(&installed.sqlite());
    let dbpath = installed.dir.path().join("bdb-chksum");
    let packages = common::db_load_with(&blobs, &dbpath, 512, true, "chksum=1\n");
    let error = read(&std::fs::read(packages).unwrap()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "Berkeley DB: the database has page checksums, which rpm never writes"
    );
}

/// The directory of go-rpmdb's CentOS databases, or `None` (and why) when it is not there.
fn centos_testdata() -> Option<PathBuf> {
    let dir = std::env::var_os("STOWAWAY_RPMDB_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from("/usr/share/gocode/src/github.com/knqyf263/go-rpmdb/pkg/testdata")
        });
    if dir.join("centos7-plain/Packages").is_file() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED real_centos_databases: no CentOS rpm databases in {} (set STOWAWAY_RPMDB_TESTDATA; scripts/with-test-deps unpacks them from golang-github-knqyf263-go-rpmdb-dev)",
            dir.display()
        );
        None
    }
}

#[test]
fn real_centos_databases() {
    if !have("real_centos_databases", &["rpm"]) {
        return;
    }
    let Some(testdata) = centos_testdata() else {
        return;
    };
    let mut names: Vec<String> = std::fs::read_dir(&testdata)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| testdata.join(name).join("Packages").is_file())
        .collect();
    names.sort();
    assert!(names.len() >= 10, "{names:?}");
    let mut total = 0;
    for name in &names {
        let dbpath = testdata.join(name);
        let db = std::fs::read(dbpath.join("Packages")).unwrap();
        let ours = sorted(parsed(&db));
        let theirs = sorted(rpm_query_all(&dbpath, "bdb_ro"));
        assert_eq!(ours.len(), theirs.len(), "{name}: package count");
        for (ours, theirs) in ours.iter().zip(&theirs) {
            assert_eq!(ours, theirs, "{name}");
        }
        total += ours.len();
    }
    // Spot checks, as `rpm -qa --dbpath <dir> --define '_db_backend bdb_ro'` prints them.
    let load = |name: &str| read(&std::fs::read(testdata.join(name).join("Packages")).unwrap());
    let centos7 = load("centos7-plain").unwrap();
    let bash = centos7.packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(
        (bash.evr(), bash.arch.as_deref(), bash.source_rpm.as_deref()),
        (
            "4.2.46-30.el7".to_string(),
            Some("x86_64"),
            Some("bash-4.2.46-30.el7.src.rpm")
        )
    );
    assert_eq!(bash.license.as_deref(), Some("GPLv3+"));
    assert_eq!(
        bash.files.first().map(String::as_str),
        Some("/etc/skel/.bash_logout")
    );
    assert!(bash.files.iter().any(|f| f == "/usr/bin/bash"));
    let centos8 = load("centos8-modularitylabel").unwrap();
    let find = |name: &str| centos8.packages.iter().find(|p| p.name == name).unwrap();
    let cups = find("cups-libs");
    assert_eq!(
        (
            cups.evr(),
            cups.source_rpm.as_deref(),
            cups.license.as_deref()
        ),
        (
            "1:2.2.6-33.el8".to_string(),
            Some("cups-2.2.6-33.el8.src.rpm"),
            Some("LGPLv2 and zlib")
        )
    );
    let key = find("gpg-pubkey");
    assert_eq!(
        (
            key.evr(),
            key.arch.as_deref(),
            key.source_rpm.as_deref(),
            key.files.len()
        ),
        // rpm writes a literal "(none)" as a public key's source rpm.
        ("8483c65d-5ccc5b19".to_string(), None, Some("(none)"), 0)
    );
    // CentOS 5's rpm 4.4 wrote the same format.
    let centos5 = load("centos5-plain").unwrap();
    let bash = centos5.packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.evr(), "3.2-33.el5_11.4");
    assert_eq!(bash.files.first().map(String::as_str), Some("/bin/bash"));
    assert!(total > 2500, "{total} packages in all");
}

#[test]
fn ndb_laid_out_as_rpmpkg_writes_it() {
    if !have("ndb_laid_out_as_rpmpkg_writes_it", &["rpmbuild", "rpm"]) {
        return;
    }
    let installed = build_and_install();
    let blobs = common::sqlite_blobs(&installed.sqlite());
    let db = common::ndb::write(&blobs);
    assert_eq!(Format::detect(&db), Some(Format::Ndb));
    let read = read(&db).unwrap();
    assert_eq!(read.errors, []);
    assert_eq!(by_name(read.packages), expected());
}
