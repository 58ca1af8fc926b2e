//! The `stowaway` command. It parses arguments, shows progress, renders the report and maps
//! the outcome to an exit code: 0 when no finding matches `--fail-on`, 1 when one does, 2 on
//! any error. Everything else lives in the library crates.

mod progress;
mod remote;
mod write_behind;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use stowaway_findings::{AnalyzerInfo, Report, SCHEMA_VERSION, Tool, VulnerabilityDatabase};
use stowaway_image::Platform;
use stowaway_lint::{Accounts, Enabled, Names, check_and_redact};
use stowaway_malware::{Clamd, ClamdAddr, HashReputation, Heuristics, YaraEngine};
use stowaway_policy::{CliSettings, Date, Policy};
use stowaway_registry::{PullOptions, Pulled, looks_like_reference, pull};
use stowaway_scan::{
    Analyzer, Input, LayerCache, Limits, ScanOptions, analyzers::default_analyzers,
};
use stowaway_secrets::{SecretScanner, SecretsAnalyzer, SecretsConfig};
use stowaway_typosquat::{ImageNames, bundled_official_images, parse_list};
use stowaway_vulndb::{Database, MatchOptions, UpdateOutcome, check_report, not_checked};
use write_behind::write_behind;

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
    Scan(Box<ScanArgs>),
    /// List the packages installed in an image (OS and language packages, with PURLs), as
    /// CycloneDX or SPDX JSON, a table, or the JSON report.
    Sbom(Box<SbomArgs>),
    /// The offline vulnerability database (OSV records).
    #[command(subcommand)]
    Db(DbCommand),
    /// Run the scan service: CI jobs submit image archives over a REST API (`POST
    /// /api/v1/scans`), a queue of workers scans them, results and report pages stay in
    /// --data-dir.
    Serve(ServeArgs),
    /// Run scans for a service whose nodes share a PostgreSQL database (--database) and a data
    /// directory: a worker takes queued scans, serves no HTTP.
    Worker(NodeArgs),
    /// The cache of layer walks (see `scan --no-cache`).
    #[command(subcommand)]
    Cache(CacheCommand),
}

#[derive(Subcommand)]
enum CacheCommand {
    /// Remove every cached layer walk.
    Clean,
}

