//! The runs being compared, each timed by wall clock and CPU time.
//!
//! CPU time is read from `/proc/self/stat` (user + system time of every thread of this process,
//! including threads that have exited, plus that of waited-for children), so no `unsafe` FFI is
//! needed; its resolution is one clock tick (10 ms on Linux), fine for runs of a second or more.
//!
//! Peak memory of a scan is measured in a child process running only the scan (this same binary
//! with `--scan-only`), which reports its own `VmHWM` from `/proc/self/status` before it exits,
//! so the bench's own buffers and earlier runs do not count.

use std::io::{self, BufRead as _, BufReader, Read};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use flate2::read::MultiGzDecoder;
use sha2::{Digest as _, Sha256};
use stowaway_findings::{EntryType, ImageReport, Integrity};
use stowaway_image::{DigestReader, Platform};
use stowaway_scan::analyzers::default_analyzers;
use stowaway_scan::{Analyzer, Input, Limits, NoProgress, ScanOptions};

use crate::image::{LayerSpan, open_span};

const BUF: usize = 256 << 10;

/// CPU time used so far: by this process, and by its waited-for children.
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    own: Duration,
    children: Duration,
}

impl Cpu {
    pub fn now() -> anyhow::Result<Cpu> {
        let stat = std::fs::read_to_string("/proc/self/stat").context("reading /proc/self/stat")?;
        // Fields after the command name (which may contain spaces), from field 3 (`state`) on.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            bail!("/proc/self/stat: unexpected format");
        };
        let fields: Vec<u64> = rest
            .split_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        // utime, stime, cutime, cstime are fields 14 to 17 (counting from 1).
        let Some(ticks) = fields.get(10..14) else {
            bail!("/proc/self/stat: too few fields");
        };
        let tick = |t: u64| Duration::from_secs_f64(t as f64 / ticks_per_second() as f64);
        Ok(Cpu {
            own: tick(ticks[0] + ticks[1]),
            children: tick(ticks[2] + ticks[3]),
        })
    }

    fn since(self, start: Cpu) -> Duration {
        (self.own + self.children).saturating_sub(start.own + start.children)
    }
}

fn ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .filter(|&t| t > 0)
            .unwrap_or(100)
    })
}

/// One timed run.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub wall: Duration,
    pub cpu: Duration,
}

/// Times `run`, which returns how many uncompressed bytes it processed.
pub fn timed(run: impl FnOnce() -> anyhow::Result<u64>) -> anyhow::Result<(Sample, u64)> {
    let cpu = Cpu::now()?;
    let start = Instant::now();
    let bytes = run()?;
    let wall = start.elapsed();
    let cpu = Cpu::now()?.since(cpu);
    Ok((Sample { wall, cpu }, bytes))
}

/// Reads `reader` to the end into a scratch buffer; returns how many bytes that was.
fn drain(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<u64> {
    let mut total = 0;
    loop {
        match reader.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => total += n as u64,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn decoder(archive: &Path, span: &LayerSpan) -> anyhow::Result<MultiGzDecoder<impl Read>> {
    Ok(MultiGzDecoder::new(BufReader::with_capacity(
        BUF,
        open_span(archive, span)?,
    )))
}

/// Reads the whole archive once, so that every run finds it in the page cache.
pub fn warm_cache(archive: &Path) -> anyhow::Result<u64> {
    let mut file = std::fs::File::open(archive)?;
    Ok(drain(&mut file, &mut vec![0; 1 << 20])?)
}

/// (a) Inflates every layer with flate2 on this thread, discarding the output.
pub fn inflate(archive: &Path, layers: &[LayerSpan]) -> anyhow::Result<u64> {
    let mut buf = vec![0; BUF];
    let mut total = 0;
    for span in layers {
        total += drain(&mut decoder(archive, span)?, &mut buf)
            .with_context(|| format!("inflating {}", span.name))?;
    }
    Ok(total)
}

/// (a∥) Inflates the layers on `threads` threads, each taking the next layer not yet taken.
pub fn inflate_parallel(
    archive: &Path,
    layers: &[LayerSpan],
    threads: usize,
) -> anyhow::Result<u64> {
    spread(layers, threads, |span, buf| {
        Ok(drain(&mut decoder(archive, span)?, buf)?)
    })
}

/// Runs `per_layer` on `threads` threads, each taking the next layer not yet taken, with a
/// scratch buffer of its own; returns the sum of what it returned.
fn spread(
    layers: &[LayerSpan],
    threads: usize,
    per_layer: impl Fn(&LayerSpan, &mut [u8]) -> anyhow::Result<u64> + Sync,
) -> anyhow::Result<u64> {
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads.clamp(1, layers.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut buf = vec![0; BUF];
                    let mut total = 0;
                    while let Some(span) = layers.get(next.fetch_add(1, Ordering::Relaxed)) {
                        total += per_layer(span, &mut buf)
                            .with_context(|| format!("reading {}", span.name))?;
                    }
                    Ok::<u64, anyhow::Error>(total)
                })
            })
            .collect();
        let mut total = 0;
        for worker in workers {
            total += worker
                .join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("a layer thread panicked")))?;
        }
        Ok(total)
    })
}

