//! `stowaway-bench`: how fast the scanner walks an image compared with just inflating it.
//!
//! It writes a `docker save` archive of about `--size-mb` MiB of files in `--layers` gzip layers
//! (and the same files in one layer), then, on each, times in the same invocation:
//!
//! - (a) flate2 inflating every layer on one thread, output discarded: the baseline;
//! - (a+) a plain sequential walker: inflate, parse the tar, sha256 every file, one thread;
//! - (a∥) flate2 inflating the layers on as many threads as there are cores;
//! - (b) `tar -xzOf - | sha256sum` per layer, one layer after another;
//! - (c) `stowaway_scan::scan` as the CLI runs it, which inflates, verifies both digests of every
//!   layer, walks and sha256-hashes every file and runs the default analyzers;
//! - (x) the same with the secret scanner on every text file;
//! - (m) the same with the malware engines that need no daemon: YARA-X with the bundled rules,
//!   heuristics and hash lists;
//! - (y) YARA 4 (`yara -r`) with the same rules and (k) `clamscan -r` with the same hash lists,
//!   over the files extracted beforehand (untimed), when those tools are installed;
//!
//! and the peak memory of (c) alone, in a child process (`--scan-only`). The results go to stdout
//! and to `bench/WALKER-RESULTS.md`; `bench/README.md` explains them and the targets.
//!
//! With `--sbom` it times cataloguing against Syft instead (see [`sbom`]), into
//! `bench/SBOM-RESULTS.md`; with `--vulns` the vulnerability database's import and matching (see
//! [`vulns`]), into `bench/VULNS-RESULTS.md`.

mod content;
mod image;
mod malware;
mod measure;
mod report;
mod sbom;
mod vulns;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Parser;
use stowaway_secrets::{SecretScanner, SecretsAnalyzer};

use crate::measure::{Sample, timed};
use crate::report::{ImageInfo, Machine, Row, RunKind, Variant};

#[derive(Parser)]
#[command(
    name = "stowaway-bench",
    about = "Walker throughput against flate2 and tar | sha256sum baselines, in one run"
)]
struct Args {
    /// Content size of the generated image, in MiB.
    #[arg(long, default_value_t = 1024)]
    size_mb: u64,
    /// Layers of the main image; a one-layer image of the same files is measured too.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    layers: u16,
    /// Repetitions of every run; medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u16).range(1..=100))]
    reps: u16,
    /// Where to write the images (kept, and reused by later runs with the same parameters);
    /// default: a temporary directory, removed at the end.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Write new images even when --dir holds them already.
    #[arg(long)]
    regenerate: bool,
    /// Seed of the generated content.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Gzip level of the layers (Docker and BuildKit write 6, gzip's default).
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u32).range(0..=9))]
    gzip_level: u32,
    /// Where to write the markdown results.
    #[arg(long, value_name = "FILE", default_value_os_t = default_results())]
    results: PathBuf,
    /// Leave out the malware rows (m), (y), (k).
    #[arg(long)]
    no_malware: bool,
    /// Time cataloguing (`stowaway sbom`) against Syft on this image (multi-layer only) and on
    /// an image of 2,000 npm packages, instead of the walker rows; results go to
    /// bench/SBOM-RESULTS.md unless --results says otherwise.
    #[arg(long)]
    sbom: bool,
    /// Time the vulnerability database instead: import of ../shared/osv and matching 5,000
    /// packages; results go to bench/VULNS-RESULTS.md unless --results says otherwise.
    #[arg(long)]
    vulns: bool,
    /// Only scan this archive and report time and peak memory (used by the bench itself).
    #[arg(long, value_name = "ARCHIVE", hide = true)]
    scan_only: Option<PathBuf>,
    /// Only measure the physical floor of a `docker save` archive (used by bench/compare.py):
    /// inflate every layer that is compressed and sha256 every byte, layers spread over the
    /// cores; prints how many bytes that was.
    #[arg(long, value_name = "ARCHIVE", hide = true)]
    floor: Option<PathBuf>,
    /// With --floor: inflate only, no hashing.
    #[arg(long, requires = "floor", hide = true)]
    floor_inflate_only: bool,
}

