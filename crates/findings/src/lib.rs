//! The findings model: what a scan found, where, and how bad it is.
//!
//! Every analyzer produces [`Finding`]s and every report format renders the same [`Report`]; this
//! crate holds only data and the small rules that belong to the data (severity order, the
//! `--fail-on` selector). Scanning lives in `stowaway-scan`, rendering in `stowaway-report`.
//!
//! The JSON form of [`Report`] is the stable, versioned report schema: bump [`SCHEMA_VERSION`] on
//! any change that a consumer could notice, and regenerate `docs/report.schema.json`.

mod package;
mod policy;
mod report;
mod sha256;
mod text;
mod verdict;

pub use package::{Package, PackageType, SourcePackage, normalize_python_name};
pub use policy::{FailOn, FailOnError, Selector};
pub use report::*;
pub use sha256::Sha256;
pub use text::one_line;
pub use verdict::*;
