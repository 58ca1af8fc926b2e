//! `--vulns`: the vulnerability database's import and matching, in the same run.
//!
//! - Import: every `../shared/osv/*/all.zip` (real PyPI, Go and RUSTSEC advisories) into a
//!   fresh database, timed; the database file's size.
//! - Matching: 5,000 installed packages — the 5,000 most downloaded PyPI names
//!   (`../shared/names/pypi-top5000.txt`), at old versions (`1.0`, `2.19.0`, ...) so that many of
//!   them have advisories — matched as a scan matches them, timed without the scan.
//!
//! Targets (from the vulnerabilities issue): import of the shared data under 10 s; matching
//! 5,000 packages under 100 ms.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use stowaway_findings::{FileStatus, Location, Package, PackageType};
use stowaway_vulndb::{Database, MatchOptions, match_packages};

use crate::measure::{Sample, median, timed};
use crate::report::Machine;

const PACKAGES: usize = 5000;

/// The workplace's shared data: `$STOWAWAY_SHARED_DIR`, else `../shared` beside the repository.
pub fn shared() -> PathBuf {
    std::env::var_os("STOWAWAY_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// The installed packages matching is timed on.
fn packages() -> anyhow::Result<Vec<Package>> {
    let list = shared().join("names/pypi-top5000.txt");
    let names =
        std::fs::read_to_string(&list).with_context(|| format!("reading {}", list.display()))?;
    let versions = ["1.0", "2.19.0", "0.9.1", "3.2.0", "1.24.1", "5.3"];
    Ok(names
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .take(PACKAGES)
        .enumerate()
        .map(|(i, name)| {
            let mut package = Package::new(PackageType::Python, name, versions[i % versions.len()]);
            package.location = Some(Location {
                layer: 0,
                layer_digest: None,
                path: format!("usr/lib/python3/site-packages/{name}.dist-info/METADATA"),
                member: None,
                line: None,
                status: FileStatus::Present,
                created_by: None,
            });
            package
        })
        .collect())
}

/// Times import and matching `reps` times; the markdown results.
pub fn run(command: &str, machine: &Machine, dir: &Path, reps: u16) -> anyhow::Result<String> {
    let zips: Vec<PathBuf> = ["PyPI", "Go", "Rust"]
        .iter()
        .map(|e| shared().join("osv").join(e).join("all.zip"))
        .collect();
    if let Some(missing) = zips.iter().find(|z| !z.is_file()) {
        bail!(
            "{} is not there: the benchmark needs ../shared/osv",
            missing.display()
        );
    }
    let packages = packages()?;
    let mut imports: Vec<Sample> = Vec::new();
    let mut matches: Vec<Sample> = Vec::new();
    let (mut records, mut size, mut findings) = (0, 0, 0);
    for rep in 1..=reps {
        eprintln!("vulnerabilities: repetition {rep}/{reps}");
        let db_dir = tempfile::tempdir_in(dir).context("creating a database directory")?;
        let (sample, stored) = timed(|| {
            let mut db = Database::open_for_import(db_dir.path())?;
            Ok(db.import(&zips, "2026-12-04T00:00:00Z")?.stored as u64)
        })?;
        imports.push(sample);
        records = stored;
        size = std::fs::metadata(Database::file(db_dir.path()))?.len();
        let db = Database::open(db_dir.path())?;
        let (sample, found) = timed(|| {
            Ok(match_packages(&db, &packages, None, MatchOptions::default())?.len() as u64)
        })?;
        matches.push(sample);
        findings = found;
    }
    let wall = |samples: &[Sample]| median(&samples.iter().map(|s| s.wall).collect::<Vec<_>>());
    let (import, matching) = (wall(&imports), wall(&matches));
    let mut markdown = String::new();
    let _ = writeln!(markdown, "# Vulnerability database benchmark\n");
    let _ = writeln!(
        markdown,
        "Produced by `{command}` (see `bench/README.md`). Medians of {reps} repetitions.\n"
    );
    let _ = writeln!(markdown, "| machine | |\n|---|---|");
    let _ = writeln!(markdown, "| CPU | {} |", machine.cpu);
    let _ = writeln!(markdown, "| cores (nproc) | {} |", machine.cores);
    let _ = writeln!(
        markdown,
        "| load average before | {} |\n",
        machine.load_before
    );
    let _ = writeln!(
        markdown,
        "| step | what | wall (median) | result |\n|---|---|---:|---|"
    );
    let _ = writeln!(
        markdown,
        "| import | `../shared/osv/{{PyPI,Go,Rust}}/all.zip` into a fresh database | {:.2} s | {records} records, {:.1} MB |",
        import.as_secs_f64(),
        size as f64 / 1e6
    );
    let _ = writeln!(
        markdown,
        "| matching | {PACKAGES} installed PyPI packages at old versions | {:.1} ms | {findings} findings |\n",
        matching.as_secs_f64() * 1e3
    );
    let verdict = |ok: bool| if ok { "pass" } else { "**FAIL**" };
    let _ = writeln!(
        markdown,
        "## Targets\n\n| target | measured | result |\n|---|---|---|\n| import of the shared data under 10 s | {:.2} s | {} |\n| matching 5,000 packages under 100 ms | {:.1} ms | {} |",
        import.as_secs_f64(),
        verdict(import.as_secs_f64() < 10.0),
        matching.as_secs_f64() * 1e3,
        verdict(matching.as_secs_f64() < 0.1)
    );
    Ok(markdown)
}
