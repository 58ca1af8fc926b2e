//! The HTML report: one self-contained file a person opens from a CI build page. A header with
//! the policy verdict and the vulnerability database, then per image its summary, run
//! configuration, layers and history, the findings (filterable by kind, severity, blocking and
//! text, from the page or the URL fragment), the suppressed findings, the per-engine malware
//! verdicts, the SBOM and what was not scanned.
//!
//! Images are untrusted, so every string of the report is written through [`Esc`], which escapes
//! markup, shows control and bidirectional-override characters as `\u{..}`, and cuts very long
//! text. The page loads nothing: its CSS and JavaScript are inline, and its Content-Security-Policy
//! allows exactly those two by hash and forbids every other load, so even markup that slipped
//! through could neither run nor fetch. Long lists are bounded ([`ROW_LIMIT`], [`FINDING_LIMIT`])
//! and say how many rows they left out; the JSON report has them all.

use std::fmt::{self, Write as _};
use std::io::{self, Write};

use sha2::{Digest, Sha256};
use stowaway_findings::{
    AnalyzerInfo, FileScan, FileStatus, Finding, ImageConfig, ImageReport, Integrity, Kind,
    Location, MalwareReport, Report, Severity, Verdict, VulnerabilityDetails,
};

use crate::table::{human, package_counts};

const STYLE: &str = include_str!("html/report.css");
const SCRIPT: &str = include_str!("html/filter.js");

/// Rows at most in a table of files, packages, layers or not-scanned entries.
const ROW_LIMIT: usize = 5000;
/// Findings rows at most per image.
const FINDING_LIMIT: usize = 10_000;
/// Characters at most of one string of the report.
const TEXT_LIMIT: usize = 2000;
/// Collapsible sections with more rows than this start collapsed.
const OPEN_LIMIT: usize = 100;

/// A report string as HTML text (or a double-quoted attribute value): markup escaped, control and
/// bidirectional-override characters shown as `\u{..}` (newlines and tabs kept), cut after
/// [`TEXT_LIMIT`] characters with the count of the rest.
struct Esc<'a>(&'a str);

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (at, c)) in self.0.char_indices().enumerate() {
            if i == TEXT_LIMIT {
                let rest = self.0[at..].chars().count();
                return write!(f, "… ({rest} more characters)");
            }
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&#39;")?,
                '\n' | '\t' => f.write_char(c)?,
                c if c.is_control() || is_bidi_control(c) => write!(f, "{}", c.escape_unicode())?,
                c => f.write_char(c)?,
            }
        }
        Ok(())
    }
}

/// Standard base64 (with padding), for the Content-Security-Policy hashes.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// `'sha256-…'`: the CSP source that allows exactly this inline text.
fn csp_hash(text: &str) -> String {
    format!("'sha256-{}'", base64(&Sha256::digest(text.as_bytes())))
}

/// The policy: nothing may load, only this page's own style and script run.
fn content_security_policy() -> String {
    format!(
        "default-src 'none'; style-src {}; script-src {}; img-src 'none'; font-src 'none'; \
         connect-src 'none'; base-uri 'none'; form-action 'none'",
        csp_hash(STYLE),
        csp_hash(SCRIPT)
    )
}

/// An engine's time on a file: `850 µs`, `12.3 ms`, `1.25 s`.
fn duration(micros: u64) -> String {
    if micros < 1000 {
        format!("{micros} µs")
    } else if micros < 1_000_000 {
        format!("{:.1} ms", micros as f64 / 1e3)
    } else {
        format!("{:.2} s", micros as f64 / 1e6)
    }
}

/// At most `limit` of `items`, and how many were left out.
fn bounded<T>(items: &[T], limit: usize) -> (&[T], usize) {
    let shown = items.len().min(limit);
    (&items[..shown], items.len() - shown)
}

/// The closing row of a bounded table: how many rows it left out.
fn left_out(out: &mut dyn Write, columns: usize, left: usize, what: &str) -> io::Result<()> {
    if left > 0 {
        writeln!(
            out,
            "<tr class=\"left-out\"><td colspan=\"{columns}\">{left} more {what} not shown: \
             the JSON report lists them all.</td></tr>"
        )?;
    }
    Ok(())
}

