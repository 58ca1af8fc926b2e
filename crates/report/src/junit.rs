//! JUnit XML, which Jenkins' JUnit publisher and GitLab's test report show natively.
//!
//! One `<testsuite>` per image (named after the image) with one `<testcase>` per finding:
//! `classname` is `stowaway.<kind>`, `name` is `<id> layer-<n>/<path>[!member][:line]`, or
//! `<id> <title>` for an image-wide finding. A finding that blocks under the policy is a
//! `<failure>` (type: its severity); a suppressed one is `<skipped>` with what suppressed it; any
//! other passes, its details in `<system-out>`. A last suite, `policy`, always holds one case,
//! `stowaway.policy`, that fails when the policy blocked, with the summary.
//!
//! Times are 0: stowaway does not time findings. Text is escaped for XML 1.0, whose documents
//! cannot hold most control characters even as references: those are written as `\u{..}`.

use std::fmt::Write as _;
use std::io::{self, Write};

use stowaway_findings::{Finding, ImageReport, Report};

use crate::fingerprint::display_location;

/// Escapes an attribute value for XML 1.0: tab, newline and carriage return as character
/// references, which attribute-value normalisation would otherwise turn into spaces.
fn attribute(text: &str) -> String {
    escape(text, true)
}

/// Escapes element content for XML 1.0; a carriage return as a reference, which parsers would
/// otherwise turn into a newline.
fn content(text: &str) -> String {
    escape(text, false)
}

