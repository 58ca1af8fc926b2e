//! Real rpm databases for the tests, made by the real tools: packages built by `rpmbuild` from
//! two small specs, installed by `rpm` into a fresh sqlite database (`--justdb`), and Berkeley DB
//! hash files written by libdb's `db5.3_load` with those packages' header blobs. `rpm -qa`
//! itself is the oracle for what a database holds.
//!
//! A test that needs a missing tool prints why and passes without checking anything; the
//! repository's `scripts/with-test-deps` installs the tools (`rpm`, `db5.3-util`) so that CI runs them all.

#![allow(dead_code)] // each test binary uses a different subset

pub mod ndb;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

/// Whether every tool is on the PATH; prints what is missing (and that the test is skipped).
pub fn have(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|tool| Command::new(tool).arg("--version").output().is_err())
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "SKIPPED {test}: {} not installed (Debian: apt-get install rpm db5.3-util; scripts/with-test-deps installs them)",
            missing.join(", ")
        );
    }
    missing.is_empty()
}

fn run(command: &mut Command) -> Vec<u8> {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// `stowaway-hello`: an Epoch, a compound license, a directory it owns, a config file, and the
/// metadata of a Python distribution (whose owner the SBOM should say it is).
const HELLO_SPEC: &str = r#"Name: stowaway-hello
Epoch: 3
Version: 1.2.3
Release: 4.test
Summary: Stowaway test package with an epoch
License: MIT AND (Apache-2.0 OR BSD-3-Clause)
BuildArch: noarch
%description
A test package.
%install
mkdir -p %{buildroot}/usr/share/stowaway-hello %{buildroot}/etc
echo hello > %{buildroot}/usr/share/stowaway-hello/greeting.txt
echo conf > %{buildroot}/etc/stowaway-hello.conf
mkdir -p %{buildroot}/usr/lib/python3.11/site-packages/stowaway_hello-1.2.3.dist-info
printf 'Metadata-Version: 2.1\nName: stowaway-hello\nVersion: 1.2.3\n' > %{buildroot}/usr/lib/python3.11/site-packages/stowaway_hello-1.2.3.dist-info/METADATA
%files
/usr/share/stowaway-hello
%config /etc/stowaway-hello.conf
/usr/lib/python3.11/site-packages/stowaway_hello-1.2.3.dist-info/METADATA
"#;

/// `stowaway-tool` (the build machine's arch) and its subpackage `stowaway-tool-data`
/// (noarch, 20 directories of 10 files: a header of some 30 KB, many overflow pages).
const TOOL_SPEC: &str = r#"Name: stowaway-tool
Version: 0.9
Release: 1
Summary: Stowaway test package with a subpackage
License: GPL-2.0-or-later
%description
A test tool.
%package -n stowaway-tool-data
Summary: Data of the test tool
License: CC0-1.0
BuildArch: noarch
%description -n stowaway-tool-data
Its data.
%install
mkdir -p %{buildroot}/usr/bin
printf '#!/bin/sh\necho tool\n' > %{buildroot}/usr/bin/stowaway-tool
chmod 755 %{buildroot}/usr/bin/stowaway-tool
for d in $(seq 1 20); do
  mkdir -p %{buildroot}/usr/share/stowaway-tool/dir$d
  for f in $(seq 1 10); do echo $d $f > %{buildroot}/usr/share/stowaway-tool/dir$d/file$f.txt; done
done
%files
/usr/bin/stowaway-tool
%files -n stowaway-tool-data
/usr/share/stowaway-tool
"#;

/// The rpm arch of this machine's packages (`uname -m` for the usual ones).
pub fn machine_arch() -> &'static str {
    std::env::consts::ARCH
}

/// The three test packages, built, and a sqlite database they are installed in.
pub struct Installed {
    pub dir: TempDir,
    pub rpms: Vec<PathBuf>,
    /// The `--dbpath` directory, holding `rpmdb.sqlite`.
    pub dbpath: PathBuf,
}

impl Installed {
    pub fn sqlite(&self) -> PathBuf {
        self.dbpath.join("rpmdb.sqlite")
    }
}

/// Builds the test packages with `rpmbuild` and installs them with `rpm --justdb` into a new
/// sqlite database.
pub fn build_and_install() -> Installed {
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("rpmbuild");
    for (name, spec) in [("hello.spec", HELLO_SPEC), ("tool.spec", TOOL_SPEC)] {
        let path = dir.path().join(name);
        std::fs::write(&path, spec).unwrap();
        run(Command::new("rpmbuild")
            .arg("-bb")
            .arg("--quiet")
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg("--define")
            .arg(format!("_tmppath {}", dir.path().join("tmp").display()))
            .arg("--define")
            .arg("_build_id_links none")
            .arg(&path));
    }
    let mut rpms: Vec<PathBuf> = walk(&top.join("RPMS"))
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rpm"))
        .collect();
    rpms.sort();
    assert_eq!(rpms.len(), 3, "{rpms:?}");
    let dbpath = dir.path().join("db");
    std::fs::create_dir(&dbpath).unwrap();
    run(rpm(&dbpath, "sqlite").arg("--initdb"));
    run(rpm(&dbpath, "sqlite")
        .args(["-i", "--justdb", "--nodeps", "--ignorearch"])
        .args(&rpms));
    Installed { dir, rpms, dbpath }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

fn rpm(dbpath: &Path, backend: &str) -> Command {
    let mut command = Command::new("rpm");
    command
        .arg("--dbpath")
        .arg(dbpath)
        .arg("--define")
        .arg(format!("_db_backend {backend}"));
    command
}

/// A package as `rpm -q --queryformat` prints it: `(none)` for what is absent.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Queried {
    pub name: String,
    pub epoch: String,
    pub version: String,
    pub release: String,
    pub arch: String,
    pub source_rpm: String,
    pub license: String,
    pub files: Vec<String>,
}