/// A table's opening and header row.
fn table_head(out: &mut dyn Write, class: &str, headers: &[&str]) -> io::Result<()> {
    write!(out, "<table class=\"{class}\"><thead><tr>")?;
    for header in headers {
        write!(out, "<th>{header}</th>")?;
    }
    writeln!(out, "</tr></thead><tbody>")
}

/// A collapsible section's opening and summary line.
fn details(out: &mut dyn Write, class: &str, open: bool, summary: &str) -> io::Result<()> {
    let open = if open { " open" } else { "" };
    writeln!(
        out,
        "<details class=\"{class}\"{open}><summary>{}</summary>",
        Esc(summary)
    )
}

/// `layer N: /path!member:line`, as the findings and files show a place.
fn place(layer: usize, path: &str, member: Option<&str>, line: Option<u64>) -> String {
    let mut text = format!("layer {layer}: /{path}");
    if let Some(member) = member {
        let _ = write!(text, "!{member}");
    }
    if let Some(line) = line {
        let _ = write!(text, ":{line}");
    }
    text
}

/// A place and, below it, whether the file is still there.
fn place_cell(out: &mut dyn Write, place: &str, status: FileStatus) -> io::Result<()> {
    let class = if status.is_present() {
        "status"
    } else {
        "status status-gone"
    };
    write!(
        out,
        "<td><code>{}</code><div class=\"{class}\">{status}</div></td>",
        Esc(place)
    )
}

fn location_cell(out: &mut dyn Write, location: Option<&Location>) -> io::Result<()> {
    match location {
        None => write!(out, "<td class=\"muted\">image-wide</td>"),
        Some(l) => place_cell(
            out,
            &place(l.layer, &l.path, l.member.as_deref(), l.line),
            l.status,
        ),
    }
}

fn severity_cell(out: &mut dyn Write, severity: Severity) -> io::Result<()> {
    write!(out, "<td class=\"sev sev-{severity}\">{severity}</td>")
}

/// A CSS class for a verdict: `v-not-scanned`.
fn verdict_class(verdict: Verdict) -> String {
    format!("v-{}", verdict.as_str().replace(' ', "-"))
}

/// The advisory's page on osv.dev, for a vulnerability id; a link (navigation), never a load.
fn advisory_url(id: &str) -> String {
    let mut url = String::from("https://osv.dev/vulnerability/");
    for byte in id.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':') {
            url.push(char::from(byte));
        } else {
            let _ = write!(url, "%{byte:02X}");
        }
    }
    url
}

/// Writes `report` as one self-contained HTML page.
pub fn write_html(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"
    )?;
    writeln!(
        out,
        "<meta http-equiv=\"Content-Security-Policy\" content=\"{}\">",
        content_security_policy()
    )?;
    writeln!(
        out,
        "<meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"{} {}\">\n<title>Stowaway report: {}</title>",
        Esc(&report.tool.name),
        Esc(&report.tool.version),
        Esc(&report.input)
    )?;
    writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>")?;
    header(out, report)?;
    filters(out, report)?;
    writeln!(out, "<main>")?;
    for (index, image_report) in report.images.iter().enumerate() {
        image(out, report, index, image_report)?;
    }
    writeln!(out, "</main>")?;
    writeln!(
        out,
        "<footer>Made by {} {} (report schema {}). This page loads nothing from the network.</footer>",
        Esc(&report.tool.name),
        Esc(&report.tool.version),
        Esc(&report.schema_version)
    )?;
    writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>")
}

