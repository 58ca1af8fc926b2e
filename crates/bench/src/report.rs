//! The results as markdown: the machine, the targets with pass/fail, and one table per image
//! variant with every run's median wall time, throughput, CPU time and speed relative to the
//! single-thread flate2 baseline.

use std::fmt::Write as _;
use std::time::Duration;

use crate::measure::{ChildScan, Sample, median};

const MIB: f64 = (1u64 << 20) as f64;

/// Which run a row is; (a) is the baseline every ratio is taken against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunKind {
    Inflate,
    WalkSequential,
    InflateParallel,
    ShellTar,
    Stowaway,
    StowawaySecrets,
    StowawayMalware,
    YaraCli,
    Clamscan,
}

impl RunKind {
    pub fn label(self) -> &'static str {
        match self {
            RunKind::Inflate => "(a)",
            RunKind::WalkSequential => "(a+)",
            RunKind::InflateParallel => "(a∥)",
            RunKind::ShellTar => "(b)",
            RunKind::Stowaway => "(c)",
            RunKind::StowawaySecrets => "(x)",
            RunKind::StowawayMalware => "(m)",
            RunKind::YaraCli => "(y)",
            RunKind::Clamscan => "(k)",
        }
    }
}

/// One run, repeated.
#[derive(Debug, Clone)]
pub struct Row {
    pub kind: RunKind,
    pub what: String,
    pub samples: Vec<Sample>,
}

impl Row {
    pub fn wall(&self) -> Duration {
        median(&self.samples.iter().map(|s| s.wall).collect::<Vec<_>>())
    }

    fn cpu(&self) -> Duration {
        median(&self.samples.iter().map(|s| s.cpu).collect::<Vec<_>>())
    }

    fn range(&self) -> (Duration, Duration) {
        let walls = self.samples.iter().map(|s| s.wall);
        (
            walls.clone().min().unwrap_or_default(),
            walls.max().unwrap_or_default(),
        )
    }
}

/// How the variant's image came about.
#[derive(Debug, Clone)]
pub struct ImageInfo {
    pub layers: usize,
    pub files: usize,
    /// Uncompressed layer tars, all layers.
    pub tar_bytes: u64,
    /// Compressed layer blobs, all layers.
    pub blob_bytes: u64,
    pub archive_bytes: u64,
    /// Seconds it took to write, or `None` when an existing archive was reused.
    pub generated_in: Option<Duration>,
}

/// Everything measured on one image.
#[derive(Debug, Clone)]
pub struct Variant {
    pub image: ImageInfo,
    pub rows: Vec<Row>,
    pub child: ChildScan,
    pub shell_skipped: Option<String>,
    /// Standalone malware tools that were not run: (row label, why).
    pub tools_skipped: Vec<(&'static str, String)>,
}

impl Variant {
    fn row(&self, kind: RunKind) -> Option<&Row> {
        self.rows.iter().find(|r| r.kind == kind)
    }

    /// Throughput of `kind` over that of (a).
    pub fn ratio(&self, kind: RunKind) -> Option<f64> {
        let base = self.row(RunKind::Inflate)?.wall().as_secs_f64();
        let run = self.row(kind)?.wall().as_secs_f64();
        (run > 0.0).then(|| base / run)
    }

    /// Wall time of `kind` over that of (c): what its analyzers add to the walk.
    pub fn cost_over_walk(&self, kind: RunKind) -> Option<f64> {
        let walk = self.row(RunKind::Stowaway)?.wall().as_secs_f64();
        let with = self.row(kind)?.wall().as_secs_f64();
        (walk > 0.0).then(|| with / walk)
    }

    fn rate(&self, row: &Row) -> f64 {
        self.image.tar_bytes as f64 / MIB / row.wall().as_secs_f64().max(1e-9)
    }
}

/// The machine the numbers come from.
#[derive(Debug, Clone)]
pub struct Machine {
    pub cores: usize,
    pub cpu: String,
    pub sha_extensions: bool,
    pub kernel: String,
    pub memory: String,
    /// `/proc/loadavg` (1, 5, 15 minutes) before the first run and after the last.
    pub load_before: String,
    pub load_after: String,
}

/// The 1, 5 and 15 minute load averages.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

impl Machine {
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_string())
            })
        };
        let sha_extensions = field("flags")
            .is_some_and(|flags| flags.split_whitespace().any(|f| f == "sha_ni"))
            || field("Features")
                .is_some_and(|features| features.split_whitespace().any(|f| f == "sha2"));
        let memory = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|info| {
                let kib: u64 = info
                    .lines()
                    .find_map(|l| l.strip_prefix("MemTotal:"))?
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .ok()?;
                Some(format!("{:.1} GiB", kib as f64 / MIB))
            })
            .unwrap_or_else(|| "unknown".into());
        Machine {
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu: field("model name")
                .or_else(|| field("Model"))
                .unwrap_or_else(|| "unknown".into()),
            sha_extensions,
            kernel: std::fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into()),
            memory,
            load_before: load_average(),
            load_after: String::new(),
        }
    }
}

