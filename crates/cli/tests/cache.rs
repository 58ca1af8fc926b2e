//! The layer cache through the CLI: a warm scan reads every layer from the cache and reports
//! exactly what the cold scan did; a layer whose bytes changed under the same declared digest is
//! scanned again, never served from the cache, even when the archive is rewritten in place with
//! its modification time set back; `--no-cache` leaves it alone; `cache clean` empties it.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, Members, docker_save_oci, gzip, zip_of,
};

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

fn stowaway(cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stowaway"))
        .args(args)
        .env("STOWAWAY_CACHE_DIR", cache)
        .output()
        .unwrap()
}

/// Three layers: a dpkg status with packages, an AWS key in a config and a zip with EICAR, and a
/// layer that deletes a file.
fn image() -> Image {
    let mut base = LayerBuilder::new();
    base.file(
        "var/lib/dpkg/status",
        b"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n\n\
          Package: openssl\nStatus: install ok installed\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n\n",
    )
    .file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n")
    .file("etc/motd", b"welcome\n");
    let mut app = LayerBuilder::new();
    app.file(
        "app/config.ini",
        format!("aws_access_key_id = {}{}\n", "AKIA", "Z7QW3E5R6T2Y3U4I").as_bytes(),
    )
    .file("app/bundle.zip", &zip_of(&[("eicar.com", EICAR)]))
    .file("app/readme.txt", b"hello\n");
    let mut cleanup = LayerBuilder::new();
    cleanup.whiteout("etc/motd");
    Image::new(
        &["cached:1"],
        vec![
            Layer::new(base.build(), Compression::Gzip, "ADD rootfs /"),
            Layer::new(app.build(), Compression::None, "COPY app /app"),
            Layer::new(cleanup.build(), Compression::Gzip, "RUN rm /etc/motd"),
        ],
    )
}

/// The JSON report with every engine's scan time zeroed (the only thing allowed to differ).
fn report(out: &Output) -> Value {
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut report: Value = serde_json::from_slice(&out.stdout).unwrap();
    zero_times(&mut report);
    report
}

fn zero_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "time_us" {
                    *value = Value::from(0);
                } else {
                    zero_times(value);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(zero_times),
        _ => {}
    }
}

/// `(key, used)` of every cached layer.
fn cached(cache: &Path) -> Vec<(String, i64)> {
    let db = rusqlite::Connection::open(cache.join("layers/layers.sqlite")).unwrap();
    let mut statement = db
        .prepare("SELECT key, used FROM layers ORDER BY key")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// How many file stamps the cache keeps (blobs it need not read again while their file is
/// unchanged).
fn stamps(cache: &Path) -> i64 {
    let db = rusqlite::Connection::open(cache.join("layers/layers.sqlite")).unwrap();
    db.query_row("SELECT count(*) FROM stamps", [], |r| r.get(0))
        .unwrap()
}

fn write(dir: &Path, name: &str, members: &Members) -> String {
    let path = dir.join(name);
    std::fs::write(&path, members.to_tar()).unwrap();
    path.display().to_string()
}

#[test]
fn a_warm_scan_reads_the_cache_and_reports_exactly_what_the_cold_scan_did() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let archive = write(work.path(), "image.tar", &docker_save_oci(&[image()]));
    let scan = |extra: &[&str]| {
        let mut args = vec!["scan", "--format", "json", "-q", archive.as_str()];
        args.extend(extra);
        stowaway(&cache, &args)
    };

    let cold = scan(&[]);
    let after_cold = cached(&cache);
    assert_eq!(after_cold.len(), 3, "one entry per layer");
    std::thread::sleep(std::time::Duration::from_millis(20));
    let warm = scan(&[]);
    let after_warm = cached(&cache);
    assert_eq!(after_warm.len(), 3);
    for (before, after) in after_cold.iter().zip(&after_warm) {
        assert_eq!(before.0, after.0);
        assert!(
            after.1 > before.1,
            "layer {} was not read from the cache",
            after.0
        );
    }
    let (cold, warm) = (report(&cold), report(&warm));
    assert_eq!(cold, warm);
    // The report has what the layers hold: the cache is not empty-handed.
    let text = cold.to_string();
    for needle in [
        "app/bundle.zip",
        "aws-access-key-id",
        "pkg:deb/debian/openssl",
    ] {
        assert!(text.contains(needle), "{needle}");
    }

    // --no-cache neither reads nor writes: the same report, the entries untouched.
    let uncached = scan(&["--no-cache"]);
    assert_eq!(report(&uncached), cold);
    assert_eq!(cached(&cache), after_warm);

    // Another rule set is another key: its layers are walked again and kept beside.
    let rules = work.path().join("rules");
    std::fs::create_dir(&rules).unwrap();
    std::fs::write(
        rules.join("extra.yar"),
        "rule readme { strings: $a = \"hello\" condition: $a }\n",
    )
    .unwrap();
    let with_rules = scan(&["--rules", rules.to_str().unwrap()]);
    assert!(report(&with_rules).to_string().contains("readme"));
    assert_eq!(cached(&cache).len(), 6);

    let clean = stowaway(&cache, &["cache", "clean"]);
    assert!(clean.status.success());
    assert!(String::from_utf8_lossy(&clean.stderr).contains("removed 6 cached layers"));
    assert!(cached(&cache).is_empty());
}