/// Tool, input, the policy verdict, the vulnerability database and the analyzers.
fn header(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(
        out,
        "<header>\n<h1>Stowaway report</h1>\n<dl class=\"facts\">"
    )?;
    writeln!(
        out,
        "<dt>Tool</dt><dd>{} {}</dd>\n<dt>Input</dt><dd><code>{}</code></dd>\n<dt>Images</dt><dd>{}</dd>",
        Esc(&report.tool.name),
        Esc(&report.tool.version),
        Esc(&report.input),
        report.images.len()
    )?;
    let db = &report.vulnerability_database;
    write!(out, "<dt>Vulnerability database</dt><dd class=\"vulndb\">")?;
    if db.checked {
        write!(
            out,
            "{} advisories, updated {}",
            db.records,
            Esc(db.updated.as_deref().unwrap_or("at an unknown time"))
        )?;
        if let Some(days) = db.age_days {
            write!(out, " ({days} days ago)")?;
        }
        if let Some(path) = &db.path {
            write!(out, " <span class=\"muted\">{}</span>", Esc(path))?;
        }
    } else {
        write!(out, "not checked")?;
    }
    if let Some(note) = &db.note {
        write!(out, " <span class=\"warn\">{}</span>", Esc(note))?;
    }
    writeln!(out, "</dd>\n</dl>")?;

    match &report.policy {
        None => writeln!(
            out,
            "<div class=\"verdict\" id=\"verdict\"><strong>NO POLICY</strong>\
             This report was made without a policy: nothing was judged blocking.</div>"
        )?,
        Some(policy) => {
            let (class, word) = if policy.blocked {
                ("blocked", "BLOCKED")
            } else {
                ("passed", "PASSED")
            };
            writeln!(
                out,
                "<div class=\"verdict {class}\" id=\"verdict\"><strong>{word}</strong>{}",
                Esc(&policy.summary)
            )?;
            writeln!(
                out,
                "<p>Fail on <code>{}</code>; {} blocking finding{}; engine failures {}.</p>",
                Esc(&policy.fail_on),
                policy.blocking,
                if policy.blocking == 1 { "" } else { "s" },
                if policy.engine_failures_block {
                    "block"
                } else {
                    "do not block"
                }
            )?;
            if !policy.warnings.is_empty() {
                writeln!(out, "<ul class=\"plain\">")?;
                for warning in &policy.warnings {
                    writeln!(out, "<li class=\"warn\">{}</li>", Esc(warning))?;
                }
                writeln!(out, "</ul>")?;
            }
            writeln!(out, "</div>")?;
        }
    }

    details(
        out,
        "analyzers",
        false,
        &format!("Analyzers ({})", report.analyzers.len()),
    )?;
    table_head(out, "analyzers", &["Analyzer", "Version", "Definitions"])?;
    let (shown, left) = bounded(&report.analyzers, ROW_LIMIT);
    for analyzer in shown {
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            Esc(&analyzer.id),
            analyzer.version,
            Esc(analyzer.definitions.as_deref().unwrap_or("-"))
        )?;
    }
    left_out(out, 3, left, "analyzers")?;
    writeln!(out, "</tbody></table></details>\n</header>")
}

/// The filter bar over every image's findings; hidden until the script runs.
fn filters(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    let rendered = || {
        report
            .images
            .iter()
            .flat_map(|image| bounded(&image.findings, FINDING_LIMIT).0)
    };
    let total = rendered().count();
    writeln!(
        out,
        "<nav class=\"filters\" id=\"filters\" aria-label=\"Filter the findings\" hidden>"
    )?;
    write!(out, "<fieldset><legend>Severity</legend>")?;
    for severity in Severity::ALL {
        let n = rendered().filter(|f| f.severity == severity).count();
        write!(
            out,
            "<label><input type=\"checkbox\" name=\"severity\" value=\"{severity}\" checked> \
             <span class=\"sev sev-{severity}\">{severity}</span> ({n})</label>"
        )?;
    }
    write!(out, "</fieldset>\n<fieldset><legend>Kind</legend>")?;
    for kind in Kind::ALL {
        let n = rendered().filter(|f| f.kind == kind).count();
        write!(
            out,
            "<label><input type=\"checkbox\" name=\"kind\" value=\"{kind}\" checked> {kind} ({n})</label>"
        )?;
    }
    writeln!(out, "</fieldset>")?;
    writeln!(
        out,
        "<label><input type=\"checkbox\" id=\"filter-blocking\"> blocking only</label>\n\
         <label>Search <input type=\"search\" id=\"filter-search\" placeholder=\"id, path, package, text\"></label>\n\
         <button type=\"button\" id=\"filter-reset\">Show all</button>\n\
         <span class=\"count\"><span id=\"visible-count\">{total}</span> of {total} findings shown</span>\n</nav>"
    )
}

/// One image: summary, configuration, layers, findings, suppressed, malware, SBOM, not scanned.
fn image(
    out: &mut dyn Write,
    report: &Report,
    index: usize,
    image: &ImageReport,
) -> io::Result<()> {
    writeln!(
        out,
        "<section class=\"image\" id=\"image-{index}\">\n<h2>Image <code>{}</code></h2>",
        Esc(&image.name)
    )?;
    summary(out, image)?;
    match &image.config {
        Some(config) => run_config(out, config)?,
        None => writeln!(
            out,
            "<h3>Run configuration</h3><p class=\"none\">None: the input has no image configuration.</p>"
        )?,
    }
    layers(out, image)?;
    findings(out, report, image)?;
    suppressed(out, image)?;
    if let Some(malware_report) = &image.malware {
        malware(out, malware_report, &report.analyzers)?;
    }
    packages(out, image)?;
    not_scanned(out, image)?;
    writeln!(out, "</section>")
}

