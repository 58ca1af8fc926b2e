//! Archives inside the image are opened and their members analysed, with `outer!inner` paths,
//! and every bound is reported as a "not scanned" entry when hit.

mod common;

use std::io::Write;

use common::*;
use stowaway_findings::{ImageReport, NotScannedCode};
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, docker_save_oci, encrypted_zip_of, gzip, zip_of,
};
use stowaway_scan::Limits;

fn bzip2(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn xz(bytes: &[u8]) -> Vec<u8> {
    let mut writer =
        lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1)).unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap()
}

/// Gzip at the best ratio, as a bomb maker would.
fn gzip_best(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut builder = LayerBuilder::new();
    for (name, data) in files {
        builder.file(name, data);
    }
    builder.build()
}

fn scan_layer(layer: LayerBuilder, limits: Limits) -> ImageReport {
    let image = Image::new(
        &["nested:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "COPY")],
    );
    let mut options = options();
    options.limits = limits;
    only(scan_bytes_with(&docker_save_oci(&[image]).to_tar(), &options).unwrap())
}

fn members(report: &ImageReport) -> Vec<String> {
    report
        .archive_members
        .iter()
        .map(|m| format!("{}!{}", m.path, m.member))
        .collect()
}

fn not_scanned(report: &ImageReport) -> Vec<String> {
    report
        .not_scanned
        .iter()
        .map(|n| {
            format!(
                "{}: [{}] {}",
                n.location.display_path(),
                n.code.as_str(),
                n.reason
            )
        })
        .collect()
}

#[test]
fn every_format_is_opened_with_outer_inner_paths() {
    let inner_tgz = gzip(&tar_of(&[("deep/x.txt", b"x")]));
    let mut layer = LayerBuilder::new();
    layer
        .file(
            "app/lib.jar",
            &zip_of(&[("com/A.class", b"\xca\xfe"), ("lib/inner.tgz", &inner_tgz)]),
        )
        .file("data/b.tar.bz2", &bzip2(&tar_of(&[("b.txt", b"b")])))
        .file("data/c.txt.xz", &xz(b"c content"))
        .file(
            "data/d.zst",
            &zstd::encode_all(&b"d content"[..], 3).unwrap(),
        )
        .file("data/e.log.gz", &gzip(b"e content"))
        .file("data/f.tar", &tar_of(&[("f.txt", b"f")]));
    let report = scan_layer(layer, Limits::default());
    assert_eq!(
        members(&report),
        vec![
            "app/lib.jar!com/A.class",
            "app/lib.jar!lib/inner.tgz!deep/x.txt",
            "app/lib.jar!lib/inner.tgz",
            "data/b.tar.bz2!b.txt",
            "data/c.txt.xz!c.txt",
            "data/d.zst!d",
            "data/e.log.gz!e.log",
            "data/f.tar!f.txt",
        ]
    );
    let sha = |path: &str| {
        report
            .archive_members
            .iter()
            .find(|m| format!("{}!{}", m.path, m.member) == path)
            .unwrap()
            .sha256
            .to_string()
    };
    assert_eq!(
        sha("data/c.txt.xz!c.txt"),
        stowaway_imagebuilder::sha256(b"c content")
    );
    assert_eq!(
        sha("app/lib.jar!lib/inner.tgz"),
        stowaway_imagebuilder::sha256(&inner_tgz)
    );
    assert!(report.not_scanned.is_empty(), "{:?}", not_scanned(&report));
}

#[test]
fn nesting_depth_is_bounded_and_reported() {
    // a tar in a tar in a tar in a tar.
    let mut bytes = tar_of(&[("core.txt", b"core")]);
    for level in 0..3 {
        bytes = tar_of(&[(&format!("level{level}.tar"), &bytes)]);
    }
    let mut layer = LayerBuilder::new();
    layer.file("nest.tar", &bytes);
    let limits = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let report = scan_layer(layer, limits);
    // nest.tar (opened) → level2.tar (opened) → level1.tar (a third level: not opened).
    assert_eq!(
        members(&report),
        vec!["nest.tar!level2.tar!level1.tar", "nest.tar!level2.tar"]
    );
    assert_eq!(
        not_scanned(&report),
        vec![
            "nest.tar!level2.tar!level1.tar: [exceeded archive depth] tar archive nested deeper than --max-depth 2: not opened"
        ]
    );
}

#[test]
fn entries_per_archive_are_bounded_and_reported() {
    let files: Vec<(String, Vec<u8>)> = (0..10).map(|i| (format!("f{i}"), vec![b'x'; 3])).collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    let mut layer = LayerBuilder::new();
    layer
        .file("many.zip", &zip_of(&refs))
        .file("many.tar", &tar_of(&refs));
    let limits = Limits {
        max_entries: 4,
        ..Limits::default()
    };
    let report = scan_layer(layer, limits);
    assert_eq!(report.archive_members.len(), 8);
    assert_eq!(
        not_scanned(&report),
        vec![
            "many.zip: [exceeded archive file number] more than 4 entries (--max-entries): the rest not read",
            "many.tar: [exceeded archive file number] more than 4 entries (--max-entries): the rest not read",
        ]
    );
}

#[test]
fn decompression_bombs_and_member_sizes_are_bounded_and_reported() {
    let zeros = vec![0u8; 16 << 20];
    let mut layer = LayerBuilder::new();
    layer
        .file("bomb.gz", &gzip_best(&zeros))
        .file("bomb.zip", &zip_of(&[("zeros.bin", &zeros)]))
        .file("big.tar", &tar_of(&[("big.bin", &vec![7u8; 9 << 20])]))
        .file("fine.gz", &gzip(b"fine"));
    let limits = Limits {
        max_member_bytes: 8 << 20,
        ..Limits::default()
    };
    let report = scan_layer(layer, limits);
    let reasons = not_scanned(&report);
    assert_eq!(reasons.len(), 3, "{reasons:?}");
    assert!(
        reasons[0].starts_with("bomb.gz: [exceeded archive size] gzip archive not fully read:")
            && reasons[0].contains("--max-ratio"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].starts_with("bomb.zip!zeros.bin: [exceeded archive size] not fully read:")
            && reasons[1].contains("--max-ratio"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].starts_with("big.tar: [exceeded archive size] tar archive not fully read:")
            && reasons[2].contains("--max-member-bytes"),
        "{reasons:?}"
    );
    assert!(members(&report).contains(&"fine.gz!fine".to_string()));
    // The outer files are still inventoried with their full hashes.
    let bomb = report
        .inventory
        .iter()
        .find(|e| e.path == "bomb.gz")
        .unwrap();
    assert_eq!(
        bomb.sha256.map(|d| d.to_string()).as_deref(),
        Some(stowaway_imagebuilder::sha256(&gzip_best(&zeros)).as_str())
    );
}

#[test]
fn nested_bytes_over_the_whole_scan_are_bounded() {
    let mut layer = LayerBuilder::new();
    for i in 0..4 {
        layer.file(&format!("f{i}.gz"), &gzip(&vec![i as u8 + 1; 1 << 20]));
    }
    let limits = Limits {
        max_nested_bytes: (2 << 20) + 10,
        ..Limits::default()
    };
    let report = scan_layer(layer, limits);
    assert_eq!(report.archive_members.len(), 2);
    assert_eq!(report.not_scanned.len(), 2);
    assert!(report.not_scanned[0].reason.contains("--max-nested-bytes"));
    assert_eq!(
        report.not_scanned[0].code,
        NotScannedCode::ExceededArchiveSize
    );
}

#[test]
fn oversized_content_for_analyzers_is_reported() {
    let mut big_elf = ELF.to_vec();
    big_elf.resize(3 << 20, 0x90);
    let mut layer = LayerBuilder::new();
    layer.file_mode("tmp/big", &big_elf, 0o755);
    let limits = Limits {
        max_in_memory: 1 << 20,
        ..Limits::default()
    };
    let report = scan_layer(layer, limits);
    assert_eq!(
        report.findings.len(),
        1,
        "the analyzer still ran on the first bytes"
    );
    assert_eq!(
        not_scanned(&report),
        vec![
            "tmp/big: [exceeded file size] only the first 1048576 bytes were analysed (--max-in-memory)"
        ]
    );
    assert_eq!(
        report.inventory[0].sha256.map(|d| d.to_string()).as_deref(),
        Some(stowaway_imagebuilder::sha256(&big_elf).as_str())
    );
}

#[test]
fn archives_larger_than_memory_are_spooled_and_opened() {
    // Incompressible enough that the zip stays larger than the in-memory bound.
    let noise: Vec<u8> = (0u32..(3 << 20) / 4)
        .flat_map(|i| i.wrapping_mul(2_654_435_761).to_le_bytes())
        .collect();
    let big_zip = zip_of(&[("noise.bin", &noise), ("small.txt", b"small")]);
    let big_tgz = gzip(&tar_of(&[("noise.bin", &noise)]));
    let mut layer = LayerBuilder::new();
    layer
        .file("opt/big.jar", &big_zip)
        .file("opt/big.tgz", &big_tgz)
        .file("opt/too-big.jar", &big_zip);
    let limits = Limits {
        max_in_memory: 1 << 20,
        ..Limits::default()
    };
    let report = scan_layer(layer, limits);
    assert!(big_zip.len() > 2 << 20);
    assert_eq!(
        members(&report),
        vec![
            "opt/big.jar!noise.bin",
            "opt/big.jar!small.txt",
            "opt/big.tgz!noise.bin",
            "opt/too-big.jar!noise.bin",
            "opt/too-big.jar!small.txt",
        ]
    );
    assert!(report.not_scanned.is_empty(), "{:?}", not_scanned(&report));
    let noise_sha = stowaway_imagebuilder::sha256(&noise);
    assert!(
        report
            .archive_members
            .iter()
            .filter(|m| m.member == "noise.bin")
            .all(|m| m.sha256.to_string() == noise_sha)
    );

    let limits = Limits {
        max_in_memory: 1 << 20,
        max_member_bytes: 2 << 20,
        ..Limits::default()
    };
    let mut layer = LayerBuilder::new();
    layer.file("opt/too-big.jar", &big_zip);
    let report = scan_layer(layer, limits);
    assert!(report.archive_members.is_empty());
    assert_eq!(
        not_scanned(&report),
        vec![
            "opt/too-big.jar: [exceeded archive size] zip archive not fully read: larger than --max-member-bytes (2097152): not opened"
        ]
    );
}

#[test]
fn encrypted_and_damaged_archives_are_told_apart() {
    let mut damaged = zip_of(&[("a.txt", b"hello hello hello")]);
    let cut = damaged.len() - 30;
    damaged.truncate(cut);
    let mut layer = LayerBuilder::new();
    layer
        .file(
            "secret.zip",
            &encrypted_zip_of(&[("payload.bin", b"hidden")], "infected"),
        )
        .file("broken.zip", &damaged);
    let report = scan_layer(layer, Limits::default());
    let codes: Vec<(String, NotScannedCode)> = report
        .not_scanned
        .iter()
        .map(|n| (n.location.display_path(), n.code))
        .collect();
    assert_eq!(
        codes,
        [
            ("secret.zip".to_string(), NotScannedCode::EncryptedArchive),
            ("broken.zip".to_string(), NotScannedCode::FailedToExtract),
        ]
    );
}