fn cache(command: CacheCommand) -> anyhow::Result<ExitCode> {
    match command {
        CacheCommand::Clean => {
            let dir = cache_dir()
                .context("no cache directory: set STOWAWAY_CACHE_DIR")?
                .join("layers");
            let cleaned = LayerCache::clean(&dir)?;
            eprintln!(
                "stowaway: removed {} cached layers ({} bytes) from {}",
                cleaned.layers,
                cleaned.bytes,
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    node: NodeArgs,
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8008")]
    listen: std::net::SocketAddr,
    /// Create an API key with this name, print it (only now: it is stored hashed) and exit.
    #[arg(long, value_name = "NAME")]
    create_key: Option<String>,
    /// With --create-key: the key may also manage keys (`/api/v1/admin/keys`).
    #[arg(long, requires = "create_key")]
    admin: bool,
    /// Scans that may wait; beyond, submissions get 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 100)]
    queue_limit: usize,
    /// Bytes an uploaded archive may have; beyond, 413.
    #[arg(long, value_name = "BYTES", default_value_t = 2 << 30)]
    max_upload_bytes: u64,
    /// Serve without API keys (for local use only).
    #[arg(long)]
    no_api_keys: bool,
    /// Result pages (`/scans/ID`) need an API key too. By default a page is open to whoever
    /// has its link, whose 128-bit random id is the secret, so CI logs can link to it.
    #[arg(long)]
    private_pages: bool,
    /// Requests per minute per API key on this node (0: no limit).
    #[arg(long, value_name = "N", default_value_t = 600)]
    rate_limit: u32,
    /// Keep uploaded archives after their scan (default: deleted once the result is stored).
    #[arg(long)]
    retain_uploads: bool,
}

/// What every node of the service has: `serve` (API and workers) and `worker` (workers only).
#[derive(Args)]
struct NodeArgs {
    /// Where the service keeps its uploads and caches, and the SQLite database; with
    /// PostgreSQL, a directory every node shares (uploads written by one are scanned by another).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
    /// A PostgreSQL database shared by several nodes (`postgres://user@host:5432/db`);
    /// default: SQLite in --data-dir.
    #[arg(
        long,
        value_name = "URL",
        env = "STOWAWAY_DATABASE",
        hide_env_values = true
    )]
    database: Option<String>,
    /// Scans run at once on this node.
    #[arg(long, value_name = "N", default_value_t = 2)]
    workers: usize,
    /// Match vulnerabilities against the database in this directory (default: none).
    #[arg(long, value_name = "DIR")]
    db_dir: Option<PathBuf>,
    /// Seconds a worker holds a scan without renewing its lease; a dead worker's scan is taken
    /// again after this.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    lease: u64,
    /// A registry (`host:port`) to pull registry references from over plain http; repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    insecure_registries: Vec<String>,
}

impl NodeArgs {
    fn config(self) -> stowaway_server::ServerConfig {
        let mut config = stowaway_server::ServerConfig::new(self.data_dir);
        config.database = self.database;
        config.workers = self.workers;
        config.vuln_db_dir = self.db_dir;
        config.lease = std::time::Duration::from_secs(self.lease.max(1));
        config.insecure_registries = self.insecure_registries;
        config
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(name) = &args.create_key {
        let key = stowaway_server::create_key(
            &args.node.data_dir,
            args.node.database.as_deref(),
            name,
            args.admin,
        )?;
        println!("{key}");
        return Ok(ExitCode::SUCCESS);
    }
    let mut config = args.node.config();
    config.listen = Some(args.listen);
    config.queue_limit = args.queue_limit;
    config.max_upload_bytes = args.max_upload_bytes;
    config.api_keys_required = !args.no_api_keys;
    config.public_pages = !args.private_pages;
    config.rate_limit_per_minute = args.rate_limit;
    config.retain_uploads = args.retain_uploads;
    let server = stowaway_server::Server::start(config)?;
    if let Some(addr) = server.addr() {
        eprintln!("stowaway: serving on http://{addr}");
    }
    server.wait();
    Ok(ExitCode::SUCCESS)
}

fn worker(args: NodeArgs) -> anyhow::Result<ExitCode> {
    anyhow::ensure!(
        args.database.is_some(),
        "a worker takes scans from a shared PostgreSQL database: give --database postgres://… (one machine needs no worker: `stowaway serve` runs its own)"
    );
    let mut config = args.config();
    config.listen = None;
    let workers = config.workers;
    let node = stowaway_server::Server::start(config)?;
    eprintln!("stowaway: worker node running {workers} scans at once");
    node.wait();
    Ok(ExitCode::SUCCESS)
}

#[derive(Subcommand)]
enum DbCommand {
    /// Import OSV records: osv.dev's `<Ecosystem>/all.zip` files, directories of OSV JSON
    /// files, or single files. One transaction: a failed import changes nothing.
    Import {
        #[command(flatten)]
        db: DbDirArg,
        /// Zips, directories or JSON files.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
    },
    /// Download each ecosystem's `all.zip` from osv.dev (or a mirror) when it changed, and swap
    /// the new database in atomically: a failed update leaves the previous one usable.
    Update {
        #[command(flatten)]
        db: DbDirArg,
        /// Base URL serving `<Ecosystem>/all.zip`, http or https (default: $STOWAWAY_DB_MIRROR,
        /// else osv.dev's bucket).
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
        /// An ecosystem to update, as the URL names it (`PyPI`, `crates.io`, `Debian:12`);
        /// repeatable. Default: those updated last time, else those in the database, else
        /// PyPI, npm, Go, crates.io, Maven, RubyGems, Packagist, NuGet, Debian, Alpine, Ubuntu.
        #[arg(long = "ecosystem", value_name = "NAME")]
        ecosystems: Vec<String>,
    },
    /// Sources, records per ecosystem, last update and schema version.
    Info {
        #[command(flatten)]
        db: DbDirArg,
    },
}

#[derive(Args)]
struct DbDirArg {
    /// The database directory (default: $STOWAWAY_DB_DIR, else the cache directory's `db`).
    #[arg(long, value_name = "DIR")]
    db_dir: Option<PathBuf>,
}

impl DbDirArg {
    fn dir(&self) -> anyhow::Result<PathBuf> {
        self.db_dir
            .clone()
            .or_else(|| {
                std::env::var_os("STOWAWAY_DB_DIR")
                    .filter(|v| !v.is_empty())
                    .map(PathBuf::from)
            })
            .or_else(|| cache_dir().map(|dir| dir.join("db")))
            .context("no database directory: give --db-dir or set STOWAWAY_DB_DIR")
    }
}

/// A report format of `scan`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// The terminal table.
    Table,
    /// The full JSON report (docs/report.md).
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards and Jenkins' Warnings NG.
    Sarif,
    /// JUnit XML: one test case per finding, failures for blocking ones.
    Junit,
    /// A self-contained HTML page with filters.
    Html,
    /// CycloneDX 1.6: the SBOM with its vulnerabilities and their VEX analysis.
    Cyclonedx,
    /// GitLab's container-scanning report.
    Gitlab,
}

/// One report to write: a format, and the file it goes to (stdout or --output when none).
#[derive(Clone)]
struct ReportOutput {
    format: Format,
    file: Option<PathBuf>,
}

fn parse_report_output(spec: &str) -> Result<ReportOutput, String> {
    let (name, file) = match spec.split_once('=') {
        Some((_, "")) => return Err(format!("'{spec}': no file after '='")),
        Some((name, file)) => (name, Some(PathBuf::from(file))),
        None => (spec, None),
    };
    let format = Format::from_str(name.trim(), true).map_err(|_| {
        format!("'{name}' is not a format (table, json, sarif, junit, html, cyclonedx, gitlab)")
    })?;
    Ok(ReportOutput { format, file })
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SbomFormat {
    /// CycloneDX 1.6 JSON.
    #[value(name = "cyclonedx-json")]
    CyclonedxJson,
    /// SPDX 2.3 JSON.
    #[value(name = "spdx-json")]
    SpdxJson,
    /// A table of the packages.
    Table,
    /// The stowaway JSON report (packages with their layers, including removed ones).
    Json,
}

impl SbomFormat {
    /// The format a file name asks for: `*.spdx.json` is SPDX, anything else CycloneDX.
    fn for_file(path: &std::path::Path) -> SbomFormat {
        match path.to_string_lossy().ends_with(".spdx.json") {
            true => SbomFormat::SpdxJson,
            false => SbomFormat::CyclonedxJson,
        }
    }
}

#[derive(Args)]
struct SbomArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "cyclonedx-json")]
    format: SbomFormat,
    /// Write to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

