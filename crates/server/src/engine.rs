//! The scan itself, composed as `stowaway scan` composes it: the default analyzers and
//! catalogers, the accounts check, secrets, YARA-X's bundled rules and the heuristics over the
//! files; then the config and name checks, secrets in the config (redacted), vulnerabilities
//! when a database is configured, and the policy the scan's metadata chooses (`policy`,
//! `fail_on`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use stowaway_findings::{AnalyzerInfo, Report, SCHEMA_VERSION, Tool};
use stowaway_image::Platform;
use stowaway_lint::{Accounts, Enabled, Names, check_and_redact};
use stowaway_malware::{Heuristics, YaraEngine};
use stowaway_policy::{CliSettings, Date, Policy};
use stowaway_scan::{Analyzer, Input, Limits, Progress, ScanOptions, analyzers::default_analyzers};
use stowaway_secrets::{SecretScanner, SecretsAnalyzer};
use stowaway_vulndb::{MatchOptions, check_report, not_checked};

use crate::ServerError;

/// The analyzers, built once when the server starts and shared by every worker.
pub struct Engines {
    analyzers: Vec<Box<dyn Analyzer>>,
    secrets: Arc<SecretScanner>,
    enabled: Enabled,
    names: Names,
    /// Where the vulnerability database is, when there is one.
    vuln_db: Option<PathBuf>,
    /// Where a policy file may be (`stowaway.yaml`, read as the CLI reads it from its working
    /// directory).
    policy_dir: PathBuf,
}

/// What one scan produced.
pub struct Scanned {
    pub report: Report,
    pub blocked: bool,
    pub summary: String,
}

impl Engines {
    /// Builds the engines; the compiled YARA-X rules are cached in `cache`.
    pub fn build(
        cache: Option<&Path>,
        vuln_db: Option<PathBuf>,
        policy_dir: PathBuf,
    ) -> Result<Engines, ServerError> {
        let enabled = Enabled::skipping(&[]).map_err(ServerError::Engine)?;
        let secrets = Arc::new(SecretScanner::builtin());
        let mut analyzers = default_analyzers();
        analyzers.extend(stowaway_sbom::catalogers());
        analyzers.push(Box::new(Accounts::new(enabled.clone())));
        analyzers.push(Box::new(SecretsAnalyzer::new(secrets.clone(), false)));
        let (yara, _problems) = YaraEngine::compile(true, &[], true, cache)
            .map_err(|e| ServerError::Engine(format!("compiling the bundled YARA rules: {e}")))?;
        analyzers.push(Box::new(yara));
        analyzers.push(Box::new(Heuristics));
        Ok(Engines {
            analyzers,
            secrets,
            enabled,
            names: Names::bundled(None),
            vuln_db,
            policy_dir,
        })
    }

    /// Every analyzer's id, version and definitions, as the report lists them.
    pub fn info(&self) -> Vec<AnalyzerInfo> {
        self.analyzers
            .iter()
            .map(|a| AnalyzerInfo {
                id: a.id().to_string(),
                version: a.version(),
                definitions: a.definitions(),
            })
            .collect()
    }

    /// The policy a scan's metadata chooses: `policy` names `data_dir/policies/NAME.yaml` (else
    /// `data_dir/stowaway.yaml` when there is one), `fail_on` overrides its `fail_on` (default
    /// `high`).
    pub fn policy(&self, metadata: &BTreeMap<String, String>) -> Result<Policy, String> {
        let file = match metadata.get("policy") {
            Some(name) => {
                let valid = (1..=64).contains(&name.len())
                    && name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'));
                let path = self
                    .policy_dir
                    .join("policies")
                    .join(format!("{name}.yaml"));
                if !valid || !path.is_file() {
                    return Err(format!(
                        "no policy named {name:?} (policies are the data directory's policies/NAME.yaml)"
                    ));
                }
                Some(path)
            }
            None => None,
        };
        let cli = CliSettings {
            fail_on: metadata.get("fail_on").cloned(),
            ignore_unfixed: false,
            allow_engine_failure: false,
        };
        Policy::load(file.as_deref(), &cli, &[], &self.policy_dir).map_err(|e| e.to_string())
    }

    /// Scans the archive at `path`; `name` is the report's input. An error is a reason the
    /// scan failed, in one line.
    pub fn scan(
        &self,
        path: &Path,
        name: &str,
        metadata: &BTreeMap<String, String>,
        progress: &dyn Progress,
    ) -> Result<Scanned, String> {
        let policy = self.policy(metadata)?;
        let options = ScanOptions {
            limits: Limits::default(),
            platform: platform(),
            image: None,
            progress,
            cache: None,
        };
        let images =
            stowaway_scan::scan(&Input::Path(path.to_path_buf()), &self.analyzers, &options)
                .map_err(|e| error_chain(&e))?;
        let mut report = Report {
            schema_version: SCHEMA_VERSION.to_string(),
            tool: Tool {
                name: "stowaway".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            input: name.to_string(),
            vulnerability_database: not_checked(
                "vulnerabilities were not checked: the server has no vulnerability database".into(),
            ),
            analyzers: self.info(),
            images,
            policy: None,
        };
        for image in &mut report.images {
            check_and_redact(image, &self.enabled, &self.names, Some(&self.secrets));
        }
        if let Some(dir) = &self.vuln_db {
            check_report(&mut report, dir, MatchOptions::default(), None)
                .map_err(|e| format!("the vulnerability database: {}", error_chain(&e)))?;
        }
        let outcome = policy.apply(&mut report, Date::today());
        Ok(Scanned {
            blocked: outcome.blocked,
            summary: outcome.summary,
            report,
        })
    }
}

/// The platform the service scans and pulls: the service runs linux/amd64 images.
pub fn platform() -> Platform {
    Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    }
}

/// An error and its sources, `: `-separated.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
        source = cause_source(source);
    }
    text
}

fn cause_source<'a>(
    error: Option<&'a (dyn std::error::Error + 'static)>,
) -> Option<&'a (dyn std::error::Error + 'static)> {
    error.and_then(|e| e.source())
}
