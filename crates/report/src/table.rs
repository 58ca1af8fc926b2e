//! The terminal rendering: per image a header, the layers, the findings and what was not scanned,
//! then a summary line. Colour only marks severities and headings; the text says everything.

use std::collections::BTreeMap;
use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use stowaway_findings::{
    AnalyzerInfo, FileStatus, Finding, ImageReport, Integrity, MalwareReport, Report, Severity,
    Verdict, one_line,
};

fn severity_style(severity: Severity) -> Style {
    let color = match severity {
        Severity::Critical => AnsiColor::BrightRed,
        Severity::High => AnsiColor::Red,
        Severity::Medium => AnsiColor::Yellow,
        Severity::Low => AnsiColor::Cyan,
        Severity::Info => AnsiColor::White,
    };
    Style::new().fg_color(Some(color.into())).bold()
}

const HEADING: Style = Style::new().bold().underline();

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}

/// Human-readable sizes: `1.5 MB`.
pub(crate) fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// One printable line (names come from the image), at most `max` characters.
fn truncate(text: &str, max: usize) -> String {
    let text = one_line(text);
    if text.chars().count() <= max {
        text.into_owned()
    } else {
        let cut: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

/// Writes rows as aligned columns, each cell one printable line; `styles` paints a cell.
fn columns(
    out: &mut String,
    painter: &Painter,
    rows: &[Vec<String>],
    styles: &[Option<(usize, Style)>],
) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|cell| one_line(cell).into_owned()).collect())
        .collect();
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    for (r, row) in rows.iter().enumerate() {
        let mut line = String::from("  ");
        for (c, cell) in row.iter().enumerate() {
            let last = c + 1 == row.len();
            let padded = if last {
                cell.clone()
            } else {
                format!("{cell:<width$}  ", width = widths[c])
            };
            match styles.get(r).copied().flatten() {
                Some((column, style)) if column == c => {
                    line.push_str(&painter.paint(style, &padded))
                }
                _ if r == 0 => line.push_str(&painter.paint(Style::new().bold(), &padded)),
                _ => line.push_str(&padded),
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

fn where_(finding: &Finding) -> String {
    match &finding.location {
        None => "-".to_string(),
        Some(location) => {
            let mut text = format!("layer {}: /{}", location.layer, location.display_path());
            if let Some(line) = location.line {
                let _ = write!(text, ":{line}");
            }
            if location.status != FileStatus::Present {
                let _ = write!(text, " ({})", location.status);
            }
            text
        }
    }
}

/// The malware engines with their definitions, the verdict counts, and every file whose
/// aggregated verdict is not clean with what each engine said.
fn malware(
    out: &mut String,
    painter: &Painter,
    malware: &MalwareReport,
    analyzers: &[AnalyzerInfo],
) {
    let _ = writeln!(out, "{}", painter.paint(HEADING, "Malware engines"));
    let mut rows = vec![vec![
        "ENGINE".to_string(),
        "DEFINITIONS".into(),
        "DETECTIONS".into(),
        "FAILED".into(),
        "SCAN TIME".into(),
    ]];
    for engine in &malware.engines {
        let results = malware
            .files
            .iter()
            .flat_map(|f| &f.results)
            .filter(|r| &r.engine == engine);
        let (mut detections, mut failed, mut micros) = (0, 0, 0);
        for result in results {
            micros += result.time_us;
            match result.verdict {
                Verdict::Clean | Verdict::NotScanned => {}
                Verdict::Failed => failed += 1,
                _ => detections += 1,
            }
        }
        let definitions = analyzers
            .iter()
            .find(|a| &a.id == engine)
            .and_then(|a| a.definitions.clone())
            .unwrap_or_else(|| "-".into());
        rows.push(vec![
            engine.clone(),
            truncate(&definitions, 90),
            detections.to_string(),
            failed.to_string(),
            format!("{:.2} s", micros as f64 / 1e6),
        ]);
    }
    columns(out, painter, &rows, &[]);
    let verdicts = Verdict::ALL
        .iter()
        .map(|v| format!("{} {}", malware.verdicts.get(*v), v.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "  {} files scanned: {verdicts}", malware.files_scanned);
    let flagged: Vec<_> = malware
        .files
        .iter()
        .filter(|f| f.verdict != Verdict::Clean)
        .collect();
    if flagged.is_empty() {
        return;
    }
    let _ = writeln!(out);
    let mut rows = vec![vec![
        "VERDICT".to_string(),
        "WHERE".into(),
        "ENGINES".into(),
    ]];
    let mut styles = vec![None];
    for file in flagged {
        let path = match &file.member {
            Some(member) => format!("{}!{member}", file.path),
            None => file.path.clone(),
        };
        let mut place = format!("layer {}: /{path}", file.layer);
        if file.status != FileStatus::Present {
            let _ = write!(place, " ({})", file.status);
        }
        let engines = file
            .results
            .iter()
            .map(|r| match &r.threat {
                Some(threat) => format!("{} {} ({threat})", r.engine, r.verdict.as_str()),
                None => format!("{} {}", r.engine, r.verdict.as_str()),
            })
            .chain(
                file.not_scanned
                    .iter()
                    .map(|code| format!("not scanned: {}", code.as_str())),
            )
            .collect::<Vec<_>>()
            .join("; ");
        rows.push(vec![
            file.verdict.as_str().to_uppercase(),
            truncate(&place, 70),
            engines,
        ]);
        let severity = match file.verdict {
            Verdict::Infected => Severity::Critical,
            Verdict::Failed | Verdict::Suspicious => Severity::High,
            _ => Severity::Medium,
        };
        styles.push(Some((0, severity_style(severity))));
    }
    columns(out, painter, &rows, &styles);
}

fn image(out: &mut String, painter: &Painter, image: &ImageReport, analyzers: &[AnalyzerInfo]) {
    let _ = writeln!(
        out,
        "{}",
        painter.paint(HEADING, &format!("Image {}", one_line(&image.name)))
    );
    if let Some(digest) = &image.config_digest {
        let _ = writeln!(out, "  id        {digest}");
    }
    if let Some(platform) = &image.platform {
        let _ = writeln!(out, "  platform  {}", one_line(platform));
    }
    let os = image
        .os
        .as_ref()
        .map(|os| {
            os.pretty_name.clone().unwrap_or_else(|| {
                format!("{} {}", os.id, os.version_id.clone().unwrap_or_default())
            })
        })
        .unwrap_or_else(|| "unknown".into());
    let _ = writeln!(out, "  os        {}", one_line(&os));
    let _ = writeln!(out);

    let _ = writeln!(out, "{}", painter.paint(HEADING, "Layers"));
    let mut rows = vec![vec![
        "#".to_string(),
        "DIGEST".into(),
        "SIZE".into(),
        "ENTRIES".into(),
        "INTEGRITY".into(),
        "CREATED BY".into(),
    ]];
    let mut styles = vec![None];
    for layer in &image.layers {
        let integrity = match layer.integrity {
            Integrity::Verified => "verified",
            Integrity::Mismatch => "MISMATCH",
            Integrity::Undeclared => "-",
        };
        rows.push(vec![
            layer.index.to_string(),
            layer
                .diff_id
                .as_deref()
                .map_or("-".into(), |d| d.chars().take(19).collect()),
            format!("{} ({})", human(layer.uncompressed_size), layer.compression),
            layer.entries.to_string(),
            integrity.to_string(),
            truncate(layer.created_by.as_deref().unwrap_or("-"), 60),
        ]);
        styles.push(
            (layer.integrity == Integrity::Mismatch)
                .then(|| (4, severity_style(Severity::Critical))),
        );
    }
    columns(out, painter, &rows, &styles);
    let _ = writeln!(out);

    let _ = writeln!(
        out,
        "{}",
        painter.paint(HEADING, &format!("Findings ({})", image.findings.len()))
    );
    if image.findings.is_empty() {
        let _ = writeln!(out, "  none");
    } else {
        let mut rows = vec![vec![
            "SEVERITY".to_string(),
            "KIND".into(),
            "ID".into(),
            "WHERE".into(),
            "WHAT".into(),
        ]];
        let mut styles = vec![None];
        for finding in &image.findings {
            let what = match &finding.evidence {
                Some(evidence) => format!("{} [{}]", finding.title, truncate(evidence, 60)),
                None => finding.title.clone(),
            };
            rows.push(vec![
                finding.severity.as_str().to_uppercase(),
                finding.kind.to_string(),
                finding.id.clone(),
                truncate(&where_(finding), 70),
                what,
            ]);
            styles.push(Some((0, severity_style(finding.severity))));
        }
        columns(out, painter, &rows, &styles);
    }
    if !image.suppressed.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            painter.paint(
                HEADING,
                &format!("Suppressed ({}): never blocking", image.suppressed.len())
            )
        );
        let mut rows = vec![vec![
            "ID".to_string(),
            "WHERE".into(),
            "BY".into(),
            "REASON".into(),
        ]];
        for suppressed in &image.suppressed {
            rows.push(vec![
                suppressed.finding.id.clone(),
                truncate(&where_(&suppressed.finding), 50),
                suppressed.by.clone(),
                truncate(&one_line(&suppressed.reason), 80),
            ]);
        }
        columns(out, painter, &rows, &[]);
    }
    if !image.not_scanned.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{}",
            painter.paint(
                HEADING,
                &format!("Not scanned ({})", image.not_scanned.len())
            )
        );
        let header = vec!["WHERE".to_string(), "WHY".into(), "DETAIL".into()];
        let rows: Vec<Vec<String>> = std::iter::once(header)
            .chain(image.not_scanned.iter().map(|n| {
                vec![
                    truncate(
                        &format!("layer {}: /{}", n.location.layer, n.location.display_path()),
                        70,
                    ),
                    n.code.as_str().to_string(),
                    n.reason.clone(),
                ]
            }))
            .collect();
        columns(out, painter, &rows, &[]);
    }
    if let Some(report) = &image.malware {
        let _ = writeln!(out);
        malware(out, painter, report, analyzers);
    }
    let files = image
        .inventory
        .iter()
        .filter(|e| e.status.is_present())
        .count();
    let removed = image.inventory.len() - files;
    let counts = Severity::ALL
        .iter()
        .map(|s| format!("{} {s}", image.counts.get(*s)))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "  {} entries present, {removed} deleted or replaced by later layers, {} archive members; {}; findings: {counts}",
        files,
        image.archive_members.len(),
        package_counts(image),
    );
}

