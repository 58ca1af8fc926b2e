//! Checks of the files an image ships: setuid and setgid executables, from the inventory.
//!
//! Every distribution ships a few (`passwd`, `su`, `mount`), so those in the system directories
//! are `info`, for the record; elsewhere they are `high`: an attacker's way back to root.

use stowaway_findings::{EntryType, Finding, ImageReport, Location, Severity};

use crate::checks::{Enabled, SETUID_FILE};
use crate::finding;

/// System directories where setuid/setgid binaries are expected.
const SYSTEM_BIN_DIRS: &[&str] = &[
    "bin/",
    "sbin/",
    "usr/bin/",
    "usr/sbin/",
    "usr/lib/",
    "usr/libexec/",
    "lib/",
];

pub(crate) fn check(image: &ImageReport, enabled: &Enabled) -> Vec<Finding> {
    if !enabled.has(&SETUID_FILE) {
        return Vec::new();
    }
    image
        .inventory
        .iter()
        .filter(|entry| entry.entry_type == EntryType::File && entry.mode & 0o6000 != 0)
        .map(|entry| {
            let bits = match (entry.mode & 0o4000 != 0, entry.mode & 0o2000 != 0) {
                (true, true) => "setuid and setgid",
                (true, false) => "setuid",
                _ => "setgid",
            };
            let layer = &image.layers[entry.layer.min(image.layers.len().saturating_sub(1))];
            let system = SYSTEM_BIN_DIRS
                .iter()
                .any(|dir| entry.path.starts_with(dir));
            let (severity, place) = match system {
                true => (Severity::Info, "in a system directory"),
                false => (Severity::High, "outside the system directories"),
            };
            let mut finding = finding(
                &SETUID_FILE,
                format!(
                    "/{} is {bits} (mode {:04o}), {place}",
                    entry.path, entry.mode
                ),
                Some(format!("owner {}:{}", entry.uid, entry.gid)),
                Some(Location {
                    layer: entry.layer,
                    layer_digest: layer.diff_id.clone(),
                    path: entry.path.clone(),
                    member: None,
                    line: None,
                    status: entry.status,
                    created_by: layer.created_by.clone(),
                }),
            );
            finding.severity = severity;
            finding
        })
        .collect()
}