/// Today's date (UTC) as `YYYY-MM-DD`, from the system clock.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    // Howard Hinnant's civil-from-days.
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

fn secs(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64())
}

fn mib(bytes: u64) -> String {
    format!("{:.0} MiB", bytes as f64 / MIB)
}

fn verdict(pass: bool) -> &'static str {
    if pass { "**pass**" } else { "**FAIL**" }
}

/// Required speed of (c) relative to (a) for an image of `layers` layers on `cores` cores, and
/// what the target says; `None` when the target does not apply (one core, several layers).
pub fn target(layers: usize, cores: usize) -> Option<(f64, &'static str)> {
    match (layers, cores) {
        (1, _) => Some((0.80, "walk + sha256 ≥ 80% of flate2 inflate (1 thread)")),
        (_, 2..) => Some((
            1.6,
            "walk + sha256 ≥ 1.6× flate2 inflate (1 thread), ≥ 2 layers, ≥ 2 cores",
        )),
        _ => None,
    }
}

pub const MAX_RSS_MIB: u64 = 300;

/// (m) may take at most this many times the wall time of (c).
pub const MAX_MALWARE_COST: f64 = 1.5;
/// Target: the secret scanner adds at most 30% to the walk.
pub const MAX_SECRETS_COST: f64 = 1.3;