fn summary(out: &mut dyn Write, image: &ImageReport) -> io::Result<()> {
    writeln!(out, "<dl class=\"facts\">")?;
    write!(out, "<dt>Tags</dt><dd>")?;
    if image.tags.is_empty() {
        write!(out, "<span class=\"muted\">none</span>")?;
    }
    let (tags, left) = bounded(&image.tags, ROW_LIMIT);
    for (i, tag) in tags.iter().enumerate() {
        let comma = if i > 0 { ", " } else { "" };
        write!(out, "{comma}<code>{}</code>", Esc(tag))?;
    }
    if left > 0 {
        write!(out, " and {left} more")?;
    }
    writeln!(out, "</dd>")?;
    let facts = [
        ("Image id", image.config_digest.as_deref()),
        ("Manifest", image.manifest_digest.as_deref()),
        ("Platform", image.platform.as_deref()),
    ];
    for (name, value) in facts {
        if let Some(value) = value {
            writeln!(out, "<dt>{name}</dt><dd><code>{}</code></dd>", Esc(value))?;
        }
    }
    write!(out, "<dt>OS</dt><dd>")?;
    match &image.os {
        Some(os) => {
            let name = match (&os.pretty_name, &os.version_id) {
                (Some(pretty), _) => pretty.clone(),
                (None, Some(version)) => format!("{} {version}", os.id),
                (None, None) => os.id.clone(),
            };
            write!(
                out,
                "{} <span class=\"muted\">(from /{})</span>",
                Esc(&name),
                Esc(&os.source)
            )?;
        }
        None => write!(out, "<span class=\"muted\">unknown</span>")?,
    }
    writeln!(out, "</dd>")?;
    write!(out, "<dt>Findings</dt><dd>")?;
    for (i, severity) in Severity::ALL.into_iter().enumerate() {
        let comma = if i > 0 { ", " } else { "" };
        write!(
            out,
            "{comma}<span class=\"sev sev-{severity}\">{} {severity}</span>",
            image.counts.get(severity)
        )?;
    }
    writeln!(out, "</dd>")?;
    let kinds: Vec<String> = Kind::ALL
        .into_iter()
        .filter_map(|kind| {
            let n = image.findings.iter().filter(|f| f.kind == kind).count();
            (n > 0).then(|| format!("{n} {kind}"))
        })
        .collect();
    writeln!(
        out,
        "<dt>By kind</dt><dd>{}</dd>",
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(", ")
        }
    )?;
    if !image.suppressed.is_empty() {
        writeln!(
            out,
            "<dt>Suppressed</dt><dd>{} (listed below with the reasons)</dd>",
            image.suppressed.len()
        )?;
    }
    writeln!(
        out,
        "<dt>Packages</dt><dd>{}</dd>\n</dl>",
        Esc(&package_counts(image))
    )
}

/// A list of strings as an HTML list, bounded.
fn string_list(out: &mut dyn Write, items: &[String]) -> io::Result<()> {
    if items.is_empty() {
        return write!(out, "<span class=\"muted\">none</span>");
    }
    write!(out, "<ul class=\"plain\">")?;
    let (shown, left) = bounded(items, ROW_LIMIT);
    for item in shown {
        write!(out, "<li><code>{}</code></li>", Esc(item))?;
    }
    if left > 0 {
        write!(out, "<li class=\"muted\">{left} more not shown</li>")?;
    }
    write!(out, "</ul>")
}

/// A command as the config writes it: `["sh", "-c", "…"]`.
fn command(words: &[String]) -> String {
    format!("{words:?}")
}

