//! Checks of the account files, `/etc/shadow` (empty passwords) and `/etc/passwd` (duplicate
//! uids), as an analyzer: their content comes from the walker like every other file's, every
//! version of them in every layer included.

use std::collections::BTreeMap;

use stowaway_findings::Location;
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::checks::{DUPLICATE_UID, EMPTY_PASSWORD, Enabled};
use crate::finding;

/// Reads `/etc/shadow` and `/etc/passwd`.
pub struct Accounts {
    enabled: Enabled,
}

impl Accounts {
    pub fn new(enabled: Enabled) -> Accounts {
        Accounts { enabled }
    }
}

impl Analyzer for Accounts {
    fn id(&self) -> &'static str {
        "accounts"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none()
            && ((file.path == "etc/shadow" && self.enabled.has(&EMPTY_PASSWORD))
                || (file.path == "etc/passwd" && self.enabled.has(&DUPLICATE_UID)))
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], _complete: bool, out: &mut Vec<Output>) {
        let text = String::from_utf8_lossy(content);
        let lines = text
            .lines()
            .enumerate()
            .map(|(i, line)| (i + 1, line.split(':').collect::<Vec<_>>()))
            .filter(|(_, fields)| fields.len() >= 3 && !fields[0].starts_with('#'));
        if file.path == "etc/shadow" {
            for (line, fields) in lines {
                if fields[1].is_empty() {
                    out.push(Output::Finding(finding(
                        &EMPTY_PASSWORD,
                        format!("account '{}' has an empty password", fields[0]),
                        Some(format!("{}::...", fields[0])),
                        Some(Location::at_line(line as u64)),
                    )));
                }
            }
            return;
        }
        let mut by_uid: BTreeMap<&str, Vec<(usize, &str)>> = BTreeMap::new();
        for (line, fields) in lines {
            by_uid.entry(fields[2]).or_default().push((line, fields[0]));
        }
        for (uid, accounts) in by_uid.into_iter().filter(|(_, a)| a.len() > 1) {
            let names: Vec<&str> = accounts.iter().map(|(_, name)| *name).collect();
            out.push(Output::Finding(finding(
                &DUPLICATE_UID,
                format!(
                    "uid {uid} belongs to {} accounts: {}",
                    names.len(),
                    names.join(", ")
                ),
                None,
                Some(Location::at_line(accounts[1].0 as u64)),
            )));
        }
    }

    fn cache_key(&self) -> Option<String> {
        Some(format!("{:?}", self.enabled))
    }
}