fn default_results() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/WALKER-RESULTS.md")
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Some(archive) = &args.scan_only {
        return measure::scan_only(archive, usize::from(args.layers));
    }
    if let Some(archive) = &args.floor {
        let layers = image::locate_layers(archive)?;
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let bytes = measure::floor(archive, &layers, cores, !args.floor_inflate_only)?;
        println!("bytes={bytes}");
        return Ok(());
    }
    let mut machine = Machine::detect();
    if let Some(load) = machine
        .load_before
        .split_whitespace()
        .next()
        .and_then(|l| l.parse::<f64>().ok())
        .filter(|&l| l > 0.5)
    {
        eprintln!(
            "warning: load average {load:.2}: other work on this machine will distort the numbers"
        );
    }
    let temp;
    let (dir, reuse) = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            (dir.clone(), !args.regenerate)
        }
        None => {
            temp = tempfile::tempdir().context("creating a temporary directory")?;
            (temp.path().to_path_buf(), false)
        }
    };

    if args.vulns {
        let markdown = vulns::run(&command_line(), &machine, &dir, args.reps)?;
        println!("{markdown}");
        return write_results(&args, "VULNS-RESULTS.md", &markdown);
    }
    let words = content::Words::new(args.seed);
    let files = content::plan(args.seed, args.size_mb << 20, &words);
    if args.sbom {
        return run_sbom(&args, &machine, &files, &words, &dir, reuse);
    }
    let mut layer_counts = vec![usize::from(args.layers)];
    if args.layers > 1 {
        layer_counts.push(1);
    }
    let shell = measure::have_shell_tools();
    let malware = if args.no_malware {
        None
    } else {
        let hash_lists = malware::write_hash_lists(&dir, args.seed)?;
        Some(MalwareSetup {
            analyzers: malware::engines(&hash_lists)?,
            rules: malware::rule_files()?,
            yara: malware::have("yara"),
            clamscan: malware::have("clamscan"),
            hash_lists,
        })
    };
    let mut secrets = stowaway_scan::analyzers::default_analyzers();
    secrets.push(Box::new(SecretsAnalyzer::new(
        std::sync::Arc::new(SecretScanner::builtin()),
        false,
    )));
    let mut variants = Vec::new();
    for layers in layer_counts {
        let archive = archive_path(&args, &dir, layers);
        variants.push(run_variant(
            &args,
            &machine,
            &files,
            &words,
            &archive,
            layers,
            reuse,
            shell,
            &secrets,
            malware.as_ref(),
        )?);
    }

    eprintln!("sha256 alone, in memory");
    let mut sha = Vec::new();
    for _ in 0..args.reps {
        sha.push(timed(|| measure::sha256_in_memory(1 << 30))?.0.wall);
    }
    let sha256_rate = 1024.0 / measure::median(&sha).as_secs_f64().max(1e-9);
    machine.load_after = report::load_average();

    let markdown = report::render(
        &command_line(),
        &machine,
        usize::from(args.reps),
        args.gzip_level,
        sha256_rate,
        &variants,
    );
    println!("{markdown}");
    if let Some(parent) = args.results.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::write(&args.results, &markdown)
        .with_context(|| format!("writing {}", args.results.display()))?;
    eprintln!("results written to {}", args.results.display());
    Ok(())
}

/// The command line that reproduces this run.
fn command_line() -> String {
    format!(
        "cargo run --release -p stowaway-bench -- {}",
        std::env::args().skip(1).collect::<Vec<_>>().join(" ")
    )
    .trim_end()
    .to_string()
}

/// Where the generated image of `layers` layers lives: named by every parameter that shapes it,
/// so that a later run with the same parameters reuses it.
fn archive_path(args: &Args, dir: &Path, layers: usize) -> PathBuf {
    dir.join(format!(
        "stowaway-bench-{}mib-{layers}layers-seed{}-gzip{}.tar",
        args.size_mb, args.seed, args.gzip_level
    ))
}