fn run_config(out: &mut dyn Write, config: &ImageConfig) -> io::Result<()> {
    writeln!(out, "<h3>Run configuration</h3>")?;
    table_head(out, "config", &["Setting", "Value"])?;
    match &config.user {
        Some(user) if !user.is_empty() => writeln!(
            out,
            "<tr><th>User</th><td><code>{}</code></td></tr>",
            Esc(user)
        )?,
        _ => writeln!(
            out,
            "<tr><th>User</th><td><span class=\"warn\">not set: processes run as root</span></td></tr>"
        )?,
    }
    let commands = [
        ("Entrypoint", config.entrypoint.as_deref()),
        ("Cmd", config.cmd.as_deref()),
        ("Healthcheck", config.healthcheck.as_deref()),
    ];
    for (name, words) in commands {
        match words {
            Some(words) => writeln!(
                out,
                "<tr><th>{name}</th><td><code>{}</code></td></tr>",
                Esc(&command(words))
            )?,
            None => writeln!(out, "<tr><th>{name}</th><td class=\"muted\">none</td></tr>")?,
        }
    }
    if let Some(dir) = &config.working_dir {
        writeln!(
            out,
            "<tr><th>Working directory</th><td><code>{}</code></td></tr>",
            Esc(dir)
        )?;
    }
    let lists = [
        ("Environment", &config.env),
        ("Exposed ports", &config.exposed_ports),
        ("Volumes", &config.volumes),
    ];
    for (name, items) in lists {
        write!(out, "<tr><th>{name}</th><td>")?;
        string_list(out, items)?;
        writeln!(out, "</td></tr>")?;
    }
    let labels: Vec<String> = config
        .labels
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    write!(out, "<tr><th>Labels</th><td>")?;
    string_list(out, &labels)?;
    writeln!(out, "</td></tr>\n</tbody></table>")
}

fn layers(out: &mut dyn Write, image: &ImageReport) -> io::Result<()> {
    writeln!(out, "<h3>Layers ({})</h3>", image.layers.len())?;
    table_head(
        out,
        "layers",
        &[
            "#",
            "Diff id",
            "Blob digest",
            "Compression",
            "Size",
            "Uncompressed",
            "Entries",
            "Integrity",
            "Created by",
        ],
    )?;
    let (shown, left) = bounded(&image.layers, ROW_LIMIT);
    for layer in shown {
        write!(out, "<tr><td class=\"num\">{}</td>", layer.index)?;
        for digest in [&layer.diff_id, &layer.blob_digest] {
            match digest {
                Some(digest) => {
                    let short: String = digest.chars().take(19).collect();
                    write!(
                        out,
                        "<td><code title=\"{}\">{}</code></td>",
                        Esc(digest),
                        Esc(&short)
                    )?
                }
                None => write!(out, "<td class=\"muted\">-</td>")?,
            }
        }
        let integrity = match layer.integrity {
            Integrity::Verified => "verified",
            Integrity::Mismatch => "<span class=\"sev sev-critical\">MISMATCH</span>",
            Integrity::Undeclared => "<span class=\"muted\">nothing declared</span>",
        };
        writeln!(
            out,
            "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
             <td>{integrity}</td><td><code>{}</code></td></tr>",
            Esc(&layer.compression),
            human(layer.size),
            human(layer.uncompressed_size),
            layer.entries,
            Esc(layer.created_by.as_deref().unwrap_or("-"))
        )?;
    }
    left_out(out, 9, left, "layers")?;
    writeln!(out, "</tbody></table>")?;

    details(
        out,
        "history",
        false,
        &format!("Build history ({} steps)", image.history.len()),
    )?;
    table_head(out, "history", &["#", "Created", "Layer", "Created by"])?;
    let (shown, left) = bounded(&image.history, ROW_LIMIT);
    for (step, entry) in shown.iter().enumerate() {
        let layer = match entry.layer {
            Some(layer) => layer.to_string(),
            None if entry.empty_layer => "no layer".to_string(),
            None => "-".to_string(),
        };
        writeln!(
            out,
            "<tr><td class=\"num\">{step}</td><td>{}</td><td>{layer}</td><td><code>{}</code></td></tr>",
            Esc(entry.created.as_deref().unwrap_or("-")),
            Esc(entry.created_by.as_deref().unwrap_or("-"))
        )?;
    }
    left_out(out, 4, left, "steps")?;
    writeln!(out, "</tbody></table></details>")
}

