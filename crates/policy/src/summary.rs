//! The one-paragraph outcome, the same whatever the report format: per image, counts by
//! severity and kind, what was suppressed, and what blocked.

use stowaway_findings::{FailOn, Finding, ImageReport, Kind, Severity};

/// How many blocking ids the summary names before "and N more".
const MAX_IDS: usize = 10;

/// `name: 7 findings (critical 1, ...; malware 1, ...); 2 suppressed (...). Blocked by ...` for
/// one image, given its blocking findings.
pub fn image_summary(
    image: &ImageReport,
    blocking: &[&Finding],
    fail_on: &FailOn,
    fail_on_text: &str,
) -> String {
    let mut text = format!(
        "{}: {}",
        image.name,
        plural(image.findings.len(), "finding")
    );
    if !image.findings.is_empty() {
        let severities: Vec<String> = Severity::ALL
            .iter()
            .map(|severity| format!("{severity} {}", image.counts.get(*severity)))
            .collect();
        let kinds: Vec<String> = Kind::ALL
            .iter()
            .filter_map(|kind| {
                let n = image.findings.iter().filter(|f| f.kind == *kind).count();
                (n > 0).then(|| format!("{kind} {n}"))
            })
            .collect();
        text.push_str(&format!(
            " ({}; {})",
            severities.join(", "),
            kinds.join(", ")
        ));
    }
    if !image.suppressed.is_empty() {
        let by: Vec<String> = [
            ("ignore", "by ignore rules"),
            ("ignore-unfixed", "by --ignore-unfixed"),
            ("vex", "by VEX"),
        ]
        .iter()
        .filter_map(|(by, label)| {
            let n = image.suppressed.iter().filter(|s| s.by == *by).count();
            (n > 0).then(|| format!("{n} {label}"))
        })
        .collect();
        text.push_str(&format!(
            "; {} suppressed ({})",
            image.suppressed.len(),
            by.join(", ")
        ));
    }
    let fail_on_text = if fail_on_text.is_empty() {
        "\"\""
    } else {
        fail_on_text
    };
    if blocking.is_empty() {
        text.push_str(&format!(
            ". Passed: no finding matches --fail-on {fail_on_text}."
        ));
        return text;
    }
    let engine_too = blocking
        .iter()
        .any(|finding| finding.kind == Kind::Engine && !fail_on.matches(finding));
    let mut ids: Vec<&str> = Vec::new();
    for finding in blocking {
        if !ids.contains(&finding.id.as_str()) {
            ids.push(&finding.id);
        }
    }
    let mut listed = ids
        .iter()
        .take(MAX_IDS)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if ids.len() > MAX_IDS {
        listed.push_str(&format!(" and {} more", ids.len() - MAX_IDS));
    }
    text.push_str(&format!(
        ". Blocked by --fail-on {fail_on_text}{}: {} ({listed}).",
        if engine_too {
            " and fail-closed engine failures"
        } else {
            ""
        },
        plural(blocking.len(), "finding"),
    ));
    text
}

/// `1 finding`, `3 findings`.
pub fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
