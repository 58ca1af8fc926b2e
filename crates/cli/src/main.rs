//! The `stowaway` command. It parses arguments, shows progress, renders the report and maps
//! the outcome to an exit code: 0 when no finding matches `--fail-on`, 1 when one does, 2 on
//! any error. Everything else lives in the library crates.

mod progress;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use stowaway_findings::{AnalyzerInfo, FailOn, Report, SCHEMA_VERSION, Tool};
use stowaway_image::Platform;
use stowaway_malware::{Clamd, ClamdAddr, HashReputation, Heuristics, YaraEngine};
use stowaway_scan::{Input, Limits, ScanOptions, analyzers::default_analyzers};

#[derive(Parser)]
#[command(
    name = "stowaway",
    version,
    about = "Zero-trust security scanner for container images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan an image: a `docker save` archive, an OCI layout (directory or tar), `-` for an
    /// archive on stdin, or a root filesystem with --rootfs.
    Scan(ScanArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
}

#[derive(Args)]
struct ScanArgs {
    /// The image archive or OCI layout; `-` reads an archive from stdin.
    #[arg(required_unless_present = "rootfs", conflicts_with = "rootfs")]
    image: Option<String>,
    /// Scan a root filesystem directory as one layer.
    #[arg(long, value_name = "DIR")]
    rootfs: Option<PathBuf>,
    /// Only the image with this tag, when the archive holds several.
    #[arg(long = "image", value_name = "NAME:TAG")]
    image_tag: Option<String>,
    /// Platform to take from a multi-platform OCI index (default: this machine's).
    #[arg(long, value_name = "OS/ARCH[/VARIANT]", value_parser = Platform::parse)]
    platform: Option<Platform>,
    /// Report format.
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Write the report to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit with 1 when a finding matches: severities (`high` = high or worse), kinds
    /// (malware, pua, vuln, secret, config, typosquat, integrity, suspicious, engine) or KIND:SEVERITY.
    #[arg(long, default_value = "high", value_name = "LIST")]
    fail_on: FailOn,
    /// Do not match the YARA-X rules at all (bundled and --rules).
    #[arg(long)]
    no_yara: bool,
    /// Leave out the bundled YARA rules (use only --rules).
    #[arg(long)]
    no_bundled_rules: bool,
    /// A directory of YARA rules (.yar, .yara) to match too. Repeatable.
    #[arg(long = "rules", value_name = "DIR")]
    rules: Vec<PathBuf>,
    /// A rule file that does not compile is an error, instead of a warning.
    #[arg(long)]
    strict_rules: bool,
    /// Turn off the heuristics engine (packed executables, kernel-thread names, disguised
    /// executables, setuid files).
    #[arg(long)]
    no_heuristics: bool,
    /// Neither read nor write the cache (compiled rules) in $STOWAWAY_CACHE_DIR, else
    /// $XDG_CACHE_HOME/stowaway, else ~/.cache/stowaway.
    #[arg(long)]
    no_cache: bool,
    /// Known-bad file hashes: ClamAV databases (.cvd, .cld, .hdb, .hsb, .hdu, .hsu) or plain
    /// `HASH [NAME]` lists (MD5, SHA-1 or SHA-256; `sha256sum` output works). Repeatable.
    #[arg(long = "hashes", value_name = "FILE")]
    hashes: Vec<PathBuf>,
    /// Scan every file with ClamAV through a running clamd: unix:PATH (or a socket path),
    /// tcp:HOST:PORT (or HOST:PORT). A file clamd cannot scan is an `engine` finding (high).
    #[arg(long, value_name = "ADDR")]
    clamd: Option<ClamdAddr>,
    /// Seconds to wait for clamd on one file.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    clamd_timeout: u64,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Args)]
#[command(next_help_heading = "Bounds")]
struct LimitArgs {
    /// Uncompressed bytes one layer may expand to (beyond: error).
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_layer_bytes)]
    max_layer_bytes: u64,
    /// Entries (files, directories, links) one layer may have (beyond: error).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_layer_entries)]
    max_layer_entries: u64,
    /// Expansion ratio allowed for layers and archive members (decompression bombs).
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_ratio)]
    max_ratio: u64,
    /// Uncompressed bytes of one member of an archive inside the image.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_member_bytes)]
    max_member_bytes: u64,
    /// Bytes expanded from archives inside the image, over the whole scan.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_nested_bytes)]
    max_nested_bytes: u64,
    /// Entries read from one archive inside the image.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_entries)]
    max_entries: u64,
    /// How deep archives within archives are opened.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth)]
    max_depth: usize,
    /// Bytes of one file held in memory for analysis.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_in_memory)]
    max_in_memory: usize,
}

