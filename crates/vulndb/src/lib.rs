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
//! - [`ranges`]: OSV range evaluation; [`cvss`]: base scores from CVSS v3 vectors.
//! - [`match_packages`]: the findings for an image's packages.

pub mod cvss;
mod matcher;
pub mod osv;
pub mod ranges;
mod store;

pub use matcher::{MatchOptions, Query, match_packages, query};
pub use store::{Database, DbError, DbInfo, EcosystemCount, ImportSummary};