/// The physical floor of any `docker save` archive: each layer blob read from its place in the
/// archive, inflated with flate2 when it is gzip, and (with `hash`) every uncompressed byte
/// sha256-hashed; layers spread over `threads` threads as in [`inflate_parallel`]. Returns the
/// uncompressed bytes.
pub fn floor(
    archive: &Path,
    layers: &[LayerSpan],
    threads: usize,
    hash: bool,
) -> anyhow::Result<u64> {
    spread(layers, threads, |span, buf| {
        let mut blob = BufReader::with_capacity(BUF, open_span(archive, span)?);
        let gzip = blob.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let mut reader: Box<dyn Read> = if gzip {
            Box::new(MultiGzDecoder::new(blob))
        } else {
            Box::new(blob)
        };
        if hash {
            Ok(DigestReader::new(reader).finish()?.1)
        } else {
            Ok(drain(&mut reader, buf)?)
        }
    })
}

/// Counts the bytes read through it.
struct Counted<R> {
    inner: R,
    bytes: u64,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

/// (a+) What a plain sequential walker does: inflate each layer, parse the tar and sha256 every
/// regular file, all on this thread.
pub fn walk_sequential(archive: &Path, layers: &[LayerSpan]) -> anyhow::Result<u64> {
    let mut buf = vec![0; BUF];
    let mut total = 0;
    for span in layers {
        let mut counted = Counted {
            inner: decoder(archive, span)?,
            bytes: 0,
        };
        let mut tar = tar::Archive::new(&mut counted);
        for entry in tar.entries()? {
            let mut entry = entry?;
            if !entry.header().entry_type().is_file() {
                continue;
            }
            let mut hasher = Sha256::new();
            loop {
                match entry.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => hasher.update(&buf[..n]),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            }
            std::hint::black_box(hasher.finalize());
        }
        drain(&mut counted, &mut buf)?;
        total += counted.bytes;
    }
    Ok(total)
}

/// Whether `tar` and `sha256sum` can be run.
pub fn have_shell_tools() -> bool {
    ["tar", "sha256sum"].iter().all(|tool| {
        Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// (b) `tar -xzOf - | sha256sum` per layer, one after the other; the blob is piped to `tar` from
/// its place in the archive. Returns 0: the tools do not say how many bytes they inflated.
pub fn shell_tar_sha256sum(archive: &Path, layers: &[LayerSpan]) -> anyhow::Result<u64> {
    for span in layers {
        let mut tar = Command::new("tar")
            .args(["-xzOf", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .context("running tar")?;
        let (Some(mut stdin), Some(stdout)) = (tar.stdin.take(), tar.stdout.take()) else {
            bail!("tar: no pipes");
        };
        let sum = Command::new("sha256sum")
            .stdin(Stdio::from(stdout))
            .stdout(Stdio::null())
            .spawn()
            .context("running sha256sum")?;
        let mut blob = open_span(archive, span)?;
        let copied = std::thread::scope(|scope| {
            let feeder = scope.spawn(move || io::copy(&mut blob, &mut stdin));
            feeder
                .join()
                .unwrap_or_else(|_| Err(io::Error::other("the feeding thread panicked")))
        });
        let tar_status = tar.wait()?;
        let sum_status = sum.wait_with_output()?.status;
        copied.with_context(|| format!("piping {} to tar", span.name))?;
        if !tar_status.success() || !sum_status.success() {
            bail!(
                "tar -xzOf - | sha256sum failed on {}: {tar_status}, {sum_status}",
                span.name
            );
        }
    }
    Ok(0)
}

/// What a scan found, to check it did the whole job.
#[derive(Debug, Clone, Copy)]
pub struct ScanSummary {
    pub files: usize,
    pub uncompressed: u64,
}

/// (c) The stowaway scan as the CLI runs it: default analyzers and limits, no progress.
pub fn stowaway_scan(archive: &Path, layers: usize) -> anyhow::Result<ScanSummary> {
    stowaway_scan_with(archive, layers, &default_analyzers())
}

/// The stowaway scan with `analyzers`, default limits, no progress.
pub fn stowaway_scan_with(
    archive: &Path,
    layers: usize,
    analyzers: &[Box<dyn Analyzer>],
) -> anyhow::Result<ScanSummary> {
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::host(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let reports = stowaway_scan::scan(&Input::Path(archive.to_path_buf()), analyzers, &options)?;
    check(&reports, layers)
}

fn check(reports: &[ImageReport], layers: usize) -> anyhow::Result<ScanSummary> {
    let [report] = reports else {
        bail!("expected one image, the scan found {}", reports.len());
    };
    if report.layers.len() != layers {
        bail!(
            "expected {layers} layers, the scan found {}",
            report.layers.len()
        );
    }
    if let Some(layer) = report
        .layers
        .iter()
        .find(|l| l.integrity != Integrity::Verified)
    {
        bail!(
            "layer {} is not verified: {:?}",
            layer.index,
            layer.integrity
        );
    }
    if report
        .inventory
        .iter()
        .any(|e| e.entry_type == EntryType::File && e.sha256.is_none())
    {
        bail!("a file has no sha256 in the inventory");
    }
    Ok(ScanSummary {
        files: report
            .inventory
            .iter()
            .filter(|e| e.entry_type == EntryType::File)
            .count(),
        uncompressed: report.layers.iter().map(|l| l.uncompressed_size).sum(),
    })
}

/// What the `--scan-only` child reports.
#[derive(Debug, Clone, Copy)]
pub struct ChildScan {
    pub sample: Sample,
    pub peak_rss_kib: u64,
    pub files: usize,
}

/// The child's side: scans, then prints `key=value` pairs on one line.
pub fn scan_only(archive: &Path, layers: usize) -> anyhow::Result<()> {
    let mut summary = None;
    let (sample, _) = timed(|| {
        let scan = stowaway_scan(archive, layers)?;
        summary = Some(scan);
        Ok(scan.uncompressed)
    })?;
    let status = std::fs::read_to_string("/proc/self/status").context("/proc/self/status")?;
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .context("no VmHWM in /proc/self/status")?;
    println!(
        "wall_s={} cpu_s={} vm_hwm_kib={hwm} files={}",
        sample.wall.as_secs_f64(),
        sample.cpu.as_secs_f64(),
        summary.map_or(0, |s| s.files)
    );
    Ok(())
}

/// The parent's side: runs the scan in a child and reads its report.
pub fn scan_in_child(archive: &Path, layers: usize) -> anyhow::Result<ChildScan> {
    let exe = std::env::current_exe().context("locating this executable")?;
    let out = Command::new(exe)
        .arg("--scan-only")
        .arg(archive)
        .args(["--layers", &layers.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("running the scan in a child process")?;
    if !out.status.success() {
        bail!("the child scan failed: {}", out.status);
    }
    let line = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| -> anyhow::Result<f64> {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("the child's report has no {key}: {line}"))
    };
    Ok(ChildScan {
        sample: Sample {
            wall: Duration::from_secs_f64(field("wall_s")?),
            cpu: Duration::from_secs_f64(field("cpu_s")?),
        },
        peak_rss_kib: field("vm_hwm_kib")? as u64,
        files: field("files")? as usize,
    })
}

/// SHA-256 of bytes already in memory, one thread: the cost of hashing alone.
pub fn sha256_in_memory(bytes: u64) -> anyhow::Result<u64> {
    let block = vec![0x5au8; 16 << 20];
    let mut hasher = Sha256::new();
    let mut done = 0;
    while done < bytes {
        hasher.update(&block);
        done += block.len() as u64;
    }
    std::hint::black_box(hasher.finalize());
    Ok(done)
}

/// The median of some durations (the mean of the middle two for an even count).
pub fn median(values: &[Duration]) -> Duration {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => Duration::ZERO,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2,
    }
}