/// `--sbom`: the walker benchmark's image and the npm image, cataloguing against Syft.
fn run_sbom(
    args: &Args,
    machine: &Machine,
    files: &[content::PlannedFile],
    words: &content::Words,
    dir: &Path,
    reuse: bool,
) -> anyhow::Result<()> {
    let layers = usize::from(args.layers);
    let archive = archive_path(args, dir, layers);
    if !(reuse && archive.is_file()) {
        eprintln!("writing {}", archive.display());
        image::generate(
            &archive,
            files,
            layers,
            words,
            args.gzip_level,
            machine.cores,
        )?;
    }
    let npm = dir.join(format!("stowaway-bench-npm{}.tar", sbom::NPM_PACKAGES));
    if !(reuse && npm.is_file()) {
        eprintln!("writing {}", npm.display());
        sbom::write_npm_image(&npm)?;
    }
    let images = [
        (
            format!(
                "{} MiB of files in {layers} layers (the walker benchmark's image)",
                args.size_mb
            ),
            archive,
        ),
        (
            format!("{} installed npm packages", sbom::NPM_PACKAGES),
            npm,
        ),
    ];
    let markdown = sbom::run(&command_line(), machine, &images, args.reps)?;
    println!("{markdown}");
    write_results(args, "SBOM-RESULTS.md", &markdown)
}

/// Writes the results to --results, or to `bench/<default>` when it was not given.
fn write_results(args: &Args, default: &str, markdown: &str) -> anyhow::Result<()> {
    let results = if args.results == default_results() {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../bench")
            .join(default)
    } else {
        args.results.clone()
    };
    std::fs::write(&results, markdown).with_context(|| format!("writing {}", results.display()))?;
    eprintln!("results written to {}", results.display());
    Ok(())
}

/// What the malware rows need, made once for every variant.
struct MalwareSetup {
    analyzers: Vec<Box<dyn stowaway_scan::Analyzer>>,
    hash_lists: Vec<PathBuf>,
    rules: Vec<PathBuf>,
    yara: bool,
    clamscan: bool,
}