fn vulnerability_cell(out: &mut dyn Write, details: &VulnerabilityDetails) -> io::Result<()> {
    write!(
        out,
        "<td><dl class=\"vuln\"><dt>Package</dt><dd><code>{}</code> {}</dd>",
        Esc(&details.package),
        Esc(&details.installed_version)
    )?;
    write!(out, "<dt>Fixed in</dt><dd>")?;
    if details.fixed_versions.is_empty() {
        write!(out, "<span class=\"warn\">no fix available</span>")?;
    } else {
        write!(out, "{}", Esc(&details.fixed_versions.join(", ")))?;
    }
    write!(out, "</dd>")?;
    if !details.aliases.is_empty() {
        write!(
            out,
            "<dt>Aliases</dt><dd>{}</dd>",
            Esc(&details.aliases.join(", "))
        )?;
    }
    write!(
        out,
        "<dt>Severity from</dt><dd>{}</dd><dt>Ecosystem</dt><dd>{}",
        Esc(&details.severity_source),
        Esc(&details.ecosystem)
    )?;
    if details.matched_name != details.package {
        write!(out, " (as {})", Esc(&details.matched_name))?;
    }
    write!(
        out,
        "</dd><dt>PURL</dt><dd><code>{}</code></dd></dl></td>",
        Esc(&details.purl)
    )
}

fn findings(out: &mut dyn Write, report: &Report, image: &ImageReport) -> io::Result<()> {
    writeln!(out, "<h3>Findings ({})</h3>", image.findings.len())?;
    if image.findings.is_empty() {
        return writeln!(out, "<p class=\"none\">No findings.</p>");
    }
    table_head(
        out,
        "findings",
        &[
            "Severity",
            "Kind",
            "Id",
            "What",
            "Where",
            "Engine",
            "Vulnerability",
        ],
    )?;
    let (shown, left) = bounded(&image.findings, FINDING_LIMIT);
    for finding in shown {
        finding_row(out, report, finding)?;
    }
    left_out(out, 7, left, "findings")?;
    writeln!(out, "</tbody></table>")
}

fn finding_row(out: &mut dyn Write, report: &Report, finding: &Finding) -> io::Result<()> {
    let blocking = report.is_blocking(finding);
    write!(
        out,
        "<tr data-kind=\"{}\" data-severity=\"{}\" data-blocking=\"{blocking}\"{}>",
        finding.kind,
        finding.severity,
        if blocking { " class=\"blocking\"" } else { "" }
    )?;
    severity_cell(out, finding.severity)?;
    write!(out, "<td>{}</td><td>", finding.kind)?;
    if finding.kind == Kind::Vuln {
        write!(
            out,
            "<a href=\"{}\" rel=\"noreferrer noopener\"><code>{}</code></a>",
            Esc(&advisory_url(&finding.id)),
            Esc(&finding.id)
        )?;
    } else {
        write!(out, "<code>{}</code>", Esc(&finding.id))?;
    }
    if blocking {
        write!(out, "<span class=\"badge blocking\">blocking</span>")?;
    }
    write!(out, "</td><td>{}", Esc(&finding.title))?;
    if let Some(evidence) = &finding.evidence {
        write!(
            out,
            "<div class=\"evidence\"><code>{}</code></div>",
            Esc(evidence)
        )?;
    }
    write!(out, "</td>")?;
    location_cell(out, finding.location.as_ref())?;
    write!(out, "<td>{}</td>", Esc(&finding.engine))?;
    match &finding.vulnerability {
        Some(details) => vulnerability_cell(out, details)?,
        None => write!(out, "<td></td>")?,
    }
    writeln!(out, "</tr>")
}

fn suppressed(out: &mut dyn Write, image: &ImageReport) -> io::Result<()> {
    if image.suppressed.is_empty() {
        return Ok(());
    }
    details(
        out,
        "suppressed",
        false,
        &format!(
            "Suppressed findings ({}): not counted, never blocking",
            image.suppressed.len()
        ),
    )?;
    table_head(
        out,
        "suppressed",
        &[
            "Severity",
            "Kind",
            "Id",
            "What",
            "Where",
            "Suppressed by",
            "Reason",
        ],
    )?;
    let (shown, left) = bounded(&image.suppressed, ROW_LIMIT);
    for entry in shown {
        let finding = &entry.finding;
        write!(out, "<tr>")?;
        severity_cell(out, finding.severity)?;
        write!(
            out,
            "<td>{}</td><td><code>{}</code></td><td>{}</td>",
            finding.kind,
            Esc(&finding.id),
            Esc(&finding.title)
        )?;
        location_cell(out, finding.location.as_ref())?;
        writeln!(
            out,
            "<td>{}</td><td>{}</td></tr>",
            Esc(&entry.by),
            Esc(&entry.reason)
        )?;
    }
    left_out(out, 7, left, "suppressed findings")?;
    writeln!(out, "</tbody></table></details>")
}