/// The whole results document.
pub fn render(
    command: &str,
    machine: &Machine,
    reps: usize,
    gzip_level: u32,
    sha256_rate: f64,
    variants: &[Variant],
) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Walker throughput benchmark\n");
    let _ = writeln!(
        md,
        "Produced by `{command}` on {} (see `bench/README.md` for what each row means).\n",
        today()
    );
    let _ = writeln!(md, "| machine | |\n|---|---|");
    let _ = writeln!(md, "| CPU | {} |", machine.cpu);
    let _ = writeln!(md, "| cores (nproc) | {} |", machine.cores);
    let _ = writeln!(
        md,
        "| SHA extensions | {} |",
        if machine.sha_extensions { "yes" } else { "no" }
    );
    let _ = writeln!(md, "| memory | {} |", machine.memory);
    let _ = writeln!(md, "| kernel | {} |", machine.kernel);
    let _ = writeln!(
        md,
        "| load average before / after | {} / {} |",
        machine.load_before, machine.load_after
    );
    let _ = writeln!(
        md,
        "| sha256 alone, in memory, 1 thread | {sha256_rate:.0} MiB/s |\n"
    );
    let _ = writeln!(
        md,
        "Every figure is the median of {reps} repetitions; runs are interleaved (a, a+, a∥, b, c, \
         then again), the archive is read once beforehand so every run finds it in the page cache. \
         MiB/s are of uncompressed layer bytes, the same for every row, so speed ratios are wall \
         time ratios. Layers are gzip level {gzip_level}. Other work on the machine slows the \
         runs unevenly: check the load average above, and CPU/wall of the one-thread rows (about \
         1.00 when a core was free).\n"
    );

    let _ = writeln!(md, "## Targets\n");
    let _ = writeln!(
        md,
        "| image | target | measured | result |\n|---|---|---|---|"
    );
    for variant in variants {
        let layers = variant.image.layers;
        let name = format!("{layers} layer{}", if layers == 1 { "" } else { "s" });
        match (
            target(layers, machine.cores),
            variant.ratio(RunKind::Stowaway),
        ) {
            (Some((required, what)), Some(ratio)) => {
                let _ = writeln!(
                    md,
                    "| {name} | {what} | {ratio:.2}× | {} |",
                    verdict(ratio >= required)
                );
            }
            _ => {
                let _ = writeln!(
                    md,
                    "| {name} | speed vs flate2 (1 thread) | {} | n/a on {} core(s) |",
                    variant
                        .ratio(RunKind::Stowaway)
                        .map_or("-".into(), |r| format!("{r:.2}×")),
                    machine.cores
                );
            }
        }
        if let Some(cost) = variant.cost_over_walk(RunKind::StowawayMalware) {
            let _ = writeln!(
                md,
                "| {name} | malware engines (m) add at most 50% to the walk (c) | +{:.0}% | {} |",
                (cost - 1.0) * 100.0,
                verdict(cost <= MAX_MALWARE_COST)
            );
        }
        if let Some(cost) = variant.cost_over_walk(RunKind::StowawaySecrets) {
            let _ = writeln!(
                md,
                "| {name} | the secret scanner (x) adds at most 30% to the walk (c) | +{:.0}% | {} |",
                (cost - 1.0) * 100.0,
                verdict(cost <= MAX_SECRETS_COST)
            );
        }
        let rss = variant.child.peak_rss_kib / 1024;
        let _ = writeln!(
            md,
            "| {name} | peak RSS of the scan < {MAX_RSS_MIB} MiB | {rss} MiB | {} |",
            verdict(rss < MAX_RSS_MIB)
        );
    }
    md.push('\n');

    for variant in variants {
        let image = &variant.image;
        let _ = writeln!(
            md,
            "## {} layer{}\n",
            image.layers,
            if image.layers == 1 { "" } else { "s" }
        );
        let _ = writeln!(
            md,
            "{} files, {} uncompressed in {} gzip layer{} of {} ({:.2}:1), archive {}; {}.\n",
            image.files,
            mib(image.tar_bytes),
            image.layers,
            if image.layers == 1 { "" } else { "s" },
            mib(image.blob_bytes),
            image.tar_bytes as f64 / image.blob_bytes.max(1) as f64,
            mib(image.archive_bytes),
            match image.generated_in {
                Some(d) => format!("generated in {:.1} s", d.as_secs_f64()),
                None => "an existing archive, reused".into(),
            }
        );
        let _ = writeln!(
            md,
            "| run | what | wall s (median) | min–max | MiB/s | CPU s | CPU/wall | speed vs (a) |"
        );
        let _ = writeln!(md, "|---|---|---:|---:|---:|---:|---:|---:|");
        for row in &variant.rows {
            let (min, max) = row.range();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {}–{} | {:.0} | {} | {:.2} | {} |",
                row.kind.label(),
                row.what,
                secs(row.wall()),
                secs(min),
                secs(max),
                variant.rate(row),
                secs(row.cpu()),
                row.cpu().as_secs_f64() / row.wall().as_secs_f64().max(1e-9),
                variant
                    .ratio(row.kind)
                    .map_or("-".into(), |r| format!("{r:.2}×")),
            );
        }
        if let Some(reason) = &variant.shell_skipped {
            let _ = writeln!(md, "| (b) | skipped: {reason} | | | | | | |");
        }
        for (label, reason) in &variant.tools_skipped {
            let _ = writeln!(md, "| {label} | skipped: {reason} | | | | | | |");
        }
        let child = &variant.child;
        let _ = writeln!(
            md,
            "\nPeak RSS of the scan alone (a child process running only (c), `VmHWM`): **{} MiB** \
             (that run: {} s wall, {} s CPU, {} files hashed).\n",
            child.peak_rss_kib / 1024,
            secs(child.sample.wall),
            secs(child.sample.cpu),
            child.files,
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(wall: f64, cpu: f64) -> Sample {
        Sample {
            wall: Duration::from_secs_f64(wall),
            cpu: Duration::from_secs_f64(cpu),
        }
    }

    #[test]
    fn ratios_are_against_the_inflate_median() {
        let variant = Variant {
            image: ImageInfo {
                layers: 1,
                files: 10,
                tar_bytes: 200 << 20,
                blob_bytes: 100 << 20,
                archive_bytes: 100 << 20,
                generated_in: None,
            },
            rows: vec![
                Row {
                    kind: RunKind::Inflate,
                    what: "inflate".into(),
                    samples: vec![sample(1.0, 1.0), sample(3.0, 3.0), sample(2.0, 2.0)],
                },
                Row {
                    kind: RunKind::Stowaway,
                    what: "scan".into(),
                    samples: vec![sample(2.5, 4.0), sample(2.5, 4.0), sample(9.0, 4.0)],
                },
            ],
            child: ChildScan {
                sample: sample(2.5, 4.0),
                peak_rss_kib: 100 << 10,
                files: 10,
            },
            shell_skipped: None,
            tools_skipped: Vec::new(),
        };
        assert_eq!(variant.ratio(RunKind::Stowaway), Some(0.8));
        assert_eq!(variant.ratio(RunKind::ShellTar), None);
        let machine = Machine {
            cores: 2,
            cpu: "test".into(),
            sha_extensions: true,
            kernel: "6".into(),
            memory: "1 GiB".into(),
            load_before: "0.00 0.00 0.00".into(),
            load_after: "0.00 0.00 0.00".into(),
        };
        let md = render("bench", &machine, 3, 6, 1000.0, &[variant]);
        assert!(
            md.contains(
                "| 1 layer | walk + sha256 ≥ 80% of flate2 inflate (1 thread) | 0.80× | **pass** |"
            ),
            "{md}"
        );
        assert!(
            md.contains("| (a) | inflate | 2.00 | 1.00–3.00 | 100 | 2.00 | 1.00 | 1.00× |"),
            "{md}"
        );
        assert!(
            md.contains("| 1 layer | peak RSS of the scan < 300 MiB | 100 MiB | **pass** |"),
            "{md}"
        );
    }

    #[test]
    fn dates_are_civil() {
        let date = today();
        assert_eq!(date.len(), 10);
        assert!(date.starts_with("20"));
    }
}