/// Characters XML 1.0 cannot hold (controls other than tab, newline and carriage return, DEL,
/// U+FFFE, U+FFFF) become `\u{..}`, the rest is escaped as markup needs.
fn escape(text: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\'' if in_attribute => out.push_str("&apos;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || matches!(c, '\u{7f}' | '\u{fffe}' | '\u{ffff}') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// What a finding is, one fact a line: the body of its failure or its `<system-out>`.
fn details(image: &ImageReport, finding: &Finding) -> String {
    let mut text = format!(
        "{}\nid: {}\nkind: {}\nseverity: {}\nengine: {}\nimage: {}\n",
        finding.title, finding.id, finding.kind, finding.severity, finding.engine, image.name
    );
    if let Some(location) = &finding.location {
        let _ = writeln!(text, "location: {}", display_location(location));
        let _ = writeln!(text, "status: {}", location.status);
        if let Some(digest) = &location.layer_digest {
            let _ = writeln!(text, "layer digest: {digest}");
        }
        if let Some(created_by) = &location.created_by {
            let _ = writeln!(text, "created by: {created_by}");
        }
    }
    if let Some(evidence) = &finding.evidence {
        let _ = writeln!(text, "evidence: {evidence}");
    }
    if let Some(vulnerability) = &finding.vulnerability {
        let _ = writeln!(
            text,
            "package: {} {} ({})",
            vulnerability.package, vulnerability.installed_version, vulnerability.purl
        );
        if !vulnerability.aliases.is_empty() {
            let _ = writeln!(text, "aliases: {}", vulnerability.aliases.join(", "));
        }
        let fixed = if vulnerability.fixed_versions.is_empty() {
            "none".to_string()
        } else {
            vulnerability.fixed_versions.join(", ")
        };
        let _ = writeln!(text, "fixed in: {fixed}");
        let _ = writeln!(text, "severity from: {}", vulnerability.severity_source);
    }
    text
}

fn case_name(finding: &Finding) -> String {
    match &finding.location {
        Some(location) => format!("{} {}", finding.id, display_location(location)),
        None => format!("{} {}", finding.id, finding.title),
    }
}

/// One suite's cases, with its counts.
struct Suite {
    name: String,
    tests: usize,
    failures: usize,
    skipped: usize,
    cases: String,
}

impl Suite {
    fn new(name: &str) -> Suite {
        Suite {
            name: name.to_string(),
            tests: 0,
            failures: 0,
            skipped: 0,
            cases: String::new(),
        }
    }

    /// Adds a case; `outcome` is its `<failure>` or `<skipped>` element, or none for a pass.
    fn case(&mut self, classname: &str, name: &str, outcome: Outcome, out: &str) {
        self.tests += 1;
        let _ = writeln!(
            self.cases,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
            attribute(classname),
            attribute(name)
        );
        match outcome {
            Outcome::Failure { message, kind } => {
                self.failures += 1;
                let _ = writeln!(
                    self.cases,
                    "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                    attribute(&message),
                    attribute(kind),
                    content(out)
                );
            }
            Outcome::Skipped { message } => {
                self.skipped += 1;
                let _ = writeln!(
                    self.cases,
                    "      <skipped message=\"{}\"/>",
                    attribute(&message)
                );
                let _ = writeln!(
                    self.cases,
                    "      <system-out>{}</system-out>",
                    content(out)
                );
            }
            Outcome::Pass => {
                let _ = writeln!(
                    self.cases,
                    "      <system-out>{}</system-out>",
                    content(out)
                );
            }
        }
        self.cases.push_str("    </testcase>\n");
    }
}

enum Outcome<'a> {
    Failure { message: String, kind: &'a str },
    Skipped { message: String },
    Pass,
}

/// Writes the JUnit XML of the whole report.
pub fn write_junit(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    let mut suites = Vec::new();
    for image in &report.images {
        let mut suite = Suite::new(&image.name);
        for finding in &image.findings {
            let outcome = if report.is_blocking(finding) {
                Outcome::Failure {
                    message: finding.title.clone(),
                    kind: finding.severity.as_str(),
                }
            } else {
                Outcome::Pass
            };
            let classname = format!("stowaway.{}", finding.kind);
            suite.case(
                &classname,
                &case_name(finding),
                outcome,
                &details(image, finding),
            );
        }
        for suppressed in &image.suppressed {
            let finding = &suppressed.finding;
            let outcome = Outcome::Skipped {
                message: format!("suppressed ({}): {}", suppressed.by, suppressed.reason),
            };
            let classname = format!("stowaway.{}", finding.kind);
            suite.case(
                &classname,
                &case_name(finding),
                outcome,
                &details(image, finding),
            );
        }
        suites.push(suite);
    }

    let mut policy = Suite::new("policy");
    match &report.policy {
        Some(outcome) => {
            let mut text = format!(
                "{}\nfail on: {}\nblocking findings: {}\nengine failures block: {}\n",
                outcome.summary, outcome.fail_on, outcome.blocking, outcome.engine_failures_block
            );
            for warning in &outcome.warnings {
                let _ = writeln!(text, "warning: {warning}");
            }
            let result = if outcome.blocked {
                Outcome::Failure {
                    message: format!(
                        "{} finding(s) block under --fail-on {}",
                        outcome.blocking, outcome.fail_on
                    ),
                    kind: "policy",
                }
            } else {
                Outcome::Pass
            };
            policy.case("stowaway.policy", "policy", result, &text);
        }
        None => policy.case(
            "stowaway.policy",
            "policy",
            Outcome::Pass,
            "no policy was applied",
        ),
    }
    suites.push(policy);

    let total = |count: fn(&Suite) -> usize| suites.iter().map(count).sum::<usize>();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"0\">",
        attribute(&report.tool.name),
        total(|s| s.tests),
        total(|s| s.failures),
        total(|s| s.skipped)
    );
    for suite in &suites {
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"0\">",
            attribute(&suite.name),
            suite.tests,
            suite.failures,
            suite.skipped
        );
        xml.push_str(&suite.cases);
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_for_xml_1_0() {
        let text = "a<b>&\"c'\n\t\r\u{1b}[2J\u{0}\u{fffe}é";
        assert_eq!(
            attribute(text),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;&#9;&#13;\\u{1b}[2J\\u{0}\\u{fffe}é"
        );
        assert_eq!(
            content(text),
            "a&lt;b&gt;&amp;\"c'\n\t&#13;\\u{1b}[2J\\u{0}\\u{fffe}é"
        );
    }
}