const QUERY_FORMAT: &str = "P\t%{NAME}\t%{EPOCH}\t%{VERSION}\t%{RELEASE}\t%{ARCH}\t%{SOURCERPM}\t%{LICENSE}\n[F\t%{FILENAMES}\n]";

/// Every package of the database at `dbpath`, as `rpm -qa` (with `backend`) lists them.
pub fn rpm_query_all(dbpath: &Path, backend: &str) -> Vec<Queried> {
    let out = run(rpm(dbpath, backend).args(["-qa", "--queryformat", QUERY_FORMAT]));
    let mut packages: Vec<Queried> = Vec::new();
    for line in out.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
        let line = String::from_utf8_lossy(line);
        let fields: Vec<&str> = line.split('\t').collect();
        match fields[0] {
            "P" => packages.push(Queried {
                name: fields[1].into(),
                epoch: fields[2].into(),
                version: fields[3].into(),
                release: fields[4].into(),
                arch: fields[5].into(),
                source_rpm: fields[6].into(),
                // A license may itself hold a tab.
                license: fields[7..].join("\t"),
                files: Vec::new(),
            }),
            "F" => packages
                .last_mut()
                .expect("a file line follows its package line")
                .files
                .push(fields[1..].join("\t")),
            other => panic!("unexpected rpm output line kind {other:?}"),
        }
    }
    packages
}

/// A parsed package in `rpm -q`'s terms.
pub fn queried(package: &stowaway_rpmdb::Package) -> Queried {
    let none = || "(none)".to_string();
    Queried {
        name: package.name.clone(),
        epoch: package.epoch.map_or_else(none, |e| e.to_string()),
        version: package.version.clone(),
        release: package.release.clone(),
        arch: package.arch.clone().unwrap_or_else(none),
        source_rpm: package.source_rpm.clone().unwrap_or_else(none),
        license: package.license.clone().unwrap_or_else(none),
        files: package.files.clone(),
    }
}

/// `(hnum, blob)` of every row of an `rpmdb.sqlite`, read with SQLite itself.
pub fn sqlite_blobs(path: &Path) -> Vec<(u32, Vec<u8>)> {
    let connection = rusqlite::Connection::open_with_flags(
        format!("file:{}?immutable=1", path.display()),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI,
    )
    .unwrap();
    let mut statement = connection
        .prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")
        .unwrap();
    statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Writes a Berkeley DB hash `Packages` with libdb's `db5.3_load`, as rpm's BDB backend lays it
/// out: 4-byte instance keys in the database's byte order, record 0 holding the next instance.
pub fn db_load(
    blobs: &[(u32, Vec<u8>)],
    dbpath: &Path,
    page_size: u32,
    little_endian: bool,
) -> PathBuf {
    db_load_with(blobs, dbpath, page_size, little_endian, "")
}

/// [`db_load`] with more `name=value` lines for the dump's header.
pub fn db_load_with(
    blobs: &[(u32, Vec<u8>)],
    dbpath: &Path,
    page_size: u32,
    little_endian: bool,
    settings: &str,
) -> PathBuf {
    let key = |n: u32| {
        hex(&if little_endian {
            n.to_le_bytes()
        } else {
            n.to_be_bytes()
        })
    };
    let next = blobs.iter().map(|(n, _)| n + 1).max().unwrap_or(1);
    let mut dump = format!(
        "VERSION=3\nformat=bytevalue\ntype=hash\ndb_pagesize={page_size}\ndb_lorder={}\n{settings}HEADER=END\n",
        if little_endian { 1234 } else { 4321 }
    );
    writeln!(dump, " {}\n {}", key(0), key(next)).unwrap();
    for (instance, blob) in blobs {
        writeln!(dump, " {}\n {}", key(*instance), hex(blob)).unwrap();
    }
    dump.push_str("DATA=END\n");
    std::fs::create_dir_all(dbpath).unwrap();
    let input = dbpath.join("dump.txt");
    std::fs::write(&input, dump).unwrap();
    let packages = dbpath.join("Packages");
    run(Command::new("db5.3_load")
        .arg("-f")
        .arg(&input)
        .arg(&packages));
    std::fs::remove_file(input).unwrap();
    packages
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
