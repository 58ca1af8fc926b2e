//! Renderings of a [`Report`]. Rendering never changes what was found: every format here is a
//! view of the same model (ripgrep's split between searching and printing).
//!
//! - [`write_json`]: the stable report, versioned by `schema_version`, documented by [`json_schema`]
//!   (`docs/report.schema.json`).
//! - [`table`]: what a person reads in a terminal or a CI log.
//! - [`write_cyclonedx`] and [`write_spdx`]: the SBOM of one image, as CycloneDX 1.6 and SPDX 2.3
//!   JSON.

mod cyclonedx;
mod sbom;
mod spdx;
mod table;

pub use cyclonedx::write_cyclonedx;
pub use spdx::write_spdx;
pub use table::{packages_table, table};

use std::io::{self, Write};

use stowaway_findings::Report;

/// Writes the JSON report, pretty-printed, ending with a newline, as it is serialised.
pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    out.write_all(b"\n")
}

/// The JSON Schema of the JSON report.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Report);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    text.push('\n');
    text
}