/// What to scan, shared by `scan` and `sbom`.
#[derive(Args)]
struct InputArgs {
    /// The image archive or OCI layout; `-` reads an archive from stdin; a registry reference
    /// (`registry.example.com/ns/app:tag`, `alpine@sha256:...`) is pulled when no such file exists.
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
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    registry: RegistryArgs,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Args)]
#[command(next_help_heading = "Registry")]
struct RegistryArgs {
    /// User name for the registry (with --registry-password-stdin or
    /// $STOWAWAY_REGISTRY_PASSWORD); default: the credentials of ~/.docker/config.json.
    #[arg(long, value_name = "USER")]
    registry_username: Option<String>,
    /// Read the registry password from stdin (never give it as an argument).
    #[arg(long, requires = "registry_username")]
    registry_password_stdin: bool,
    /// A registry host (`HOST[:PORT]`) to reach over plain http; loopback hosts always may.
    /// Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    insecure_registries: Vec<String>,
    /// The Docker config whose `auths` hold registry credentials (default:
    /// $DOCKER_CONFIG/config.json, else ~/.docker/config.json).
    #[arg(long, value_name = "FILE")]
    docker_config: Option<PathBuf>,
}

impl RegistryArgs {
    fn credentials(&self) -> anyhow::Result<Option<(String, String)>> {
        let Some(user) = &self.registry_username else {
            return Ok(None);
        };
        let password = if self.registry_password_stdin {
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the registry password from stdin")?;
            password.trim_end_matches(['\r', '\n']).to_string()
        } else {
            std::env::var("STOWAWAY_REGISTRY_PASSWORD").context(
                "--registry-username needs a password: --registry-password-stdin or $STOWAWAY_REGISTRY_PASSWORD",
            )?
        };
        Ok(Some((user.clone(), password)))
    }
}

