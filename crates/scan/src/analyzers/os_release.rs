//! Detects the operating system from `/etc/os-release` (or `/usr/lib/os-release`), falling back
//! to `/etc/alpine-release`, `/etc/debian_version` and `/etc/redhat-release`.

use stowaway_findings::OsInfo;

use crate::analyzer::{Analyzer, FileMeta, Output};

pub struct OsRelease;

/// Files that name the OS, best first; the merge prefers the earliest in this list.
pub const OS_FILES: [&str; 5] = [
    "etc/os-release",
    "usr/lib/os-release",
    "etc/alpine-release",
    "etc/debian_version",
    "etc/redhat-release",
];

const MAX_OS_FILE: u64 = 64 << 10;

impl Analyzer for OsRelease {
    fn id(&self) -> &'static str {
        "os-release"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none() && file.size <= MAX_OS_FILE && OS_FILES.contains(&file.path)
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], _complete: bool, out: &mut Vec<Output>) {
        let text = String::from_utf8_lossy(content);
        let info = match file.path {
            "etc/os-release" | "usr/lib/os-release" => parse_os_release(&text, file.path),
            "etc/alpine-release" => version_file("alpine", &text, file.path),
            "etc/debian_version" => version_file("debian", &text, file.path),
            _ => parse_redhat_release(&text, file.path),
        };
        if let Some(info) = info {
            out.push(Output::Os(info));
        }
    }
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    let quoted = value.len() >= 2
        && ((value.starts_with('"') && value.ends_with('"'))
            || (value.starts_with('\'') && value.ends_with('\'')));
    let inner = if quoted {
        &value[1..value.len() - 1]
    } else {
        value
    };
    inner
        .replace("\\\"", "\"")
        .replace("\\$", "$")
        .replace("\\\\", "\\")
}

fn parse_os_release(text: &str, source: &str) -> Option<OsInfo> {
    let mut id = None;
    let mut version_id = None;
    let mut pretty_name = None;
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once('=') else {
            continue;
        };
        match key {
            "ID" => id = Some(unquote(value)),
            "VERSION_ID" => version_id = Some(unquote(value)),
            "PRETTY_NAME" => pretty_name = Some(unquote(value)),
            _ => {}
        }
    }
    Some(OsInfo {
        id: id.filter(|id| !id.is_empty())?,
        version_id,
        pretty_name,
        source: source.to_string(),
    })
}

fn version_file(id: &str, text: &str, source: &str) -> Option<OsInfo> {
    let version = text.lines().next()?.trim();
    (!version.is_empty()).then(|| OsInfo {
        id: id.to_string(),
        version_id: Some(version.to_string()),
        pretty_name: None,
        source: source.to_string(),
    })
}

/// `CentOS Linux release 7.9.2009 (Core)`, `Red Hat Enterprise Linux release 8.6 (Ootpa)`.
fn parse_redhat_release(text: &str, source: &str) -> Option<OsInfo> {
    let line = text.lines().next()?.trim();
    let (name, rest) = line.split_once(" release ")?;
    let version = rest.split_whitespace().next()?;
    let id = match name.to_ascii_lowercase() {
        n if n.starts_with("centos") => "centos",
        n if n.starts_with("red hat") => "rhel",
        n if n.starts_with("fedora") => "fedora",
        n if n.starts_with("rocky") => "rocky",
        n if n.starts_with("almalinux") => "almalinux",
        _ => "redhat",
    };
    Some(OsInfo {
        id: id.to_string(),
        version_id: Some(version.to_string()),
        pretty_name: Some(line.to_string()),
        source: source.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_debian_os_release() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";
        let info = parse_os_release(text, "etc/os-release").unwrap();
        assert_eq!(info.id, "debian");
        assert_eq!(info.version_id.as_deref(), Some("12"));
        assert_eq!(
            info.pretty_name.as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
    }

    #[test]
    fn parses_fallback_files() {
        assert_eq!(
            version_file("alpine", "3.19.1\n", "etc/alpine-release")
                .unwrap()
                .version_id
                .as_deref(),
            Some("3.19.1")
        );
        let centos = parse_redhat_release(
            "CentOS Linux release 7.9.2009 (Core)\n",
            "etc/redhat-release",
        )
        .unwrap();
        assert_eq!(
            (centos.id.as_str(), centos.version_id.as_deref()),
            ("centos", Some("7.9.2009"))
        );
        assert!(parse_os_release("NAME=x\n", "etc/os-release").is_none());
    }
}