/// `12 packages installed (deb 10, python 2), 1 removed`.
pub(crate) fn package_counts(image: &ImageReport) -> String {
    let mut per_type: BTreeMap<&str, usize> = BTreeMap::new();
    let mut removed = 0;
    for package in &image.packages {
        if package
            .location
            .as_ref()
            .is_none_or(|l| l.status.is_present())
        {
            *per_type.entry(package.package_type.as_str()).or_default() += 1;
        } else {
            removed += 1;
        }
    }
    let installed: usize = per_type.values().sum();
    let mut text = format!("{installed} packages installed");
    if !per_type.is_empty() {
        let types: Vec<String> = per_type.iter().map(|(t, n)| format!("{t} {n}")).collect();
        let _ = write!(text, " ({})", types.join(", "));
    }
    if removed > 0 {
        let _ = write!(text, ", {removed} removed or replaced");
    }
    text
}

/// The SBOM as aligned text: every package of every image, with the layer that introduced it
/// and the file that records it.
pub fn packages_table(report: &Report, color: bool) -> String {
    let painter = Painter { color };
    let mut out = String::new();
    for (i, image) in report.images.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let title = format!(
            "Packages of {} ({})",
            one_line(&image.name),
            package_counts(image)
        );
        let _ = writeln!(out, "{}", painter.paint(HEADING, &title));
        let mut rows = vec![vec![
            "NAME".to_string(),
            "VERSION".into(),
            "TYPE".into(),
            "LAYER".into(),
            "STATUS".into(),
            "FOUND IN".into(),
        ]];
        for package in &image.packages {
            let name = match &package.group {
                Some(group) => format!("{group}:{}", package.name),
                None => package.name.clone(),
            };
            let (layer, status, path) = match &package.location {
                Some(l) => (
                    l.layer.to_string(),
                    l.status.to_string(),
                    format!("/{}", l.display_path()),
                ),
                None => ("-".into(), "-".into(), "-".into()),
            };
            rows.push(vec![
                truncate(&name, 50),
                truncate(&package.version, 40),
                package.package_type.as_str().to_string(),
                layer,
                status,
                truncate(&path, 80),
            ]);
        }
        columns(&mut out, &painter, &rows, &[]);
    }
    out
}