#[derive(Args)]
struct ScanArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Report formats, comma-separated or repeated, each FORMAT or FORMAT=FILE: table, json,
    /// sarif, junit, html, cyclonedx (the SBOM with its vulnerabilities, as VEX), gitlab
    /// (GitLab's container-scanning report). One format may go to stdout (or --output).
    #[arg(
        long = "format",
        value_name = "LIST",
        value_delimiter = ',',
        default_value = "table",
        value_parser = parse_report_output
    )]
    formats: Vec<ReportOutput>,
    /// Write the report whose format names no file to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Also write the SBOM of the image to FILE: SPDX JSON when the name ends in `.spdx.json`,
    /// else CycloneDX JSON (or as --sbom-format says).
    #[arg(long, value_name = "FILE")]
    sbom_out: Option<PathBuf>,
    /// Format of --sbom-out.
    #[arg(long, value_enum, requires = "sbom_out")]
    sbom_format: Option<SbomFormat>,
    #[command(flatten)]
    policy: PolicyArgs,
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
    /// executables).
    #[arg(long)]
    no_heuristics: bool,
    /// Neither read nor write the cache (compiled rules, and each layer's walk keyed by its
    /// digest and the analyzers' versions) in $STOWAWAY_CACHE_DIR, else
    /// $XDG_CACHE_HOME/stowaway, else ~/.cache/stowaway.
    #[arg(long)]
    no_cache: bool,
    /// Bytes the layer cache may hold; beyond, the least recently used layers are evicted.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    cache_max_bytes: u64,
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
    #[command(flatten)]
    vulns: VulnArgs,
    #[command(flatten)]
    checks: CheckArgs,
    #[command(flatten)]
    remote: remote::RemoteArgs,
}

#[derive(Args)]
#[command(next_help_heading = "Policy")]
struct PolicyArgs {
    /// Exit with 1 when a finding matches: severities (`high` = high or worse), kinds
    /// (malware, pua, vuln, secret, config, typosquat, integrity, suspicious, engine) or
    /// KIND:SEVERITY. Default: the policy file's, else high.
    #[arg(long, value_name = "LIST")]
    fail_on: Option<String>,
    /// The policy file: fail-on, ignore rules with reasons and expiry dates, VEX documents
    /// (default: ./stowaway.yaml when there is one; see docs/policy.md).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// An OpenVEX document: `not_affected` and `fixed` statements suppress the vulnerabilities
    /// they name. Repeatable.
    #[arg(long = "vex", value_name = "FILE")]
    vex: Vec<PathBuf>,
    /// Suppress vulnerabilities that have no fixed version.
    #[arg(long)]
    ignore_unfixed: bool,
    /// Engine failures do not block (by default a file an engine could not scan blocks).
    #[arg(long)]
    allow_engine_failure: bool,
}

impl PolicyArgs {
    fn load(&self) -> anyhow::Result<Policy> {
        let cwd = std::env::current_dir().context("finding the working directory")?;
        let cli = CliSettings {
            fail_on: self.fail_on.clone(),
            ignore_unfixed: self.ignore_unfixed,
            allow_engine_failure: self.allow_engine_failure,
        };
        Ok(Policy::load(self.config.as_deref(), &cli, &self.vex, &cwd)?)
    }
}

