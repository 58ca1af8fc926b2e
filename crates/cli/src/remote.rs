//! `stowaway scan IMAGE --server URL`: the scan runs on a scan service (`stowaway serve`)
//! instead of here, as the Jenkins plugin of a MetaDefender-like service does it. The archive is
//! uploaded (or the server pulls the registry reference), progress is shown on stderr, and the
//! report that comes back is written in every `--format` and `--sbom-out` with the functions a
//! local scan uses; the exit code is the server's policy's.
//!
//! Fail closed: a scan that cannot complete — the server unreachable after retries, the wait
//! over, the scan `failed` — blocks (exit 1) unless `--allow-engine-failure`, as an engine
//! that could not scan a file does locally. What the user must fix here (a bad argument, no or
//! a refused API key, a server URL that is not a scan service) is an error (exit 2) whatever
//! the flags. Options that only a local scan honours (engines, rules, the policy file, checks,
//! bounds, registry credentials) are refused rather than silently dropped: the server's
//! engines and policy decide, with the `--fail-on` sent.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stowaway_client::{Client, ClientError, RetryPolicy, ScanState, Status, Submission, Submitted};
use stowaway_findings::Report;
use stowaway_registry::looks_like_reference;
use stowaway_scan::Limits;

use crate::{ScanArgs, check_outputs};

/// How often a running remote scan is polled, once the first quick polls are over.
const POLL_INTERVAL: Duration = Duration::from_secs(2);

#[derive(Args)]
#[command(next_help_heading = "Remote scan service")]
pub struct RemoteArgs {
    /// Scan on this scan service (`stowaway serve`) instead of here: the archive is uploaded,
    /// or the server pulls the registry reference; the report comes back and is written as a
    /// local scan's is.
    #[arg(long, value_name = "URL", env = "STOWAWAY_SERVER")]
    server: Option<String>,
    /// The API key of --server (better as $STOWAWAY_API_KEY: arguments are visible to other
    /// processes).
    #[arg(
        long,
        value_name = "KEY",
        env = "STOWAWAY_API_KEY",
        hide_env_values = true
    )]
    api_key: Option<String>,
    /// Seconds to wait for the remote scan, submission and retries included; a scan not done
    /// by then could not complete (it blocks unless --allow-engine-failure).
    #[arg(long, value_name = "SECS", default_value_t = 3600)]
    server_timeout: u64,
}