/// The report as aligned text, with ANSI colour when `color` is set.
pub fn table(report: &Report, color: bool) -> String {
    let painter = Painter { color };
    let mut out = String::new();
    for (i, report_image) in report.images.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        image(&mut out, &painter, report_image, &report.analyzers);
    }
    let db = &report.vulnerability_database;
    let _ = writeln!(out);
    let status = match (db.checked, &db.updated) {
        (true, updated) => format!(
            "  vulnerability database: {} advisories, updated {}{}",
            db.records,
            updated.as_deref().unwrap_or("at an unknown time"),
            db.age_days
                .map(|d| format!(" ({d} days ago)"))
                .unwrap_or_default()
        ),
        (false, _) => "  vulnerability database: not checked".to_string(),
    };
    let _ = writeln!(out, "{status}");
    if let Some(note) = &db.note {
        let _ = writeln!(out, "  {}", one_line(note));
    }
    if let Some(policy) = &report.policy {
        let _ = writeln!(out);
        let verdict = match policy.blocked {
            true => painter.paint(severity_style(Severity::Critical), "BLOCKED"),
            false => "PASSED".to_string(),
        };
        let _ = writeln!(out, "{verdict}  {}", one_line(&policy.summary));
        for warning in &policy.warnings {
            let _ = writeln!(out, "  warning: {}", one_line(warning));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_truncation() {
        assert_eq!(human(999), "999 B");
        assert_eq!(human(1_500_000), "1.5 MB");
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("a\nb\x1b[2J", 20), "a\\nb\\u{1b}[2J");
    }
}