/// The stdout destination of `formats` (at most one), checked before the scan.
fn check_outputs(formats: &[ReportOutput], output: Option<&std::path::Path>) -> anyhow::Result<()> {
    let unnamed: Vec<&ReportOutput> = formats.iter().filter(|o| o.file.is_none()).collect();
    if unnamed.len() > 1 {
        anyhow::bail!(
            "--format: {} formats have no file and {}; give the others one (FORMAT=FILE)",
            unnamed.len(),
            if output.is_some() {
                "only one can go to --output"
            } else {
                "only one can go to stdout"
            }
        );
    }
    Ok(())
}

/// Renders `report` in `format`; `time` dates the CycloneDX and GitLab documents.
fn render(
    report: &Report,
    format: Format,
    color: bool,
    time: &str,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => out.write_all(stowaway_report::table(report, color).as_bytes()),
        Format::Json => stowaway_report::write_json(report, out),
        Format::Sarif => stowaway_report::write_sarif(report, out),
        Format::Junit => stowaway_report::write_junit(report, out),
        Format::Html => stowaway_report::write_html(report, out),
        Format::Gitlab => stowaway_report::write_gitlab(report, time, out),
        Format::Cyclonedx => match report.images.as_slice() {
            [image] => stowaway_report::write_cyclonedx_vex(image, &report.tool, time, out),
            images => Err(std::io::Error::other(format!(
                "{} holds {} images; a CycloneDX document describes one: choose it with --image NAME:TAG",
                report.input,
                images.len()
            ))),
        },
    }
}

#[derive(Args)]
#[command(next_help_heading = "Configuration and names")]
struct CheckArgs {
    /// Turn a configuration or name check off by id (`STW-CFG-ROOT-USER`,
    /// `STW-TYPOSQUAT-PACKAGE`, ...; see docs/config-checks.md). Repeatable or comma-separated.
    #[arg(long = "skip-check", value_name = "ID", value_delimiter = ',')]
    skip_checks: Vec<String>,
    /// The name to check for look-alikes of official images, instead of the archive's tags.
    #[arg(long, value_name = "NAME")]
    image_name: Option<String>,
    /// A list of official image names, one a line, used instead of the bundled Docker Hub list.
    #[arg(long, value_name = "FILE")]
    official_images: Option<PathBuf>,
    /// An image, namespace (`bitnami`) or registry path (`ghcr.io/acme/*`) to trust: never
    /// flagged as a look-alike. Repeatable or comma-separated.
    #[arg(long = "trusted-image", value_name = "NAME", value_delimiter = ',')]
    trusted_images: Vec<String>,
    /// Do not look for secrets (credentials, private keys) in files, the config or the history.
    #[arg(long)]
    no_secrets: bool,
    /// Secret rules of your own, allow rules and rules to turn off (YAML; see docs/secrets.md).
    #[arg(long, value_name = "FILE")]
    secret_config: Option<PathBuf>,
    /// Look for secrets in binary files too (by default files with a NUL byte in their first
    /// 8000 bytes are skipped, as git does).
    #[arg(long)]
    secrets_in_binaries: bool,
}

impl CheckArgs {
    fn enabled(&self) -> anyhow::Result<Enabled> {
        Enabled::skipping(&self.skip_checks).map_err(anyhow::Error::msg)
    }

    /// The secret scanner, unless turned off.
    fn secrets(&self) -> anyhow::Result<Option<SecretScanner>> {
        if self.no_secrets {
            return Ok(None);
        }
        Ok(Some(match &self.secret_config {
            Some(path) => SecretScanner::new(&SecretsConfig::load(path)?)?,
            None => SecretScanner::builtin(),
        }))
    }

    fn names(&self) -> anyhow::Result<Names> {
        let mut names = Names::bundled(self.image_name.clone());
        let official = match &self.official_images {
            Some(path) => parse_list(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("reading --official-images {}", path.display()))?,
            ),
            None => bundled_official_images(),
        };
        names.images = ImageNames::new(official, self.trusted_images.clone());
        Ok(names)
    }
}

