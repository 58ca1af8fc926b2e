//! Analysing whole files on the helper thread changes nothing about what a walk finds: the same
//! outputs in the same order and the same per-engine verdicts as a walker that analyses every
//! file itself, whatever the mix of small files, large files, archives and findings.

use std::sync::atomic::AtomicU64;

use stowaway_findings::{Finding, Kind, Severity, Verdict};
use stowaway_imagebuilder::{LayerBuilder, gzip};
use stowaway_scan::analyzers::default_analyzers;
use stowaway_scan::walk::{Walk, Walker, walk_with_helper};
use stowaway_scan::{Analyzer, FileMeta, Limits, Output};

/// An engine that finds the word `NEEDLE` anywhere in a file.
struct Needle;

impl Analyzer for Needle {
    fn id(&self) -> &'static str {
        "needle"
    }
    fn version(&self) -> u32 {
        1
    }
    fn is_engine(&self) -> bool {
        true
    }
    fn wants(&self, _file: &FileMeta<'_>) -> bool {
        true
    }
    fn analyze(
        &self,
        _file: &FileMeta<'_>,
        content: &[u8],
        _complete: bool,
        out: &mut Vec<Output>,
    ) {
        if content.windows(6).any(|w| w == b"NEEDLE") {
            out.push(Output::Finding(Finding {
                id: "Test.Needle".into(),
                kind: Kind::Malware,
                severity: Severity::Critical,
                title: "a needle".into(),
                location: None,
                evidence: None,
                engine: "needle".into(),
                vulnerability: None,
            }));
        }
    }
}

fn layer() -> Vec<u8> {
    let mut inner = LayerBuilder::new();
    inner.file("deep/needle.txt", b"a NEEDLE inside");
    let mut layer = LayerBuilder::new();
    layer.file("etc/os-release", b"ID=debian\nVERSION_ID=12\n");
    for i in 0..200 {
        let mut content = format!("file {i} ").repeat(1 + i * 37).into_bytes();
        if i % 7 == 0 {
            content.extend_from_slice(b" NEEDLE");
        }
        layer.file(&format!("srv/f{i:03}.txt"), &content);
    }
    let mut big = vec![b'x'; 3 << 20];
    big.extend_from_slice(b"NEEDLE");
    layer
        .file("opt/big.bin", &big)
        .file("opt/bundle.tar.gz", &gzip(&inner.build()))
        .file_mode("tmp/.cache/run", b"\x7fELF\x02\x01\x01 NEEDLE", 0o755);
    layer.build()
}

/// What a walk found, without the engines' times (which differ from run to run).
fn found(mut walk: Walk) -> String {
    for file in &mut walk.verdicts {
        for result in &mut file.results {
            result.time_us = 0;
        }
    }
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        walk.entries, walk.members, walk.outputs, walk.skipped, walk.verdicts
    )
}

#[test]
fn the_helper_thread_finds_what_the_walker_alone_finds() {
    let mut analyzers = default_analyzers();
    analyzers.push(Box::new(Needle));
    let limits = Limits::default();
    let tar = layer();

    let budget = AtomicU64::new(0);
    let mut alone = Walker::new(&analyzers, &limits, &budget);
    alone.walk_layer_tar(&mut &tar[..]).unwrap();
    let alone = alone.finish();

    let budget = AtomicU64::new(0);
    let helped = walk_with_helper(&analyzers, &limits, &budget, |walker| {
        walker.walk_layer_tar(&mut &tar[..])
    })
    .unwrap();

    let needles = |walk: &Walk| {
        walk.verdicts
            .iter()
            .filter(|f| f.results.iter().any(|r| r.verdict == Verdict::Infected))
            .count()
    };
    // 29 of the text files, the large file, the member of the tar.gz, the hidden ELF.
    assert_eq!(needles(&alone), 32);
    assert_eq!(needles(&helped), 32);
    assert_eq!(found(helped), found(alone));
}
