//! Secrets in what the image says about itself rather than in its files: the run
//! configuration's `Env`, `Labels`, `Entrypoint` and `Cmd`, and every build step's `created_by`
//! (build arguments leak there: `|1 NPM_TOKEN=... /bin/sh -c npm ci`). And their redaction: the
//! report quotes the config and the history, so every secret found there is masked wherever the
//! report would print it.

use std::collections::BTreeSet;

use stowaway_findings::{Finding, ImageReport};

use crate::analyzer::secret_finding;
use crate::{SecretScanner, redact};

/// Values shorter than this are not masked throughout the report: replacing every occurrence of
/// a two-letter string would garble it, and such a value protects nothing anyway.
const MIN_REDACTED_LEN: usize = 4;

/// The secrets of the image's config and history: the findings, and the secret values
/// themselves (for [`redact_report`]; never to be printed).
pub fn scan_config(scanner: &SecretScanner, image: &ImageReport) -> (Vec<Finding>, Vec<String>) {
    let mut sources: Vec<(String, String)> = Vec::new();
    if let Some(config) = &image.config {
        for entry in &config.env {
            let key = entry.split('=').next().unwrap_or(entry);
            sources.push((format!("ENV {key}"), entry.clone()));
        }
        for (key, value) in &config.labels {
            sources.push((format!("LABEL {key}"), format!("{key}={value}")));
        }
        for (what, words) in [("ENTRYPOINT", &config.entrypoint), ("CMD", &config.cmd)] {
            if let Some(words) = words {
                sources.push((what.to_string(), words.join(" ")));
            }
        }
    }
    for (step, entry) in image.history.iter().enumerate() {
        if let Some(command) = &entry.created_by {
            let layer = entry
                .layer
                .map(|l| format!(" (layer {l})"))
                .unwrap_or_default();
            sources.push((format!("build step {step}{layer}"), command.clone()));
        }
    }
    let mut findings = Vec::new();
    let mut secrets = BTreeSet::new();
    for (place, text) in &sources {
        for found in scanner.scan_text(text) {
            if let Some(secret) = text.get(found.span.clone()) {
                secrets.insert(secret.to_string());
            }
            let title = format!("{} in {place} of the image config", found.title);
            findings.push(secret_finding(found, title, None));
        }
    }
    (findings, secrets.into_iter().collect())
}

/// Masks `secrets` in every string of the report: the config, the history, the layers' and the
/// findings' build steps, evidence and titles.
pub fn redact_report(image: &mut ImageReport, secrets: &[String]) {
    let mut secrets: Vec<(&str, String)> = secrets
        .iter()
        .filter(|s| s.len() >= MIN_REDACTED_LEN)
        .map(|s| (s.as_str(), redact(s)))
        .collect();
    if secrets.is_empty() {
        return;
    }
    // Longest first, so that a secret containing another is masked whole.
    secrets.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
    let mask = |text: &mut String| {
        for (secret, masked) in &secrets {
            if text.contains(secret) {
                *text = text.replace(secret, masked);
            }
        }
    };
    if let Some(config) = &mut image.config {
        config.env.iter_mut().for_each(mask);
        for value in config.labels.values_mut() {
            mask(value);
        }
        for words in [&mut config.entrypoint, &mut config.cmd]
            .into_iter()
            .flatten()
        {
            words.iter_mut().for_each(mask);
        }
    }
    for entry in &mut image.history {
        entry.created_by.iter_mut().for_each(mask);
    }
    for layer in &mut image.layers {
        layer.created_by.iter_mut().for_each(mask);
    }
    let locations = image
        .findings
        .iter_mut()
        .filter_map(|f| f.location.as_mut())
        .chain(
            image
                .packages
                .iter_mut()
                .filter_map(|p| p.location.as_mut()),
        )
        .chain(image.not_scanned.iter_mut().map(|n| &mut n.location));
    for location in locations {
        location.created_by.iter_mut().for_each(mask);
    }
    for finding in &mut image.findings {
        mask(&mut finding.title);
        finding.evidence.iter_mut().for_each(mask);
    }
    if let Some(malware) = &mut image.malware {
        for layer in &mut malware.threats_by_layer {
            layer.created_by.iter_mut().for_each(mask);
        }
    }
}