#[derive(Args)]
#[command(next_help_heading = "Vulnerabilities")]
struct VulnArgs {
    #[command(flatten)]
    db: DbDirArg,
    /// Warn (on stderr and in the report) when the database is older than this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 7)]
    db_max_age: u64,
    /// Do not match packages against the vulnerability database.
    #[arg(long)]
    skip_vulns: bool,
    /// Also match language packages an OS package installed against their upstream
    /// ecosystem's advisories (by default their OS package's advisories decide).
    #[arg(long)]
    match_owned: bool,
    /// Show advisories the distribution rates `unimportant` too.
    #[arg(long)]
    all_vulns: bool,
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
        Command::Scan(args) => scan(*args),
        Command::Sbom(args) => sbom(*args),
        Command::Db(command) => db(command),
        Command::Serve(args) => serve(args),
        Command::Worker(args) => worker(args),
        Command::Cache(command) => cache(command),
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

/// Pulls `reference` into an OCI layout in the cache's registry directory (blobs are kept there,
/// keyed by digest, for the next pull).
fn pull_image(
    reference: &str,
    args: &RegistryArgs,
    platform: &Platform,
    quiet: bool,
) -> anyhow::Result<Pulled> {
    let cache = cache_dir()
        .map(|dir| dir.join("registry"))
        .context("no cache directory for pulled blobs: set STOWAWAY_CACHE_DIR")?;
    std::fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let mut options = PullOptions::new(platform.clone(), cache);
    options.credentials = args.credentials()?;
    options.docker_config = args.docker_config.clone();
    options.insecure = args.insecure_registries.clone();
    if !quiet {
        eprintln!("stowaway: pulling {reference}");
    }
    Ok(pull(reference, &options, &|_| {})?)
}

/// Runs the scanner over the input with these analyzers and gathers the report.
fn run(
    input: &InputArgs,
    analyzers: &[Box<dyn Analyzer>],
    cache: Option<&LayerCache>,
) -> anyhow::Result<Report> {
    let platform = input.platform.clone().unwrap_or_else(Platform::host);
    // Kept until the scan is done: the pulled image's layout lives in it.
    let mut pulled = None;
    let (source, input_name) = match (&input.rootfs, input.image.as_deref()) {
        (Some(dir), _) => (Input::Rootfs(dir.clone()), dir.display().to_string()),
        (None, Some("-")) => (Input::Stdin, "-".to_string()),
        (None, Some(reference))
            if !std::path::Path::new(reference).exists() && looks_like_reference(reference) =>
        {
            let image = pull_image(reference, &input.registry, &platform, input.quiet)?;
            let layout = Input::Path(image.layout.path().to_path_buf());
            let name = image.reference.clone();
            pulled = Some(image);
            (layout, name)
        }
        (None, Some(path)) => (Input::Path(PathBuf::from(path)), path.to_string()),
        (None, None) => {
            anyhow::bail!("nothing to scan: give an image archive, `-`, or --rootfs DIR")
        }
    };
    let progress = progress::Bar::new(!input.quiet && std::io::stderr().is_terminal());
    let options = ScanOptions {
        limits: input.limits.limits(),
        platform,
        image: input.image_tag.clone(),
        progress: &progress,
        cache,
    };
    let images = stowaway_scan::scan(&source, analyzers, &options);
    progress.finish();
    drop(pulled);
    Ok(Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: Tool {
            name: "stowaway".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        },
        input: input_name,
        vulnerability_database: VulnerabilityDatabase {
            checked: false,
            path: None,
            updated: None,
            age_days: None,
            records: 0,
            note: Some("vulnerabilities are matched by `stowaway scan`".into()),
        },
        analyzers: analyzers
            .iter()
            .map(|a| AnalyzerInfo {
                id: a.id().to_string(),
                version: a.version(),
                definitions: a.definitions(),
            })
            .collect(),
        images: images?,
        policy: None,
    })
}

/// Writes with `render` to FILE, or to stdout when there is none (a closed pipe is no error),
/// from a thread of its own while `render` goes on.
fn emit(
    output: Option<&std::path::Path>,
    render: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        Some(path) => {
            let written = std::fs::File::create(path).and_then(|file| write_behind(file, render));
            written.with_context(|| format!("writing {}", path.display()))?;
        }
        None => {
            let _ = write_behind(std::io::stdout(), render);
        }
    }
    Ok(())
}

