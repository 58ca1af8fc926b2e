//! The policy file, `stowaway.yaml`: read strictly (unknown fields are errors) and checked
//! rule by rule.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use stowaway_findings::FailOn;

use crate::date::Date;
use crate::error::PolicyError;
use crate::ignore::{IgnoreRule, path_glob, purl_glob};

/// The file as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawFile {
    fail_on: Option<String>,
    ignore_unfixed: Option<bool>,
    allow_engine_failure: Option<bool>,
    #[serde(default)]
    vex: Vec<PathBuf>,
    #[serde(default)]
    ignore: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Option<String>,
    purl: Option<String>,
    path: Option<String>,
    layer: Option<usize>,
    reason: Option<String>,
    expires: Option<String>,
}

/// The file, checked.
#[derive(Debug)]
pub struct PolicyFile {
    pub fail_on: Option<FailOn>,
    pub ignore_unfixed: bool,
    pub allow_engine_failure: bool,
    /// VEX documents, resolved against the file's directory.
    pub vex: Vec<PathBuf>,
    pub ignore: Vec<IgnoreRule>,
}

impl PolicyFile {
    pub fn read(path: &Path) -> Result<PolicyFile, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|source| PolicyError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |message: String| PolicyError::File {
            path: path.to_path_buf(),
            message,
        };
        let raw: RawFile = if text.trim().is_empty() {
            RawFile::default()
        } else {
            serde_yaml_ng::from_str(&text).map_err(|err| invalid(err.to_string()))?
        };
        let fail_on = raw
            .fail_on
            .map(|list| list.parse::<FailOn>())
            .transpose()
            .map_err(|err| invalid(format!("fail-on: {err}")))?;
        let dir = path.parent().unwrap_or(Path::new(""));
        let ignore = raw
            .ignore
            .into_iter()
            .enumerate()
            .map(|(i, rule)| {
                check_rule(i + 1, rule)
                    .map_err(|message| invalid(format!("ignore rule {}: {message}", i + 1)))
            })
            .collect::<Result<_, _>>()?;
        Ok(PolicyFile {
            fail_on,
            ignore_unfixed: raw.ignore_unfixed.unwrap_or(false),
            allow_engine_failure: raw.allow_engine_failure.unwrap_or(false),
            vex: raw.vex.into_iter().map(|vex| dir.join(vex)).collect(),
            ignore,
        })
    }
}

fn check_rule(number: usize, raw: RawRule) -> Result<IgnoreRule, String> {
    let reason = raw.reason.map(|r| r.trim().to_string()).unwrap_or_default();
    if reason.is_empty() {
        return Err("`reason` is required: say why the finding is acceptable".into());
    }
    let id = raw
        .id
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty());
    if id.is_none() && raw.purl.is_none() && raw.path.is_none() && raw.layer.is_none() {
        return Err("has none of `id`, `purl`, `path`, `layer`: it would ignore everything".into());
    }
    let expires = raw
        .expires
        .map(|date| date.trim().parse::<Date>())
        .transpose()
        .map_err(|err| format!("expires: {err}"))?;
    let purl = raw
        .purl
        .map(|pattern| {
            if !pattern.starts_with("pkg:") {
                return Err(format!(
                    "purl: '{pattern}' is not a package URL glob (pkg:TYPE/NAME@VERSION)"
                ));
            }
            purl_glob(&pattern).map_err(|err| format!("purl: {err}"))
        })
        .transpose()?;
    let path = raw
        .path
        .map(|pattern| path_glob(&pattern).map_err(|err| format!("path: {err}")))
        .transpose()?;
    Ok(IgnoreRule {
        number,
        id,
        purl,
        path,
        layer: raw.layer,
        reason,
        expires,
    })
}
