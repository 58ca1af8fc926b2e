//! The user's secret-scanning config, in the shape of Trivy's `trivy-secret.yaml`: rules added
//! to the bundled ones, allow rules, and bundled rules turned off.
//!
//! ```yaml
//! rules:
//!   - id: acme-token
//!     title: ACME internal token
//!     severity: high            # critical, high, medium, low or info; any case
//!     keywords: [acme_]         # at least one; matched without regard to case
//!     regex: 'acme_(?P<secret>[a-z0-9]{32})'
//!     path: '\.conf$'           # optional: only files whose path matches
//!     entropy: 3.0              # optional: least bits per character of the secret
//! allow-rules:
//!   - id: our-fixtures
//!     description: fixtures we ship on purpose
//!     path: '^srv/fixtures/'    # any of path, regex (on the secret) and line (on its line);
//!     regex: 'not-a-real-secret' #   all that are given must match
//! disable-rules: [jwt]
//! ```
//!
//! Unknown fields are errors, so a misspelt key does not silently do nothing.

use std::path::Path;

use serde::Deserialize;

/// A problem with the secrets config; each names the config (its path, or `<inline>`) and, where
/// there is one, the rule.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("cannot read secrets config {origin}: {source}")]
    Read {
        origin: String,
        source: std::io::Error,
    },
    #[error("secrets config {origin} is not valid: {message}")]
    Syntax { origin: String, message: String },
    #[error("secrets config {origin}: rule `{rule}`: {problem}")]
    Rule {
        origin: String,
        rule: String,
        problem: String,
    },
    #[error("secrets config {origin}: allow rule `{rule}`: {problem}")]
    AllowRule {
        origin: String,
        rule: String,
        problem: String,
    },
    #[error("secrets config {origin}: disable-rules: {problem}")]
    Disable { origin: String, problem: String },
}

/// The secrets config. `Default` is the empty config: bundled rules only.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SecretsConfig {
    /// Rules added to the bundled ones.
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// Matches that are not reported.
    #[serde(default)]
    pub allow_rules: Vec<AllowRuleConfig>,
    /// Ids of bundled rules that do not run.
    #[serde(default)]
    pub disable_rules: Vec<String>,
    /// Where the config came from, for error messages.
    #[serde(skip)]
    pub origin: String,
}

/// A user rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleConfig {
    pub id: String,
    pub title: String,
    /// `critical`, `high`, `medium`, `low` or `info`, in any case.
    pub severity: String,
    /// Literals, one of which occurs in every match (compared without regard to ASCII case):
    /// the prefilter runs the regex only around them.
    pub keywords: Vec<String>,
    /// A regex (Rust `regex` syntax) with a group named `secret`.
    pub regex: String,
    /// A regex on the file's path (no leading `/`); the rule then applies only to those files
    /// and not to image config text.
    #[serde(default)]
    pub path: Option<String>,
    /// Least Shannon entropy of the secret, in bits per character (0 to 8).
    #[serde(default)]
    pub entropy: Option<f64>,
}

/// A user allow rule: a match is not reported when every condition given holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AllowRuleConfig {
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Regex on the file's path. Alone, it skips those files entirely.
    #[serde(default)]
    pub path: Option<String>,
    /// Regex on the secret.
    #[serde(default)]
    pub regex: Option<String>,
    /// Regex on the whole line holding the secret.
    #[serde(default)]
    pub line: Option<String>,
}

impl SecretsConfig {
    /// Reads and parses the YAML config at `path`.
    pub fn load(path: &Path) -> Result<SecretsConfig, SecretsError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| SecretsError::Read {
            origin: origin.clone(),
            source,
        })?;
        SecretsConfig::parse(&text, &origin)
    }

    /// Parses a YAML config; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<SecretsConfig, SecretsError> {
        // An empty file is an empty config, not an error.
        if text.trim().is_empty() {
            return Ok(SecretsConfig {
                origin: origin.to_string(),
                ..SecretsConfig::default()
            });
        }
        let mut config: SecretsConfig =
            serde_yaml_ng::from_str(text).map_err(|e| SecretsError::Syntax {
                origin: origin.to_string(),
                message: stowaway_findings::one_line(&e.to_string()).into_owned(),
            })?;
        config.origin = origin.to_string();
        Ok(config)
    }

    /// The origin for messages: the path, or `<inline>` for a config built in code.
    pub(crate) fn origin(&self) -> &str {
        if self.origin.is_empty() {
            "<inline>"
        } else {
            &self.origin
        }
    }
}

/// Parses a severity name in any case.
pub(crate) fn parse_severity(name: &str) -> Option<stowaway_findings::Severity> {
    stowaway_findings::Severity::ALL
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name.trim()))
}
