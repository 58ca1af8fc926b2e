//! The vulnerability step of a scan, as the CLI and the service run it: match every image's
//! packages against the database and record in the report what they were matched against (its
//! file, age and size, like an antivirus' definitions date) — or that they were not, and why.

use std::path::Path;

use stowaway_findings::{Report, VulnerabilityDatabase};

use crate::{Database, DbError, MatchOptions, match_packages};

/// What the report says when vulnerabilities were not checked.
pub fn not_checked(note: String) -> VulnerabilityDatabase {
    VulnerabilityDatabase {
        checked: false,
        path: None,
        updated: None,
        age_days: None,
        records: 0,
        note: Some(note),
    }
}

/// Matches every image of `report` against the database in `dir` and fills in
/// `report.vulnerability_database`. Without a database the scan goes on: the report says
/// vulnerabilities were not checked and how to get the data. A database older than
/// `max_age_days` gets a note; the note, if any, is what a caller should warn about.
pub fn check_report(
    report: &mut Report,
    dir: &Path,
    options: MatchOptions,
    max_age_days: Option<u64>,
) -> Result<(), DbError> {
    let db = match Database::open(dir) {
        Ok(db) => db,
        Err(DbError::Missing(_)) => {
            report.vulnerability_database = not_checked(format!(
                "vulnerabilities were not checked: no database in {} (import OSV data with `stowaway db import <Ecosystem>/all.zip ...`)",
                dir.display()
            ));
            return Ok(());
        }
        Err(error) => return Err(error),
    };
    let info = db.info()?;
    let age_days = info
        .updated
        .as_deref()
        .and_then(|t| humantime::parse_rfc3339_weak(t).ok())
        .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
        .map(|age| age.as_secs() / 86_400);
    let note = age_days
        .zip(max_age_days)
        .filter(|(days, max)| days > max)
        .map(|(days, max)| {
            format!(
                "the vulnerability database is {days} days old (more than --db-max-age {max}): update it"
            )
        });
    for image in &mut report.images {
        let findings = match_packages(&db, &image.packages, image.os.as_ref(), options)?;
        image.add_findings(findings);
    }
    report.vulnerability_database = VulnerabilityDatabase {
        checked: true,
        path: Some(info.path.display().to_string()),
        updated: info.updated,
        age_days,
        records: info.records - info.withdrawn,
        note,
    };
    Ok(())
}