impl LimitArgs {
    fn limits(&self) -> Limits {
        Limits {
            max_layer_bytes: self.max_layer_bytes,
            max_layer_entries: self.max_layer_entries,
            max_ratio: self.max_ratio,
            max_member_bytes: self.max_member_bytes,
            max_nested_bytes: self.max_nested_bytes,
            max_entries: self.max_entries,
            max_depth: self.max_depth,
            max_in_memory: self.max_in_memory,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => scan(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("stowaway: error: {error:#}");
            ExitCode::from(2)
        }
    }
}

/// Where stowaway keeps what it can rebuild: `$STOWAWAY_CACHE_DIR`, `$XDG_CACHE_HOME/stowaway`
/// or `~/.cache/stowaway`.
fn cache_dir() -> Option<PathBuf> {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("STOWAWAY_CACHE_DIR")
        .or_else(|| var("XDG_CACHE_HOME").map(|d| d.join("stowaway")))
        .or_else(|| var("HOME").map(|d| d.join(".cache/stowaway")))
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let (input, input_name) = match (&args.rootfs, args.image.as_deref()) {
        (Some(dir), _) => (Input::Rootfs(dir.clone()), dir.display().to_string()),
        (None, Some("-")) => (Input::Stdin, "-".to_string()),
        (None, Some(path)) => (Input::Path(PathBuf::from(path)), path.to_string()),
        (None, None) => {
            anyhow::bail!("nothing to scan: give an image archive, `-`, or --rootfs DIR")
        }
    };
    let progress = progress::Bar::new(!args.quiet && std::io::stderr().is_terminal());
    let options = ScanOptions {
        limits: args.limits.limits(),
        platform: args.platform.clone().unwrap_or_else(Platform::host),
        image: args.image_tag.clone(),
        progress: &progress,
    };
    let mut analyzers = default_analyzers();
    let cache = (!args.no_cache).then(cache_dir).flatten();
    if !args.no_yara {
        let (engine, problems) = YaraEngine::compile(
            !args.no_bundled_rules,
            &args.rules,
            args.strict_rules,
            cache.as_deref(),
        )?;
        for problem in problems {
            eprintln!("stowaway: warning: rule skipped: {problem}");
        }
        analyzers.push(Box::new(engine));
    }
    if !args.no_heuristics {
        analyzers.push(Box::new(Heuristics));
    }
    if !args.hashes.is_empty() {
        analyzers.push(Box::new(HashReputation::load(&args.hashes)?));
    }
    if let Some(addr) = &args.clamd {
        let timeout = std::time::Duration::from_secs(args.clamd_timeout);
        analyzers.push(Box::new(Clamd::new(addr.clone(), timeout)));
    }
    let images = stowaway_scan::scan(&input, &analyzers, &options);
    progress.finish();
    let report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: Tool {
            name: "stowaway".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        input: input_name,
        analyzers: analyzers
            .iter()
            .map(|a| AnalyzerInfo {
                id: a.id().to_string(),
                version: a.version(),
                definitions: a.definitions(),
            })
            .collect(),
        images: images?,
    };

    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let color = to_terminal && std::env::var_os("NO_COLOR").is_none();
    let render = |out: &mut dyn Write| match args.format {
        Format::Table => out.write_all(stowaway_report::table(&report, color).as_bytes()),
        // Written as it is serialised: an inventory can be large.
        Format::Json => stowaway_report::write_json(&report, out),
    };
    match &args.output {
        Some(path) => {
            let written = std::fs::File::create(path).and_then(|file| {
                let mut out = std::io::BufWriter::new(file);
                render(&mut out)?;
                out.flush()
            });
            written.with_context(|| format!("writing the report to {}", path.display()))?;
        }
        None => {
            let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
            // A closed pipe (`| head`) is not an error of the scan.
            let _ = render(&mut stdout).and_then(|()| stdout.flush());
        }
    }

    let blocking: Vec<_> = report
        .images
        .iter()
        .flat_map(|image| image.findings.iter())
        .filter(|finding| args.fail_on.matches(finding))
        .collect();
    let total: usize = report.images.iter().map(|i| i.findings.len()).sum();
    if blocking.is_empty() {
        eprintln!("stowaway: passed: {total} findings, none matches --fail-on");
        Ok(ExitCode::SUCCESS)
    } else {
        let mut ids: Vec<&str> = blocking.iter().map(|f| f.id.as_str()).collect();
        ids.dedup();
        eprintln!(
            "stowaway: failed: {} of {total} findings match --fail-on ({})",
            blocking.len(),
            ids.join(", ")
        );
        Ok(ExitCode::from(1))
    }
}
