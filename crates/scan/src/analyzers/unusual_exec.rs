//! Flags ELF executables where software is not installed: temporary directories (`/tmp`,
//! `/var/tmp`, `/dev/shm`) and hidden directories — where droppers and miners hide. The one
//! hidden directory distributions install executables into, the separate debug files under
//! `debug/.build-id/`, is not unusual.

use stowaway_findings::{Finding, Kind, Severity};

use crate::analyzer::{Analyzer, FileMeta, Output};

pub struct UnusualExecutable;

const TEMP_DIRS: [&str; 3] = ["tmp/", "var/tmp/", "dev/shm/"];

/// Where an executable at `path` should not be, if it is somewhere it should not be.
pub fn unusual_place(path: &str) -> Option<&'static str> {
    if TEMP_DIRS.iter().any(|dir| path.starts_with(dir)) {
        return Some("a temporary directory");
    }
    let (dirs, _) = path.rsplit_once('/')?;
    let mut parent = "";
    for dir in dirs.split('/') {
        let debug_files = parent == "debug" && dir == ".build-id";
        if dir.starts_with('.') && dir.len() > 1 && !debug_files {
            return Some("a hidden directory");
        }
        parent = dir;
    }
    None
}

impl Analyzer for UnusualExecutable {
    fn id(&self) -> &'static str {
        "unusual-executable"
    }

    fn version(&self) -> u32 {
        2
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none()
            && file.head.starts_with(b"\x7fELF")
            && unusual_place(file.path).is_some()
    }

    fn analyze(
        &self,
        file: &FileMeta<'_>,
        _content: &[u8],
        _complete: bool,
        out: &mut Vec<Output>,
    ) {
        let Some(place) = unusual_place(file.path) else {
            return;
        };
        out.push(Output::Finding(Finding {
            id: "STW-EXEC-UNUSUAL-PLACE".into(),
            kind: Kind::Suspicious,
            severity: Severity::Medium,
            title: format!("ELF executable in {place}"),
            location: None,
            evidence: Some(format!("/{} (mode {:o})", file.path, file.mode)),
            engine: self.id().into(),
            vulnerability: None,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places() {
        assert_eq!(unusual_place("tmp/x"), Some("a temporary directory"));
        assert_eq!(unusual_place("dev/shm/a/b"), Some("a temporary directory"));
        assert_eq!(
            unusual_place("root/.cache/kworker"),
            Some("a hidden directory")
        );
        assert_eq!(unusual_place("usr/bin/ls"), None);
        assert_eq!(unusual_place(".hidden-file"), None);
        assert_eq!(unusual_place("usr/lib/x86_64-linux-gnu/libc.so.6"), None);
        // Separate debug files, where Debian's -dbgsym packages put them.
        assert_eq!(
            unusual_place("usr/lib/debug/.build-id/1c/6cac3b6debf8bc.debug"),
            None
        );
        assert_eq!(unusual_place("opt/.build-id/x"), Some("a hidden directory"));
    }
}