/// RFC 3339 time of the document: `SOURCE_DATE_EPOCH` when set (reproducible builds), else now.
fn document_time() -> String {
    let now = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|secs| std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .unwrap_or_else(std::time::SystemTime::now);
    humantime::format_rfc3339_seconds(now).to_string()
}

/// Writes the report's SBOM in `format`; CycloneDX and SPDX describe one image.
fn write_sbom(
    report: &Report,
    format: SbomFormat,
    output: Option<&std::path::Path>,
    color: bool,
) -> anyhow::Result<()> {
    let image = match (format, report.images.as_slice()) {
        (SbomFormat::Table | SbomFormat::Json, _) => None,
        (_, [image]) => Some(image),
        (_, images) => {
            let names: Vec<&str> = images.iter().map(|i| i.name.as_str()).collect();
            anyhow::bail!(
                "{} holds {} images ({}); an SBOM document describes one: choose it with --image NAME:TAG",
                report.input,
                images.len(),
                names.join(", ")
            )
        }
    };
    let time = document_time();
    emit(output, |out| match (format, image) {
        (SbomFormat::CyclonedxJson, Some(image)) => {
            stowaway_report::write_cyclonedx(image, &report.tool, &time, out)
        }
        (SbomFormat::SpdxJson, Some(image)) => {
            stowaway_report::write_spdx(image, &report.tool, &time, out)
        }
        (SbomFormat::Table, _) => {
            out.write_all(stowaway_report::packages_table(report, color).as_bytes())
        }
        _ => stowaway_report::write_json(report, out),
    })
}

fn sbom(args: SbomArgs) -> anyhow::Result<ExitCode> {
    let mut analyzers = default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    let report = run(&args.input, &analyzers, None)?;
    let color = args.output.is_none()
        && std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none();
    write_sbom(&report, args.format, args.output.as_deref(), color)?;
    Ok(ExitCode::SUCCESS)
}

/// Matches every image's packages against the vulnerability database, and records in the
/// report what it was matched against — or that it was not, and why.
fn check_vulnerabilities(report: &mut Report, args: &VulnArgs) -> anyhow::Result<()> {
    if args.skip_vulns {
        report.vulnerability_database = not_checked("turned off with --skip-vulns".into());
        return Ok(());
    }
    let options = MatchOptions {
        match_owned: args.match_owned,
        all: args.all_vulns,
    };
    check_report(report, &args.db.dir()?, options, Some(args.db_max_age))?;
    if let Some(note) = &report.vulnerability_database.note {
        eprintln!("stowaway: warning: {note}");
    }
    Ok(())
}

