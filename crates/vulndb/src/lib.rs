//! The offline advisory database.
//!
//! The one input format is OSV (https://ossf.github.io/osv-schema/): `stowaway db import` takes
//! the `<Ecosystem>/all.zip` files osv.dev publishes, directories of OSV JSON files, or single
//! files, and stores every record in one SQLite file in the database directory, indexed by
//! (ecosystem, package name) for the lookups a scan makes. `docs/vulndb.md` explains the choice
//! of store.
//!
//! - [`osv`]: the OSV record, as far as matching and reports need it.
//! - [`Database`]: import, lookup and the summary `stowaway db info` prints.
//! - [`ranges`]: OSV range evaluation; [`cvss`]: scores from CVSS v3 and v4 vectors.
//! - [`match_packages`]: the findings for an image's packages.
//! - [`update()`]: `stowaway db update`, osv.dev's (or a mirror's) `all.zip` files fetched when
//!   they changed and swapped in atomically.

pub mod cvss;
mod matcher;
pub mod osv;
pub mod ranges;
mod report;
mod store;
mod update;

pub use matcher::{MatchOptions, Query, match_packages, query};
pub use report::{check_report, not_checked};
pub use store::{Database, DbError, DbInfo, DownloadState, EcosystemCount, ImportSummary};
pub use update::{
    DEFAULT_BASE_URL, DEFAULT_ECOSYSTEMS, EcosystemUpdate, UpdateOutcome, UpdateSummary, update,
};
