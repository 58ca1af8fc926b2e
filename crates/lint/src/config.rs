//! Checks of the run configuration: the user, health check, environment, ports, volumes and
//! tags an image declares.

use stowaway_findings::{Finding, ImageConfig, ImageReport};

use crate::checks::{
    self, Enabled, LATEST_TAG, NO_HEALTHCHECK, REMOTE_ACCESS_PORT, ROOT_USER, SECRET_ENV,
    SENSITIVE_VOLUME,
};
use crate::finding;

/// Words that make an environment variable's name look like it holds a secret.
const SECRET_NAME_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "SECRET",
    "TOKEN",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "PRIVATE_KEY",
    "CREDENTIAL",
];

/// Name endings that say the variable points at a secret rather than holding one
/// (`POSTGRES_PASSWORD_FILE=/run/secrets/db` is the recommended practice).
const REFERENCE_SUFFIXES: &[&str] = &["_FILE", "_PATH", "_DIR", "_URL", "_URI", "_ENV", "_NAME"];

const REMOTE_ACCESS_PORTS: &[(&str, &str)] = &[("22", "SSH"), ("23", "telnet"), ("3389", "RDP")];

const SENSITIVE_VOLUMES: &[&str] = &[
    "/",
    "/dev",
    "/proc",
    "/sys",
    "/var/run/docker.sock",
    "/run/docker.sock",
];

pub(crate) fn check(image: &ImageReport, config: &ImageConfig, enabled: &Enabled) -> Vec<Finding> {
    let mut findings = Vec::new();
    let mut add = |check: &checks::Check, title: String, evidence: Option<String>| {
        if enabled.has(check) {
            findings.push(finding(check, title, evidence, None));
        }
    };
    let user = config.user.as_deref().unwrap_or("");
    let name = user.split(':').next().unwrap_or("");
    if name.is_empty() || name == "root" || name == "0" {
        let evidence = if user.is_empty() {
            "no USER".to_string()
        } else {
            format!("USER {user}")
        };
        add(
            &ROOT_USER,
            "the container runs as root: set USER to an unprivileged user".into(),
            Some(evidence),
        );
    }
    match config.healthcheck.as_deref() {
        None => add(
            &NO_HEALTHCHECK,
            "the image declares no HEALTHCHECK".into(),
            None,
        ),
        Some([none]) if none == "NONE" => add(
            &NO_HEALTHCHECK,
            "the image turns its HEALTHCHECK off (HEALTHCHECK NONE)".into(),
            Some("HEALTHCHECK NONE".into()),
        ),
        Some(_) => {}
    }
    for entry in &config.env {
        let Some((key, value)) = entry.split_once('=') else {
            continue;
        };
        if looks_secret_name(key) && !value.trim().is_empty() && !value.starts_with('$') {
            add(
                &SECRET_ENV,
                format!("ENV {key} holds a value in the image config"),
                Some(format!("{key}=<redacted, {} characters>", value.len())),
            );
        }
    }
    for port in &config.exposed_ports {
        let number = port.split('/').next().unwrap_or(port);
        if let Some((_, service)) = REMOTE_ACCESS_PORTS.iter().find(|(p, _)| *p == number) {
            add(
                &REMOTE_ACCESS_PORT,
                format!("the image exposes port {port} ({service})"),
                Some(format!("EXPOSE {port}")),
            );
        }
    }
    for volume in &config.volumes {
        let trimmed = volume.trim_end_matches('/');
        let path = if trimmed.is_empty() { "/" } else { trimmed };
        if SENSITIVE_VOLUMES.contains(&path) {
            add(
                &SENSITIVE_VOLUME,
                format!("VOLUME {volume} is declared over a host-critical path"),
                Some(format!("VOLUME {volume}")),
            );
        }
    }
    if !image.tags.is_empty() && image.tags.iter().all(|tag| is_latest(tag)) {
        add(
            &LATEST_TAG,
            format!(
                "the image is known only by the `latest` tag ({}): pin a version or a digest",
                image.tags.join(", ")
            ),
            None,
        );
    }
    findings
}

/// The values of the `Env` entries whose names say they hold a secret: for the report to mask,
/// since it quotes the config.
pub fn secret_env_values(config: &ImageConfig) -> Vec<String> {
    config
        .env
        .iter()
        .filter_map(|entry| entry.split_once('='))
        .filter(|(key, value)| looks_secret_name(key) && !value.trim().is_empty())
        .map(|(_, value)| value.to_string())
        .collect()
}

/// Whether an environment variable's name says it holds a secret.
pub(crate) fn looks_secret_name(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    SECRET_NAME_WORDS.iter().any(|word| key.contains(word))
        && !REFERENCE_SUFFIXES
            .iter()
            .any(|suffix| key.ends_with(suffix))
}

/// `app:latest`, or a reference without a tag or digest (which means `latest`).
fn is_latest(reference: &str) -> bool {
    if reference.contains('@') {
        return false;
    }
    let last = reference.rsplit('/').next().unwrap_or(reference);
    match last.split_once(':') {
        Some((_, tag)) => tag == "latest",
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_and_references() {
        for key in [
            "DB_PASSWORD",
            "github_token",
            "AWS_SECRET_ACCESS_KEY",
            "STRIPE_API_KEY",
        ] {
            assert!(looks_secret_name(key), "{key}");
        }
        for key in [
            "POSTGRES_PASSWORD_FILE",
            "PATH",
            "GPG_KEY",
            "TOKEN_URL",
            "HOME",
        ] {
            assert!(!looks_secret_name(key), "{key}");
        }
    }

    #[test]
    fn latest_references() {
        assert!(is_latest("app:latest"));
        assert!(is_latest("registry:5000/app"));
        assert!(!is_latest("registry:5000/app:1.2"));
        assert!(!is_latest("app@sha256:0123"));
    }
}