impl RemoteArgs {
    /// The server to scan on, when remote mode is asked for (an empty `$STOWAWAY_SERVER` is
    /// not).
    pub fn server(&self) -> Option<&str> {
        self.server
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// What is sent: an archive file, or a reference the server pulls.
enum Remote<'a> {
    Archive(&'a Path),
    Reference(&'a str),
}

/// Runs the scan on `server` and writes its report as a local scan does.
pub fn scan(args: &ScanArgs, server: &str) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    check_outputs(&args.formats, args.output.as_deref())?;
    refuse_local_options(args)?;
    let input = remote_input(args)?;
    let quiet = args.input.quiet;
    if args.policy.config.is_none() && Path::new("stowaway.yaml").is_file() {
        eprintln!(
            "stowaway: warning: ./stowaway.yaml is not applied in remote mode: the server's policy decides (with --fail-on)"
        );
    }
    let timeout = Duration::from_secs(args.remote.server_timeout);
    let retry = RetryPolicy {
        deadline: RetryPolicy::default().deadline.min(timeout),
        ..RetryPolicy::default()
    };
    let api_key = args.remote.api_key.clone().filter(|k| !k.trim().is_empty());
    let mut client = Client::new(server, api_key, retry).context("--server")?;
    if !quiet {
        client = client.on_retry(|retry| {
            eprintln!(
                "stowaway: {} {}: {}; retrying in {} s",
                retry.method,
                retry.url,
                retry.reason,
                retry.wait.as_secs_f64().ceil()
            );
        });
    }
    let submission = Submission {
        name: Some(
            args.checks
                .image_name
                .clone()
                .unwrap_or_else(|| match input {
                    Remote::Archive(path) => path.display().to_string(),
                    Remote::Reference(reference) => reference.to_string(),
                }),
        ),
        fail_on: args.policy.fail_on.clone(),
        callback_url: None,
        metadata: ci_job_url()
            .map(|url| ("ci_job_url".to_string(), url))
            .into_iter()
            .collect(),
    };

    let submitted = match submit(&client, &input, &submission, quiet) {
        Ok(submitted) => submitted,
        Err(error) => return could_not_complete(args, error, None),
    };
    if !quiet {
        let sent = match input {
            Remote::Archive(_) => "uploaded",
            Remote::Reference(_) => "submitted",
        };
        eprintln!("stowaway: {sent}, scan {} queued", submitted.id);
    }
    let on_status = progress_printer(quiet);
    let left = timeout.saturating_sub(started.elapsed());
    let report = match client.wait(&submitted.id, POLL_INTERVAL, left, &on_status) {
        Ok(report) => report,
        Err(error) => return could_not_complete(args, error, Some(&submitted)),
    };
    finish(args, &report, &submitted)
}

/// Options a local scan honours and the server does not take: refused, so that none is
/// silently without effect.
fn refuse_local_options(args: &ScanArgs) -> anyhow::Result<()> {
    let input = &args.input;
    let registry = &input.registry;
    let checks = &args.checks;
    let vulns = &args.vulns;
    let given = [
        (input.image_tag.is_some(), "--image"),
        (input.platform.is_some(), "--platform"),
        (
            format!("{:?}", input.limits.limits()) != format!("{:?}", Limits::default()),
            "the bounds (--max-*)",
        ),
        (registry.registry_username.is_some(), "--registry-username"),
        (
            !registry.insecure_registries.is_empty(),
            "--insecure-registry",
        ),
        (registry.docker_config.is_some(), "--docker-config"),
        (args.policy.config.is_some(), "--config"),
        (!args.policy.vex.is_empty(), "--vex"),
        (args.policy.ignore_unfixed, "--ignore-unfixed"),
        (args.no_yara, "--no-yara"),
        (args.no_bundled_rules, "--no-bundled-rules"),
        (!args.rules.is_empty(), "--rules"),
        (args.strict_rules, "--strict-rules"),
        (args.no_heuristics, "--no-heuristics"),
        (!args.hashes.is_empty(), "--hashes"),
        (args.clamd.is_some(), "--clamd"),
        (vulns.db.db_dir.is_some(), "--db-dir"),
        (vulns.skip_vulns, "--skip-vulns"),
        (vulns.match_owned, "--match-owned"),
        (vulns.all_vulns, "--all-vulns"),
        (!checks.skip_checks.is_empty(), "--skip-check"),
        (checks.official_images.is_some(), "--official-images"),
        (!checks.trusted_images.is_empty(), "--trusted-image"),
        (checks.no_secrets, "--no-secrets"),
        (checks.secret_config.is_some(), "--secret-config"),
        (checks.secrets_in_binaries, "--secrets-in-binaries"),
    ];
    let refused: Vec<&str> = given
        .iter()
        .filter(|(given, _)| *given)
        .map(|(_, name)| *name)
        .collect();
    anyhow::ensure!(
        refused.is_empty(),
        "--server: {} only work(s) in a local scan; on the server its engines and policy decide, with --fail-on (drop --server to scan here)",
        refused.join(", ")
    );
    Ok(())
}

/// The input as remote mode takes it: an archive file, or a registry reference.
fn remote_input(args: &ScanArgs) -> anyhow::Result<Remote<'_>> {
    const TAKES: &str =
        "remote mode (--server) takes an image archive file or a registry reference";
    if args.input.rootfs.is_some() {
        anyhow::bail!("{TAKES}, not --rootfs (scan the directory locally, or tar it)");
    }
    let image = args.input.image.as_deref().context(TAKES)?;
    if image == "-" {
        anyhow::bail!(
            "{TAKES}, not `-`: stdin cannot be sent again when an upload is retried (write it to a file first)"
        );
    }
    let path = Path::new(image);
    match std::fs::metadata(path) {
        Ok(metadata) if metadata.is_file() => Ok(Remote::Archive(path)),
        Ok(metadata) if metadata.is_dir() => anyhow::bail!(
            "{TAKES}: {image} is a directory (tar the OCI layout, or scan it locally)"
        ),
        Ok(_) => anyhow::bail!(
            "{TAKES}: {image} is not a regular file (an upload is sent again from its start when retried)"
        ),
        Err(_) if looks_like_reference(image) => Ok(Remote::Reference(image)),
        Err(error) => Err(error).with_context(|| format!("{image}: {TAKES}")),
    }
}

/// The URL of the CI job running this scan: Jenkins' `$BUILD_URL`, GitLab's `$CI_JOB_URL`, or
/// the GitHub Actions run.
fn ci_job_url() -> Option<String> {
    let var = |name| {
        std::env::var(name)
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    var("BUILD_URL").or_else(|| var("CI_JOB_URL")).or_else(|| {
        let (server, repository, run) = (
            var("GITHUB_SERVER_URL")?,
            var("GITHUB_REPOSITORY")?,
            var("GITHUB_RUN_ID")?,
        );
        Some(format!(
            "{}/{repository}/actions/runs/{run}",
            server.trim_end_matches('/')
        ))
    })
}

/// Submits the input, showing the upload: a bar on a terminal, two lines otherwise.
fn submit(
    client: &Client,
    input: &Remote,
    submission: &Submission,
    quiet: bool,
) -> Result<Submitted, ClientError> {
    match input {
        Remote::Reference(reference) => {
            if !quiet {
                eprintln!(
                    "stowaway: asking {} to pull and scan {reference}",
                    client.base_url()
                );
            }
            client.submit_reference(reference, submission)
        }
        Remote::Archive(path) => {
            let terminal = !quiet && std::io::stderr().is_terminal();
            let bar = ProgressBar::with_draw_target(
                None,
                match terminal {
                    true => ProgressDrawTarget::stderr(),
                    false => ProgressDrawTarget::hidden(),
                },
            );
            if let Ok(style) = ProgressStyle::with_template(
                "uploading {bytes}/{total_bytes} {wide_bar} {bytes_per_sec}",
            ) {
                bar.set_style(style);
            }
            if !quiet {
                let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                eprintln!(
                    "stowaway: uploading {} ({size} bytes) to {}",
                    path.display(),
                    client.base_url()
                );
            }
            let submitted =
                client.submit_archive_with_progress(path, submission, &|sent, total| {
                    bar.set_length(total);
                    bar.set_position(sent);
                });
            bar.finish_and_clear();
            submitted
        }
    }
}

/// Prints a line when the scan's state changes, and while scanning at every further 10 %.
fn progress_printer(quiet: bool) -> impl Fn(&Status) {
    let last = std::sync::Mutex::new((ScanState::Queued, None::<u32>));
    move |status: &Status| {
        if quiet {
            return;
        }
        let Ok(mut last) = last.lock() else {
            return;
        };
        let step = status.progress.map(|p| p / 10);
        let (state, shown) = *last;
        let line = match status.status {
            ScanState::Scanning if state != ScanState::Scanning || step > shown => {
                Some(match status.progress {
                    Some(percent) => format!("stowaway: scanning {percent}%"),
                    None => "stowaway: scanning".to_string(),
                })
            }
            ScanState::Done if state != ScanState::Done => Some("stowaway: scan done".into()),
            _ => None,
        };
        if let Some(line) = line {
            eprintln!("{line}");
        }
        *last = (status.status, step.max(shown));
    }
}

/// A scan that could not complete blocks (exit 1), or with --allow-engine-failure passes with a
/// warning; what the user must fix is an error (exit 2).
fn could_not_complete(
    args: &ScanArgs,
    error: ClientError,
    submitted: Option<&Submitted>,
) -> anyhow::Result<ExitCode> {
    match &error {
        ClientError::Unauthorized { .. } => {
            anyhow::bail!("{error}: give the key with --api-key or $STOWAWAY_API_KEY")
        }
        ClientError::Forbidden { .. } => {
            anyhow::bail!("{error}: check --api-key / $STOWAWAY_API_KEY")
        }
        ClientError::BadUrl { .. } | ClientError::BadApiKey | ClientError::Archive { .. } => {
            anyhow::bail!("{error}")
        }
        _ if error
            .status()
            .is_some_and(|s| (300..500).contains(&s) && !matches!(s, 408 | 413 | 429)) =>
        {
            anyhow::bail!("{error}")
        }
        _ => {}
    }
    if let Some(submitted) = submitted {
        eprintln!("stowaway: result page: {}", submitted.page_url);
    }
    if args.policy.allow_engine_failure {
        eprintln!(
            "stowaway: warning: the scan could not complete: {error}; not blocking (--allow-engine-failure)"
        );
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("stowaway: blocked: the scan could not complete: {error}");
        Ok(ExitCode::from(1))
    }
}

/// Writes the report as a local scan does, prints the page, the policy's warnings and summary,
/// and exits with its verdict.
fn finish(args: &ScanArgs, report: &Report, submitted: &Submitted) -> anyhow::Result<ExitCode> {
    if report.policy.is_none() {
        let error = ClientError::BadResponse {
            url: submitted.status_url.clone(),
            reason: "the report has no policy outcome".into(),
        };
        return could_not_complete(args, error, Some(submitted));
    }
    crate::conclude(args, report, Some(&submitted.page_url))
}