/// Generates (or reuses) one image and times every run on it.
#[allow(clippy::too_many_arguments)]
fn run_variant(
    args: &Args,
    machine: &Machine,
    files: &[content::PlannedFile],
    words: &content::Words,
    archive: &Path,
    layers: usize,
    reuse: bool,
    shell: bool,
    secrets: &[Box<dyn stowaway_scan::Analyzer>],
    malware: Option<&MalwareSetup>,
) -> anyhow::Result<Variant> {
    let (generated, generated_in) = if reuse && archive.is_file() {
        eprintln!("reusing {}", archive.display());
        (None, None)
    } else {
        eprintln!(
            "writing {} ({layers} layers, {} files)",
            archive.display(),
            files.len()
        );
        let start = Instant::now();
        let generated = image::generate(
            archive,
            files,
            layers,
            words,
            args.gzip_level,
            machine.cores,
        )?;
        (Some(generated), Some(start.elapsed()))
    };
    let spans = image::locate_layers(archive)?;
    anyhow::ensure!(
        spans.len() == layers,
        "{} has {} layers, expected {layers}",
        archive.display(),
        spans.len()
    );
    let archive_bytes = measure::warm_cache(archive)?;

    let mut rows: Vec<Row> = Vec::new();
    let mut record = |kind: RunKind, what: String, sample: Sample| match rows
        .iter_mut()
        .find(|r| r.kind == kind)
    {
        Some(row) => row.samples.push(sample),
        None => rows.push(Row {
            kind,
            what,
            samples: vec![sample],
        }),
    };
    // The standalone tools read files from disk: extract them once, untimed.
    let mut tools_skipped = Vec::new();
    let extracted = match malware {
        Some(setup) if setup.yara || setup.clamscan => {
            let extracted = tempfile::tempdir_in(archive.parent().unwrap_or(Path::new(".")))
                .context("creating a directory for the extracted files")?;
            eprintln!("extracting the layers for yara and clamscan");
            malware::extract(archive, &spans, extracted.path())?;
            Some(extracted)
        }
        _ => None,
    };
    if let Some(setup) = malware {
        for (label, tool, present) in [
            ("(y)", "yara", setup.yara),
            ("(k)", "clamscan", setup.clamscan),
        ] {
            if !present {
                tools_skipped.push((label, format!("{tool} not found")));
            }
        }
    }
    let mut tar_bytes = 0;
    let mut scanned_files = 0;
    for rep in 1..=args.reps {
        eprintln!("{layers} layer(s), repetition {rep}/{}", args.reps);
        let (sample, inflated) = timed(|| measure::inflate(archive, &spans))?;
        tar_bytes = inflated;
        record(
            RunKind::Inflate,
            "flate2 `MultiGzDecoder` (zlib-rs) inflates every layer, 1 thread".into(),
            sample,
        );
        let (sample, walked) = timed(|| measure::walk_sequential(archive, &spans))?;
        anyhow::ensure!(
            walked == inflated,
            "(a+) read {walked} bytes, (a) {inflated}"
        );
        record(
            RunKind::WalkSequential,
            "flate2 + `tar` crate + sha256 of every file, 1 thread".into(),
            sample,
        );
        if layers > 1 {
            let threads = machine.cores.min(layers);
            let (sample, _) = timed(|| measure::inflate_parallel(archive, &spans, machine.cores))?;
            record(
                RunKind::InflateParallel,
                format!("flate2 inflates the layers on {threads} threads"),
                sample,
            );
        }
        if shell {
            let (sample, _) = timed(|| measure::shell_tar_sha256sum(archive, &spans))?;
            record(
                RunKind::ShellTar,
                "`tar -xzOf - \\| sha256sum` per layer, sequential".into(),
                sample,
            );
        }
        let mut summary = None;
        let (sample, _) = timed(|| {
            let scan = measure::stowaway_scan(archive, layers)?;
            summary = Some(scan);
            Ok(scan.uncompressed)
        })?;
        if let Some(summary) = summary {
            anyhow::ensure!(
                summary.uncompressed == inflated,
                "the scan read {} uncompressed bytes, (a) {inflated}",
                summary.uncompressed
            );
            scanned_files = summary.files;
        }
        record(
            RunKind::Stowaway,
            "**stowaway scan**: inflate, verify digests, walk, sha256 every file, analyzers".into(),
            sample,
        );
        let (sample, read) =
            timed(|| Ok(measure::stowaway_scan_with(archive, layers, secrets)?.uncompressed))?;
        anyhow::ensure!(read == inflated, "(x) read {read} bytes, (a) {inflated}");
        record(
            RunKind::StowawaySecrets,
            "**stowaway scan + secrets**: (c) + the secret scanner (bundled rules) on every text file".into(),
            sample,
        );
        let Some(setup) = malware else {
            continue;
        };
        let (sample, read) = timed(|| {
            Ok(measure::stowaway_scan_with(archive, layers, &setup.analyzers)?.uncompressed)
        })?;
        anyhow::ensure!(read == inflated, "(m) read {read} bytes, (a) {inflated}");
        record(
            RunKind::StowawayMalware,
            format!(
                "**stowaway scan + malware engines**: (c) + YARA-X (the bundled rules, {} files), heuristics, {} hashes",
                setup.rules.len(),
                2 * malware::HASH_ENTRIES
            ),
            sample,
        );
        let Some(extracted) = &extracted else {
            continue;
        };
        if setup.yara {
            let (sample, _) =
                timed(|| malware::yara_cli(&setup.rules, extracted.path(), machine.cores))?;
            record(
                RunKind::YaraCli,
                format!(
                    "`yara -r -p {}` (YARA 4) with the same rules over the extracted files",
                    machine.cores
                ),
                sample,
            );
        }
        if setup.clamscan {
            let (sample, _) = timed(|| malware::clamscan(&setup.hash_lists, extracted.path()))?;
            record(
                RunKind::Clamscan,
                "`clamscan -r` with the same hash lists over the extracted files".into(),
                sample,
            );
        }
    }
    eprintln!("{layers} layer(s), peak memory of the scan alone");
    let child = measure::scan_in_child(archive, layers)?;
    let blob_bytes = spans.iter().map(|s| s.size).sum();
    if let Some(generated) = generated {
        anyhow::ensure!(
            generated.tar_bytes == tar_bytes && generated.blob_bytes == blob_bytes,
            "the image read back is not the image written"
        );
    }
    Ok(Variant {
        image: ImageInfo {
            layers,
            files: scanned_files,
            tar_bytes,
            blob_bytes,
            archive_bytes,
            generated_in,
        },
        rows,
        child,
        shell_skipped: (!shell).then(|| "tar or sha256sum not found".to_string()),
        tools_skipped,
    })
}
