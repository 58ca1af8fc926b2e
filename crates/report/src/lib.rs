//! Renderings of a [`Report`]. Rendering never changes what was found: every format here is a
//! view of the same model (ripgrep's split between searching and printing).
//!
//! - [`write_json`]: the stable report, versioned by `schema_version`, documented by [`json_schema`]
//!   (`docs/report.schema.json`).
//! - [`table`]: what a person reads in a terminal or a CI log.
//! - [`write_cyclonedx`] and [`write_spdx`]: the SBOM of one image, as CycloneDX 1.6 and SPDX 2.3
//!   JSON.
//! - [`write_cyclonedx_vex`]: the same CycloneDX SBOM with the image's advisories and their VEX
//!   analysis as `vulnerabilities`.
//! - [`write_sarif`], [`write_junit`] and [`write_gitlab`]: the findings for CI, as SARIF 2.1.0
//!   (code-scanning dashboards, Jenkins' Warnings NG), JUnit XML (Jenkins' and GitLab's test
//!   reports) and GitLab's container-scanning report.
//! - [`write_html`]: one self-contained HTML page (inline CSS and JS, nothing loaded) with the
//!   policy verdict, filterable findings, per-engine malware verdicts and the SBOM.

mod cyclonedx;
mod fingerprint;
mod gitlab;
mod html;
mod junit;
mod sarif;
mod sbom;
mod spdx;
mod table;

pub use cyclonedx::write_cyclonedx;
pub use cyclonedx::write_cyclonedx_vex;
pub use gitlab::write_gitlab;
pub use html::write_html;
pub use junit::write_junit;
pub use sarif::write_sarif;
pub use spdx::write_spdx;
pub use table::{packages_table, table};

use std::io::{self, Write};

use stowaway_findings::Report;

/// Writes the JSON report, pretty-printed, ending with a newline, as it is serialised.
pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    // serde_json writes a few bytes at a time: into a buffer of a concrete type they are inlined
    // copies, where through `dyn Write` each would be a call (a third of the time, measured).
    let mut buffered = io::BufWriter::with_capacity(1 << 20, out);
    serde_json::to_writer_pretty(&mut buffered, report)?;
    buffered.write_all(b"\n")?;
    buffered.flush()
}

/// The JSON Schema of the JSON report.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Report);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}