fn db(command: DbCommand) -> anyhow::Result<ExitCode> {
    match command {
        DbCommand::Import { db, paths } => {
            let dir = db.dir()?;
            let mut database = Database::open_for_import(&dir)?;
            let started = std::time::Instant::now();
            let summary = database.import(&paths, &document_time())?;
            for invalid in &summary.invalid {
                eprintln!("stowaway: warning: not an OSV record, skipped: {invalid}");
            }
            eprintln!(
                "stowaway: imported {} records ({} unchanged) into {} in {:.1} s",
                summary.stored,
                summary.unchanged,
                Database::file(&dir).display(),
                started.elapsed().as_secs_f64()
            );
        }
        DbCommand::Update {
            db,
            mirror,
            ecosystems,
        } => {
            let dir = db.dir()?;
            let base = mirror
                .or_else(|| {
                    std::env::var("STOWAWAY_DB_MIRROR")
                        .ok()
                        .filter(|v| !v.is_empty())
                })
                .unwrap_or_else(|| stowaway_vulndb::DEFAULT_BASE_URL.to_string());
            let started = std::time::Instant::now();
            let summary = stowaway_vulndb::update(&dir, &base, &ecosystems, &document_time())?;
            for invalid in &summary.invalid {
                eprintln!("stowaway: warning: not an OSV record, skipped: {invalid}");
            }
            for ecosystem in &summary.ecosystems {
                match ecosystem.outcome {
                    UpdateOutcome::Unchanged => {
                        println!(
                            "{:<14}unchanged (304)  {}",
                            ecosystem.ecosystem, ecosystem.url
                        );
                    }
                    UpdateOutcome::Downloaded { bytes, records } => println!(
                        "{:<14}downloaded {bytes} bytes, {records} records  {}",
                        ecosystem.ecosystem, ecosystem.url
                    ),
                }
            }
            eprintln!(
                "stowaway: {} up to date in {:.1} s",
                Database::file(&dir).display(),
                started.elapsed().as_secs_f64()
            );
        }
        DbCommand::Info { db } => {
            let info = Database::open(&db.dir()?)?.info()?;
            println!("database        {}", info.path.display());
            println!("schema version  {}", info.schema_version);
            println!(
                "last update     {}",
                info.updated.as_deref().unwrap_or("never")
            );
            println!(
                "records         {} ({} withdrawn)",
                info.records, info.withdrawn
            );
            println!("per ecosystem");
            for ecosystem in &info.ecosystems {
                println!("  {:<14}{}", ecosystem.ecosystem, ecosystem.records);
            }
            println!("sources");
            for (source, when, records) in &info.sources {
                println!("  {when}  {records:>7}  {source}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn scan(args: ScanArgs) -> anyhow::Result<ExitCode> {
    if let Some(server) = args.remote.server() {
        return remote::scan(&args, server);
    }
    check_outputs(&args.formats, args.output.as_deref())?;
    let policy = args.policy.load()?;
    let enabled = args.checks.enabled()?;
    let names = args.checks.names()?;
    let mut analyzers = default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    analyzers.push(Box::new(Accounts::new(enabled.clone())));
    // The config and history are scanned after the walk, with the same rules.
    let config_secrets = args.checks.secrets()?.map(Arc::new);
    if let Some(scanner) = &config_secrets {
        analyzers.push(Box::new(SecretsAnalyzer::new(
            scanner.clone(),
            args.checks.secrets_in_binaries,
        )));
    }
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
    let layers = cache.as_deref().and_then(|dir| {
        LayerCache::open(&dir.join("layers"), args.cache_max_bytes)
            .inspect_err(|e| eprintln!("stowaway: warning: scanning without the layer cache: {e}"))
            .ok()
    });
    let mut report = std::thread::scope(|scope| {
        // The look-alike indexes are built while the layers are walked.
        scope.spawn(|| names.prepare());
        run(&args.input, &analyzers, layers.as_ref())
    })?;
    for image in &mut report.images {
        check_and_redact(image, &enabled, &names, config_secrets.as_deref());
    }
    check_vulnerabilities(&mut report, &args.vulns)?;
    let today = document_time()
        .get(..10)
        .and_then(|day| day.parse::<Date>().ok())
        .unwrap_or_else(Date::today);
    policy.apply(&mut report, today);
    conclude(&args, &report, None)
}

/// Writes every requested output of `report`, then the result page (a remote scan's), the
/// policy's warnings and summary on stderr; the exit code is the policy's: 1 when it blocks.
fn conclude(args: &ScanArgs, report: &Report, page: Option<&str>) -> anyhow::Result<ExitCode> {
    let outcome = report
        .policy
        .as_ref()
        .context("the report has no policy outcome")?;
    let time = document_time();
    for output in &args.formats {
        let file = output.file.as_deref().or(args.output.as_deref());
        let color = output.format == Format::Table
            && file.is_none()
            && std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none();
        // Written as it is serialised: an inventory can be large.
        emit(file, |out| render(report, output.format, color, &time, out))?;
    }
    if let Some(path) = &args.sbom_out {
        let format = args
            .sbom_format
            .unwrap_or_else(|| SbomFormat::for_file(path));
        write_sbom(report, format, Some(path), false)?;
    }
    if let Some(page) = page {
        eprintln!("stowaway: result page: {page}");
    }
    for warning in &outcome.warnings {
        eprintln!("stowaway: warning: {warning}");
    }
    eprintln!("stowaway: {}", outcome.summary);
    Ok(match outcome.blocked {
        true => ExitCode::from(1),
        false => ExitCode::SUCCESS,
    })
}
