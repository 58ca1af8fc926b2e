//! The walker meets real-world file trees: layers made from real Debian packages (the data tar
//! `dpkg-deb --fsys-tarfile` gives, `./`-prefixed, with hard links, symlinks and setuid files),
//! checked against dpkg's own listing and `sha256sum` of the extracted files.
//!
//! Needs `STOWAWAY_DEBS`: a directory of `.deb` files, which `scripts/with-test-deps` fills with
//! `apt-get download base-files dash hello sed`. Without it the test says it is skipped.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use stowaway_findings::{EntryType, FileStatus};
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_classic};

fn run(command: &mut Command) -> Vec<u8> {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// What `dpkg-deb -c` lists: path → (type, mode, size).
fn dpkg_listing(deb: &Path) -> BTreeMap<String, (EntryType, u32, u64)> {
    let listing = String::from_utf8(run(Command::new("dpkg-deb").arg("-c").arg(deb))).unwrap();
    let mut entries = BTreeMap::new();
    for line in listing.lines() {
        // drwxr-xr-x root/root         0 2023-03-02 13:16 ./usr/bin/
        let mut fields = line.split_whitespace();
        let perms = fields.next().unwrap();
        let _owner = fields.next();
        let size: u64 = fields.next().unwrap().parse().unwrap();
        let name_start = line.find(" ./").unwrap() + 1;
        let name = &line[name_start..];
        let name = name
            .split(" -> ")
            .next()
            .unwrap()
            .split(" link to ")
            .next()
            .unwrap();
        let path = name
            .trim_start_matches("./")
            .trim_end_matches('/')
            .to_string();
        if path.is_empty() {
            continue;
        }
        let entry_type = match perms.as_bytes()[0] {
            b'd' => EntryType::Dir,
            b'l' => EntryType::Symlink,
            b'h' => EntryType::Hardlink,
            b'-' => EntryType::File,
            other => panic!("unexpected type {} in {line}", other as char),
        };
        let mut mode = 0;
        for (i, c) in perms[1..].chars().enumerate() {
            let bit = 1 << (8 - i);
            match c {
                'r' | 'w' | 'x' => mode |= bit,
                's' | 't' => {
                    mode |= bit
                        | if i < 3 {
                            0o4000
                        } else if i < 6 {
                            0o2000
                        } else {
                            0o1000
                        }
                }
                'S' | 'T' => {
                    mode |= if i < 3 {
                        0o4000
                    } else if i < 6 {
                        0o2000
                    } else {
                        0o1000
                    }
                }
                _ => {}
            }
        }
        entries.insert(
            path,
            (
                entry_type,
                mode,
                if entry_type == EntryType::File {
                    size
                } else {
                    0
                },
            ),
        );
    }
    entries
}

/// `sha256sum` of every regular file `dpkg-deb -x` extracts: path → hex.
fn extracted_hashes(deb: &Path) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir.path()));
    let sums = run(Command::new("sh")
        .arg("-c")
        .arg("find . -type f -print0 | xargs -0 -r sha256sum")
        .current_dir(dir.path()));
    String::from_utf8(sums)
        .unwrap()
        .lines()
        .map(|line| {
            let (hash, path) = line.split_once("  ").unwrap();
            (
                path.trim_start_matches("./").to_string(),
                format!("sha256:{hash}"),
            )
        })
        .collect()
}

fn debs() -> Option<Vec<PathBuf>> {
    let Some(dir) = std::env::var_os("STOWAWAY_DEBS") else {
        eprintln!(
            "skipped: set STOWAWAY_DEBS to a directory of .deb files (scripts/with-test-deps does)"
        );
        return None;
    };
    let mut debs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .collect();
    debs.sort();
    assert!(
        debs.len() >= 3,
        "STOWAWAY_DEBS has too few packages: {debs:?}"
    );
    Some(debs)
}

#[test]
fn real_debian_packages_as_layers() {
    let Some(debs) = debs() else { return };
    let mut layers = Vec::new();
    for deb in &debs {
        let tar = run(Command::new("dpkg-deb").arg("--fsys-tarfile").arg(deb));
        let name = deb.file_name().unwrap().to_string_lossy().into_owned();
        layers.push(Layer::new(
            tar,
            Compression::Gzip,
            &format!("dpkg -i {name}"),
        ));
    }
    let mut cleanup = LayerBuilder::new();
    cleanup.whiteout("usr/share/doc");
    layers.push(Layer::new(
        cleanup.build(),
        Compression::Gzip,
        "RUN rm -rf /usr/share/doc",
    ));
    let image = Image::new(&["debian-packages:test"], layers);
    let report = only(scan_bytes(&docker_save_classic(&[image]).to_tar()).unwrap());

    assert!(report.not_scanned.is_empty(), "{:?}", report.not_scanned);
    let os = report.os.as_ref().expect("base-files names the OS");
    assert_eq!(os.id, "debian");
    for (index, deb) in debs.iter().enumerate() {
        let expected = dpkg_listing(deb);
        let ours: BTreeMap<String, (EntryType, u32, u64)> = report
            .inventory
            .iter()
            .filter(|e| e.layer == index)
            .map(|e| (e.path.clone(), (e.entry_type, e.mode, e.size)))
            .collect();
        assert_eq!(ours, expected, "inventory of {}", deb.display());

        let hashes = extracted_hashes(deb);
        for entry in report.inventory.iter().filter(|e| e.layer == index) {
            match entry.entry_type {
                EntryType::File | EntryType::Hardlink => {
                    assert_eq!(
                        entry.sha256.map(|d| d.to_string()).as_ref(),
                        hashes.get(&entry.path),
                        "{}",
                        entry.path
                    )
                }
                _ => assert!(entry.sha256.is_none()),
            }
            let under_doc =
                entry.path == "usr/share/doc" || entry.path.starts_with("usr/share/doc/");
            match (entry.entry_type, under_doc) {
                // Directories that several packages declare are replaced by the later one.
                (EntryType::Dir, true) => assert!(!entry.status.is_present(), "{}", entry.path),
                (EntryType::Dir, false) => {}
                (_, true) => assert_eq!(
                    entry.status,
                    FileStatus::Removed { layer: debs.len() },
                    "{}",
                    entry.path
                ),
                (_, false) => assert_eq!(entry.status, FileStatus::Present, "{}", entry.path),
            }
        }
    }
    // Debian compresses changelogs: each is opened, its content hashed as `zcat` gives it.
    let changelogs: Vec<_> = report
        .archive_members
        .iter()
        .filter(|m| m.path.ends_with("changelog.Debian.gz"))
        .collect();
    assert!(changelogs.len() >= debs.len() - 1, "{changelogs:?}");
    for member in changelogs {
        assert_eq!(member.member, "changelog.Debian");
        assert_eq!(member.status, FileStatus::Removed { layer: debs.len() });
    }
}
