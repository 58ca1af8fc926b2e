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

/// 3 MiB with a needle at the end.
fn big_file() -> Vec<u8> {
    let mut big = vec![b'x'; 3 << 20];
    big.extend_from_slice(b"NEEDLE");
    big
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
    layer
        .file("opt/big.bin", &big_file())
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

/// The walk of `tar` by a walker alone and by one with a helper thread.
fn walked_both_ways(analyzers: &[Box<dyn Analyzer>], limits: &Limits, tar: &[u8]) -> [Walk; 2] {
    let budget = AtomicU64::new(0);
    let mut alone = Walker::new(analyzers, limits, &budget);
    alone.walk_layer_tar(&mut &tar[..]).unwrap();
    let alone = alone.finish();

    let budget = AtomicU64::new(0);
    let helped = walk_with_helper(analyzers, limits, &budget, |walker| {
        walker.walk_layer_tar(&mut &tar[..])
    })
    .unwrap();
    [alone, helped]
}

fn needles(walk: &Walk) -> usize {
    walk.verdicts
        .iter()
        .filter(|f| f.results.iter().any(|r| r.verdict == Verdict::Infected))
        .count()
}

#[test]
fn the_helper_thread_finds_what_the_walker_alone_finds() {
    let mut analyzers = default_analyzers();
    analyzers.push(Box::new(Needle));
    let [alone, helped] = walked_both_ways(&analyzers, &Limits::default(), &layer());
    // 29 of the text files, the large file, the member of the tar.gz, the hidden ELF.
    assert_eq!(needles(&alone), 32);
    assert_eq!(needles(&helped), 32);
    assert_eq!(found(helped), found(alone));
}

#[test]
fn a_file_larger_than_memory_is_analysed_in_part_either_way() {
    let mut analyzers = default_analyzers();
    analyzers.push(Box::new(Needle));
    let limits = Limits {
        max_in_memory: 1 << 20,
        ..Limits::default()
    };
    let [alone, helped] = walked_both_ways(&analyzers, &limits, &layer());
    // The large file's needle is past its first MiB.
    assert_eq!(needles(&alone), 31);
    assert_eq!(needles(&helped), 31);
    let skipped: Vec<&str> = helped.skipped.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(skipped, ["opt/big.bin"]);
    let big = helped.entries.iter().find(|e| e.path == "opt/big.bin");
    assert_eq!(
        big.and_then(|e| e.sha256).map(|d| d.to_string()),
        Some(stowaway_imagebuilder::sha256(&big_file())),
        "the whole file is hashed"
    );
    assert_eq!(found(helped), found(alone));
}
