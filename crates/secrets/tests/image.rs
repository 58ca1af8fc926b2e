//! The secret scanner on whole images: secrets in files of every layer (a deleted one too), in
//! the config and in the build history, located and redacted everywhere the report would print
//! them; and none at all across a Debian base image built from real packages.

use std::sync::Arc;

use serde_json::json;
use stowaway_findings::{FileStatus, ImageReport, Kind};
use stowaway_image::Platform;
use stowaway_imagebuilder::debian::{deb_layer, debs};
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_oci};
use stowaway_scan::{Analyzer, Input, Limits, NoProgress, ScanOptions};
use stowaway_secrets::{SecretScanner, SecretsAnalyzer, redact_report, scan_config};

/// A token of `len` characters from `[A-Za-z0-9]`, different for every seed: never a real one.
fn token(seed: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            ALPHABET[(state % ALPHABET.len() as u64) as usize] as char
        })
        .collect()
}

fn scan(images: &[Image], binaries: bool) -> (ImageReport, Arc<SecretScanner>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, docker_save_oci(images).to_tar()).unwrap();
    let scanner = Arc::new(SecretScanner::builtin());
    let analyzers: Vec<Box<dyn Analyzer>> =
        vec![Box::new(SecretsAnalyzer::new(scanner.clone(), binaries))];
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let report = stowaway_scan::scan(&Input::Path(path), &analyzers, &options)
        .unwrap()
        .remove(0);
    (report, scanner)
}

#[test]
fn secrets_in_deleted_files_the_config_and_the_history_are_found_and_redacted() {
    // Access key ids are base32: upper-case letters and the digits 2-7.
    let aws_id: String = format!("{}{}", "AKIA", token(1, 16).to_uppercase())
        .chars()
        .map(|c| match c {
            '0' | '1' | '8' | '9' => 'Q',
            c => c,
        })
        .collect();
    let github = format!("{}{}", "ghp_", token(2, 36));
    let npm = format!("{}{}", "npm_", token(3, 36));
    let slack = format!("{}{}-{}", "xoxb-", "1234567890", token(4, 24));

    let mut base = LayerBuilder::new();
    base.file(
        "app/.env",
        format!("# settings\nDEBUG=1\nAWS_ACCESS_KEY_ID={aws_id}\n").as_bytes(),
    )
    .file("app/README", b"nothing to see\n")
    .file("usr/lib/blob.bin", format!("\0\0ELF{github}").as_bytes());
    let mut cleanup = LayerBuilder::new();
    cleanup.whiteout("app/.env");
    let mut image = Image::new(
        &["shop/app:1.0"],
        vec![
            Layer::new(base.build(), Compression::Gzip, "COPY . /app # buildkit"),
            Layer::new(
                cleanup.build(),
                Compression::Gzip,
                &format!("RUN |1 NPM_TOKEN={npm} /bin/sh -c npm ci && rm /app/.env # buildkit"),
            ),
        ],
    );
    image.settings = json!({
        "Env": ["PATH=/usr/bin:/bin", format!("GITHUB_TOKEN={github}")],
        "Labels": {"chat": slack},
        "User": "app",
    });

    let (mut report, scanner) = scan(&[image.clone()], false);
    let files: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Secret)
        .map(|f| {
            let l = f.location.as_ref().unwrap();
            (f.id.clone(), l.path.clone(), l.line, l.status, l.layer)
        })
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let (_, path, line, status, layer) = &files[0];
    assert_eq!(
        (path.as_str(), *line, *status, *layer),
        ("app/.env", Some(3), FileStatus::Removed { layer: 1 }, 0)
    );

    let (config_findings, secrets) = scan_config(&scanner, &report);
    let mut places: Vec<String> = config_findings.iter().map(|f| f.title.clone()).collect();
    places.sort();
    assert_eq!(places.len(), 3, "{places:?}");
    assert!(
        places.iter().any(|t| t.contains("ENV GITHUB_TOKEN")),
        "{places:?}"
    );
    assert!(
        places.iter().any(|t| t.contains("LABEL chat")),
        "{places:?}"
    );
    assert!(
        places.iter().any(|t| t.contains("build step 1 (layer 1)")),
        "{places:?}"
    );
    assert!(
        config_findings
            .iter()
            .all(|f| f.kind == Kind::Secret && f.location.is_none())
    );

    report.add_findings(config_findings);
    redact_report(&mut report, &secrets);
    let json = serde_json::to_string(&report).unwrap();
    for secret in [&aws_id, &github, &npm, &slack] {
        let tail = &secret[8..];
        assert!(!json.contains(tail), "{secret} leaks into the report");
    }
    // What was redacted is still recognisable.
    assert!(json.contains("NPM_TOKEN=npm_"), "{json}");

    // Binary files are skipped unless asked for.
    let (report, _) = scan(&[image], true);
    assert!(
        report.findings.iter().any(|f| f
            .location
            .as_ref()
            .is_some_and(|l| l.path == "usr/lib/blob.bin")),
        "{:#?}",
        report.findings
    );
}

#[test]
fn a_debian_base_image_from_real_packages_has_no_secret() {
    let Some(debs) = debs("STOWAWAY_DEBIAN_IMAGE_DEBS") else {
        return;
    };
    let layers: Vec<Layer> = debs
        .iter()
        .map(|deb| deb_layer(deb, Compression::Gzip))
        .collect();
    let files: usize = layers.len();
    let (report, _) = scan(&[Image::new(&["debian-real:12"], layers)], false);
    assert!(
        files > 50 && report.inventory.len() > 5000,
        "{}",
        report.inventory.len()
    );
    let secrets: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Secret)
        .map(|f| {
            format!(
                "{} {}:{:?} {}",
                f.id,
                f.location.as_ref().unwrap().path,
                f.location.as_ref().unwrap().line,
                f.evidence.as_deref().unwrap_or("")
            )
        })
        .collect();
    assert!(secrets.is_empty(), "{secrets:#?}");
}