/// Engines with their definitions, verdict counts, the files not found clean with every engine's
/// verdict, and (collapsed) every scanned file.
fn malware(
    out: &mut dyn Write,
    malware: &MalwareReport,
    analyzers: &[AnalyzerInfo],
) -> io::Result<()> {
    writeln!(out, "<h3>Malware scan</h3>")?;
    table_head(
        out,
        "engines",
        &[
            "Engine",
            "Version",
            "Definitions",
            "Detections",
            "Failed",
            "Scan time",
        ],
    )?;
    for engine in &malware.engines {
        let (mut detections, mut failed, mut micros) = (0usize, 0usize, 0u64);
        for result in malware
            .files
            .iter()
            .flat_map(|f| &f.results)
            .filter(|r| &r.engine == engine)
        {
            micros = micros.saturating_add(result.time_us);
            match result.verdict {
                Verdict::Clean | Verdict::NotScanned => {}
                Verdict::Failed => failed += 1,
                _ => detections += 1,
            }
        }
        let analyzer = analyzers.iter().find(|a| &a.id == engine);
        writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{detections}</td>\
             <td class=\"num\">{failed}</td><td class=\"num\">{}</td></tr>",
            Esc(engine),
            analyzer.map_or("-".to_string(), |a| a.version.to_string()),
            Esc(analyzer
                .and_then(|a| a.definitions.as_deref())
                .unwrap_or("-")),
            duration(micros)
        )?;
    }
    writeln!(out, "</tbody></table>")?;
    let verdicts: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| format!("{} {}", malware.verdicts.get(*v), v.as_str()))
        .collect();
    writeln!(
        out,
        "<p>{} files scanned: {}.</p>",
        malware.files_scanned,
        verdicts.join(", ")
    )?;

    let flagged: Vec<&FileScan> = malware
        .files
        .iter()
        .filter(|f| f.verdict != Verdict::Clean)
        .collect();
    if flagged.is_empty() {
        writeln!(out, "<p class=\"none\">Every scanned file is clean.</p>")?;
    } else {
        writeln!(out, "<h4>Files not found clean ({})</h4>", flagged.len())?;
        table_head(out, "flagged-files", &["Verdict", "File", "Engines"])?;
        let (shown, left) = bounded(&flagged, ROW_LIMIT);
        for file in shown {
            file_row(out, file)?;
        }
        left_out(out, 3, left, "files")?;
        writeln!(out, "</tbody></table>")?;
    }

    if !malware.files.is_empty() {
        details(
            out,
            "all-files",
            false,
            &format!("Every scanned file ({})", malware.files.len()),
        )?;
        table_head(out, "all-files", &["Verdict", "File", "Engines"])?;
        let (shown, left) = bounded(&malware.files, ROW_LIMIT);
        for file in shown {
            file_row(out, file)?;
        }
        left_out(out, 3, left, "files")?;
        writeln!(out, "</tbody></table></details>")?;
    }
    Ok(())
}

/// One file's aggregated verdict, place, and what each engine said.
fn file_row(out: &mut dyn Write, file: &FileScan) -> io::Result<()> {
    write!(
        out,
        "<tr><td class=\"{}\">{}</td>",
        verdict_class(file.verdict),
        file.verdict.as_str()
    )?;
    place_cell(
        out,
        &place(file.layer, &file.path, file.member.as_deref(), None),
        file.status,
    )?;
    write!(out, "<td><ul class=\"plain engines\">")?;
    for result in &file.results {
        write!(
            out,
            "<li><span class=\"{}\">{}</span> <b>{}</b>",
            verdict_class(result.verdict),
            result.verdict.as_str(),
            Esc(&result.engine)
        )?;
        if let Some(threat) = &result.threat {
            write!(out, " <code>{}</code>", Esc(threat))?;
        }
        write!(
            out,
            " <span class=\"muted\">{}</span></li>",
            duration(result.time_us)
        )?;
    }
    if let Some(code) = file.not_scanned {
        write!(
            out,
            "<li><span class=\"v-not-scanned\">not scanned</span> {}",
            code.as_str()
        )?;
        if let Some(reason) = &file.reason {
            write!(out, ": {}", Esc(reason))?;
        }
        write!(out, "</li>")?;
    }
    writeln!(out, "</ul></td></tr>")
}