#[test]
fn a_layer_changed_under_the_same_declared_digest_is_scanned_again() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let mut members = docker_save_oci(&[image()]);
    let original = write(work.path(), "image.tar", &members);
    let out = stowaway(&cache, &["scan", "--format", "json", "-q", &original]);
    let before = report(&out);

    // The same names and manifests, other bytes in the first layer: what a tampered archive
    // (or a cache poisoned by one) looks like.
    let mut swapped = LayerBuilder::new();
    swapped.file("etc/miner.txt", EICAR);
    let blob = before["images"][0]["layers"][0]["blob_digest"]
        .as_str()
        .unwrap()
        .to_string();
    let name = format!("blobs/sha256/{}", &blob[7..]);
    let entry = members.files.iter_mut().find(|(n, _)| *n == name).unwrap();
    entry.1 = gzip(&swapped.build());
    let tampered = write(work.path(), "tampered.tar", &members);
    let out = stowaway(&cache, &["scan", "--format", "json", "-q", &tampered]);
    let after = report(&out);
    let text = after.to_string();
    assert!(
        text.contains("etc/miner.txt"),
        "the changed layer was served from the cache"
    );
    assert_ne!(
        after["images"][0]["layers"][0]["integrity"],
        before["images"][0]["layers"][0]["integrity"]
    );
    assert!(!text.contains("pkg:deb/debian/openssl"));
}

#[test]
fn an_archive_rewritten_in_place_is_read_again_whatever_its_times_say() {
    let work = tempfile::tempdir().unwrap();
    let cache = work.path().join("cache");
    let archive = write(work.path(), "image.tar", &docker_save_oci(&[image()]));
    // Files changed in the last two seconds get no stamp.
    let settle = || std::thread::sleep(std::time::Duration::from_millis(2100));
    settle();
    let scan = || {
        report(&stowaway(
            &cache,
            &["scan", "--format", "json", "-q", &archive],
        ))
    };
    let cold = scan();
    assert_eq!(
        stamps(&cache),
        3,
        "one stamp per layer of a settled archive"
    );
    assert_eq!(
        scan(),
        cold,
        "the stamped layers, not read again, report the same"
    );

    // One byte of the uncompressed layer's readme changes, in the same file (same inode, same
    // size), and the modification time is set back to what it was.
    let bytes = std::fs::read(&archive).unwrap();
    let hits: Vec<usize> = bytes
        .windows(6)
        .enumerate()
        .filter(|(_, w)| *w == b"hello\n")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(hits.len(), 1, "the readme's text is in the archive once");
    let modified = std::fs::metadata(&archive).unwrap().modified().unwrap();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .open(&archive)
        .unwrap();
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(hits[0] as u64)).unwrap();
    std::io::Write::write_all(&mut file, b"j").unwrap();
    drop(file);
    let since_epoch = modified.duration_since(std::time::UNIX_EPOCH).unwrap();
    let touched = Command::new("touch")
        .arg("-d")
        .arg(format!(
            "@{}.{:09}",
            since_epoch.as_secs(),
            since_epoch.subsec_nanos()
        ))
        .arg(&archive)
        .status()
        .unwrap();
    assert!(touched.success());
    assert_eq!(
        std::fs::metadata(&archive).unwrap().modified().unwrap(),
        modified
    );
    settle();
    let after = scan();
    assert_eq!(
        after["images"][0]["layers"][1]["integrity"], "mismatch",
        "the rewritten layer was served from the cache"
    );
    assert_eq!(cold["images"][0]["layers"][1]["integrity"], "verified");
}