fn packages(out: &mut dyn Write, image: &ImageReport) -> io::Result<()> {
    writeln!(out, "<h3>Packages (SBOM)</h3>")?;
    if image.packages.is_empty() {
        return writeln!(out, "<p class=\"none\">No packages found.</p>");
    }
    details(
        out,
        "sbom",
        image.packages.len() <= OPEN_LIMIT,
        &format!(
            "{} packages: {}",
            image.packages.len(),
            package_counts(image)
        ),
    )?;
    table_head(
        out,
        "sbom",
        &[
            "Name", "Version", "Type", "PURL", "Licenses", "Layer", "Status", "Found in",
        ],
    )?;
    let (shown, left) = bounded(&image.packages, ROW_LIMIT);
    for package in shown {
        let name = match &package.group {
            Some(group) => format!("{group}:{}", package.name),
            None => package.name.clone(),
        };
        write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td>",
            Esc(&name),
            Esc(&package.version),
            package.package_type.as_str(),
            Esc(&package.purl),
            Esc(&package.licenses.join(", "))
        )?;
        match &package.location {
            Some(l) => {
                let class = if l.status.is_present() {
                    ""
                } else {
                    " class=\"status-gone\""
                };
                writeln!(
                    out,
                    "<td class=\"num\">{}</td><td{class}>{}</td><td><code>/{}</code></td></tr>",
                    l.layer,
                    l.status,
                    Esc(&l.display_path())
                )?
            }
            None => writeln!(out, "<td>-</td><td>-</td><td>-</td></tr>")?,
        }
    }
    left_out(out, 8, left, "packages")?;
    writeln!(out, "</tbody></table></details>")
}

fn not_scanned(out: &mut dyn Write, image: &ImageReport) -> io::Result<()> {
    if image.not_scanned.is_empty() {
        return Ok(());
    }
    writeln!(out, "<h3>Not scanned ({})</h3>", image.not_scanned.len())?;
    table_head(out, "not-scanned", &["Where", "Why", "Detail"])?;
    let (shown, left) = bounded(&image.not_scanned, ROW_LIMIT);
    for entry in shown {
        write!(out, "<tr>")?;
        location_cell(out, Some(&entry.location))?;
        writeln!(
            out,
            "<td>{}</td><td>{}</td></tr>",
            entry.code.as_str(),
            Esc(&entry.reason)
        )?;
    }
    left_out(out, 3, left, "entries")?;
    writeln!(out, "</tbody></table>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_and_cutting() {
        assert_eq!(
            Esc("<b a=\"x\" b='y'>&</b>").to_string(),
            "&lt;b a=&quot;x&quot; b=&#39;y&#39;&gt;&amp;&lt;/b&gt;"
        );
        assert_eq!(
            Esc("a\nb\x1b[2J\u{202e}txt.exe").to_string(),
            "a\nb\\u{1b}[2J\\u{202e}txt.exe"
        );
        let long = "é".repeat(TEXT_LIMIT + 5);
        let shown = Esc(&long).to_string();
        assert!(shown.ends_with("é… (5 more characters)"), "{shown}");
        assert_eq!(shown.chars().filter(|c| *c == 'é').count(), TEXT_LIMIT);
    }

    #[test]
    fn base64_and_hashes() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"hello"), "aGVsbG8=");
        // The empty string's sha256, as CSP writes it (`openssl dgst -sha256 -binary | base64`).
        assert_eq!(
            csp_hash(""),
            "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
        );
    }

    #[test]
    fn advisory_links_are_encoded() {
        assert_eq!(
            advisory_url("CVE-2024-1234"),
            "https://osv.dev/vulnerability/CVE-2024-1234"
        );
        assert_eq!(
            advisory_url("x\"><script>"),
            "https://osv.dev/vulnerability/x%22%3E%3Cscript%3E"
        );
        assert_eq!(duration(850), "850 µs");
        assert_eq!(duration(12_345), "12.3 ms");
        assert_eq!(human(1_500_000), "1.5 MB");
    }
}
