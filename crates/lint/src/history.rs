//! Checks of the build history: each step's `created_by` (the Dockerfile instruction, as the
//! classic builder or BuildKit recorded it) for risky build practice.
//!
//! The classic builder records `RUN x` as `/bin/sh -c x` and metadata instructions as
//! `/bin/sh -c #(nop) ...`; BuildKit records `RUN /bin/sh -c x # buildkit`, `ADD src dst #
//! buildkit`. Commands are matched as text: a shell is not parsed, so the patterns are written to
//! need the command in command position where that matters (`sudo`).

use std::sync::LazyLock;

use regex::Regex;
use stowaway_findings::{Finding, ImageReport, one_line};

use crate::checks::{
    ADD_REMOTE, Check, Enabled, INSECURE_INSTALL, PACKAGE_CACHE, PERMISSIVE_CHMOD, PIPE_TO_SHELL,
    SUDO,
};
use crate::finding;

/// Longest history command quoted as evidence.
const MAX_EVIDENCE: usize = 300;

fn regex(pattern: &str) -> Regex {
    // The patterns are constants of this module, tested below.
    Regex::new(pattern).unwrap_or_else(|e| panic!("bad pattern {pattern}: {e}"))
}

static ADD_URL: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bADD\s+(?:--\S+\s+)*(?:https?|ftp)://"));

static PIPE_SHELL: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // curl ... | sh, wget -O- ... | sudo bash
        r"\b(?:curl|wget)\b[^|;&]*\|\s*(?:sudo\s+(?:-\S+\s+)*)?(?:/usr)?(?:/bin/)?(?:ba|da|z|k|a)?sh\b",
        // sh -c "$(curl ...)"
        r#"\b(?:ba|z)?sh\s+-c\s+["']?\$\(\s*(?:curl|wget)\b"#,
        // bash <(curl ...)
        r"\b(?:ba|z)?sh\s+<\(\s*(?:curl|wget)\b",
    ]
    .iter()
    .map(|p| regex(p))
    .collect()
});

static SUDO_COMMAND: LazyLock<Regex> =
    LazyLock::new(|| regex(r"(?:^|[;&|(]|\s-c|\bthen|\bdo)\s*sudo\s"));

static CHMOD: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\bchmod\s+(?:-[A-Za-z]+\s+|--\S+\s+)*(\S+)"));

static INSECURE: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        r"--allow-unauthenticated\b",
        r"--force-yes\b",
        r"--allow-insecure-repositories\b",
        r#"AllowUnauthenticated\s*[= ]\s*"?(?:true|1|yes)"#,
        r#"Verify-(?:Peer|Host)\s*[= ]\s*"?false"#,
        r"--allow-untrusted\b",
        r"--nogpgcheck\b",
        r"\bgpgcheck\s*=\s*0\b",
        r"--trusted-host\b",
        r"--no-check-certificate\b",
        r"\bstrict-ssl\s+false\b",
        r"\bNODE_TLS_REJECT_UNAUTHORIZED=0\b",
        r"\bsslVerify\s*[= ]\s*false\b",
        r"\bGIT_SSL_NO_VERIFY=(?:1|true)\b",
        r"\bcurl\b[^|;&]*\s(?:--insecure|-[A-Za-z]*k[A-Za-z]*)(?:\s|$)",
    ]
    .iter()
    .map(|p| regex(p))
    .collect()
});

/// Package managers whose install leaves a cache unless the same step cleans it.
struct PackageManager {
    install: &'static str,
    cleaned_by: &'static [&'static str],
    advice: &'static str,
}

const PACKAGE_MANAGERS: &[PackageManager] = &[
    PackageManager {
        install: r"\bapt(?:-get)?\s+(?:-\S+\s+)*install\b",
        cleaned_by: &["/var/lib/apt/lists"],
        advice: "apt-get install without removing /var/lib/apt/lists in the same step",
    },
    PackageManager {
        install: r"\bapk\s+(?:-\S+\s+)*add\b",
        cleaned_by: &["--no-cache", "/var/cache/apk"],
        advice: "apk add without --no-cache",
    },
    PackageManager {
        install: r"\b(?:yum|dnf|microdnf)\s+(?:-\S+\s+)*install\b",
        cleaned_by: &["clean all", "/var/cache/yum", "/var/cache/dnf"],
        advice: "yum/dnf install without `clean all` in the same step",
    },
    PackageManager {
        install: r"\bzypper\s+(?:-\S+\s+)*(?:in|install)\b",
        cleaned_by: &["zypper clean", "zypper cc", "/var/cache/zypp"],
        advice: "zypper install without `zypper clean` in the same step",
    },
];

static INSTALLS: LazyLock<Vec<Regex>> =
    LazyLock::new(|| PACKAGE_MANAGERS.iter().map(|m| regex(m.install)).collect());

pub(crate) fn check(image: &ImageReport, enabled: &Enabled) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (step, entry) in image.history.iter().enumerate() {
        let Some(command) = entry.created_by.as_deref() else {
            continue;
        };
        let mut add = |check: &Check, what: String| {
            if enabled.has(check) {
                let layer = entry
                    .layer
                    .map(|l| format!(" (layer {l})"))
                    .unwrap_or_default();
                findings.push(finding(
                    check,
                    format!("build step {step}{layer}: {what}"),
                    Some(evidence(command)),
                    None,
                ));
            }
        };
        for problem in problems(command) {
            add(problem.0, problem.1);
        }
    }
    findings
}

/// What is wrong with one build step, as (check, explanation) pairs.
fn problems(command: &str) -> Vec<(&'static Check, String)> {
    let mut found = Vec::new();
    if ADD_URL.is_match(command) {
        found.push((&ADD_REMOTE, "ADD downloads a remote URL".to_string()));
    }
    // Metadata instructions (ENV, LABEL, CMD, COPY, ...) run nothing.
    if command.contains("#(nop)") || !is_run(command) {
        return found;
    }
    if PIPE_SHELL.iter().any(|r| r.is_match(command)) {
        found.push((&PIPE_TO_SHELL, "a download is piped into a shell".into()));
    }
    if SUDO_COMMAND.is_match(command) {
        found.push((&SUDO, "runs a command with sudo".into()));
    }
    for capture in CHMOD.captures_iter(command) {
        if let Some(mode) = capture.get(1).map(|m| m.as_str())
            && let Some(why) = permissive_mode(mode)
        {
            found.push((&PERMISSIVE_CHMOD, format!("chmod {mode} {why}")));
            break;
        }
    }
    for (manager, install) in PACKAGE_MANAGERS.iter().zip(INSTALLS.iter()) {
        if install.is_match(command) && !manager.cleaned_by.iter().any(|c| command.contains(c)) {
            found.push((&PACKAGE_CACHE, manager.advice.to_string()));
        }
    }
    if let Some(hit) = INSECURE.iter().find_map(|r| r.find(command)) {
        found.push((
            &INSECURE_INSTALL,
            format!(
                "turns off TLS or signature checks (`{}`)",
                hit.as_str().trim()
            ),
        ));
    }
    found
}

/// Whether a step runs a command: the classic builder's `/bin/sh -c ...`, BuildKit's
/// `RUN ...`, or a step recorded with build arguments first (`|2 A=b C=d /bin/sh -c ...`).
fn is_run(command: &str) -> bool {
    let command = command.trim_start();
    !(command.starts_with("ADD ")
        || command.starts_with("COPY ")
        || command.starts_with("ENV ")
        || command.starts_with("LABEL ")
        || command.starts_with("CMD ")
        || command.starts_with("ENTRYPOINT ")
        || command.starts_with("EXPOSE ")
        || command.starts_with("USER ")
        || command.starts_with("WORKDIR ")
        || command.starts_with("VOLUME ")
        || command.starts_with("HEALTHCHECK ")
        || command.starts_with("ARG ")
        || command.starts_with("SHELL ")
        || command.starts_with("STOPSIGNAL ")
        || command.starts_with("ONBUILD "))
}

/// Why a chmod mode is too permissive: world-writable, or setuid/setgid.
fn permissive_mode(mode: &str) -> Option<&'static str> {
    if mode.len() >= 3 && mode.len() <= 4 && mode.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        let digits: Vec<u8> = mode.bytes().map(|b| b - b'0').collect();
        if digits.len() == 4 && digits[0] & 0o6 != 0 {
            return Some("sets the setuid or setgid bit");
        }
        return (digits[digits.len() - 1] & 0o2 != 0).then_some("makes files world-writable");
    }
    for clause in mode.split(',') {
        let Some(at) = clause.find(['+', '=']) else {
            continue;
        };
        let (who, perms) = clause.split_at(at);
        if !who.bytes().all(|b| b"ugoa".contains(&b)) {
            return None;
        }
        if perms.contains('s') {
            return Some("sets the setuid or setgid bit");
        }
        if perms.contains('w') && (who.contains('o') || who.contains('a')) {
            return Some("makes files world-writable");
        }
    }
    None
}

fn evidence(command: &str) -> String {
    let line = one_line(command);
    match line.char_indices().nth(MAX_EVIDENCE) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(command: &str) -> Vec<&'static str> {
        problems(command).iter().map(|(c, _)| c.id).collect()
    }

    #[test]
    fn each_check_fires_and_stays_quiet() {
        let cases: &[(&str, &[&str])] = &[
            (
                "ADD https://example.com/tool.tgz /opt/ # buildkit",
                &["STW-CFG-ADD-REMOTE"],
            ),
            (
                "/bin/sh -c #(nop) ADD http://example.com/x in /x ",
                &["STW-CFG-ADD-REMOTE"],
            ),
            ("/bin/sh -c #(nop) ADD file:0123abcd in / ", &[]),
            ("COPY app.tgz /opt/ # buildkit", &[]),
            (
                "/bin/sh -c curl -fsSL https://get.example.com | sh",
                &["STW-CFG-PIPE-TO-SHELL"],
            ),
            (
                "RUN /bin/sh -c wget -qO- https://x.io/i.sh | sudo -E bash - # buildkit",
                &["STW-CFG-PIPE-TO-SHELL", "STW-CFG-SUDO"],
            ),
            (
                "/bin/sh -c sh -c \"$(curl -fsSL https://x.io/i.sh)\"",
                &["STW-CFG-PIPE-TO-SHELL"],
            ),
            (
                "/bin/sh -c curl -fsSLo /tmp/x.tgz https://x.io/x.tgz && sha256sum -c x.sha256 | tee log",
                &[],
            ),
            ("/bin/sh -c sudo make install", &["STW-CFG-SUDO"]),
            ("/bin/sh -c make && sudo make install", &["STW-CFG-SUDO"]),
            (
                "/bin/sh -c apt-get update && apt-get install -y sudo && rm -rf /var/lib/apt/lists/*",
                &[],
            ),
            ("/bin/sh -c chmod 777 /srv", &["STW-CFG-PERMISSIVE-CHMOD"]),
            (
                "/bin/sh -c chmod -R a+rwx /srv",
                &["STW-CFG-PERMISSIVE-CHMOD"],
            ),
            (
                "/bin/sh -c chmod u+s /usr/local/bin/tool",
                &["STW-CFG-PERMISSIVE-CHMOD"],
            ),
            (
                "/bin/sh -c chmod 4755 /usr/local/bin/tool",
                &["STW-CFG-PERMISSIVE-CHMOD"],
            ),
            (
                "/bin/sh -c chmod 755 /usr/local/bin/tool && chmod +x /x && chmod 0644 /y",
                &[],
            ),
            (
                "/bin/sh -c apt-get update && apt-get install -y curl",
                &["STW-CFG-PACKAGE-CACHE"],
            ),
            ("/bin/sh -c apk add curl", &["STW-CFG-PACKAGE-CACHE"]),
            ("/bin/sh -c apk add --no-cache curl", &[]),
            ("/bin/sh -c yum install -y curl", &["STW-CFG-PACKAGE-CACHE"]),
            ("/bin/sh -c yum install -y curl && yum clean all", &[]),
            (
                "/bin/sh -c apt-get install -y --allow-unauthenticated x && rm -rf /var/lib/apt/lists/*",
                &["STW-CFG-INSECURE-INSTALL"],
            ),
            (
                "/bin/sh -c pip install --trusted-host pypi.example x",
                &["STW-CFG-INSECURE-INSTALL"],
            ),
            (
                "/bin/sh -c curl -sSLk -o /x https://x.io/x",
                &["STW-CFG-INSECURE-INSTALL"],
            ),
            (
                "/bin/sh -c wget --no-check-certificate https://x.io/x",
                &["STW-CFG-INSECURE-INSTALL"],
            ),
            (
                "/bin/sh -c apk add --no-cache --allow-untrusted /tmp/x.apk",
                &["STW-CFG-INSECURE-INSTALL"],
            ),
            (
                "/bin/sh -c curl -sSL --keepalive-time 2 -o /x https://x.io/x",
                &[],
            ),
            ("/bin/sh -c #(nop)  ENV SUDO_USER=x", &[]),
        ];
        for (command, expected) in cases {
            assert_eq!(ids(command), *expected, "{command}");
        }
    }

    #[test]
    fn evidence_is_one_bounded_line() {
        let long = format!("/bin/sh -c echo {}\nnext", "a".repeat(1000));
        let quoted = evidence(&long);
        assert!(quoted.chars().count() <= MAX_EVIDENCE + 1);
        assert!(!quoted.contains('\n'));
    }
}
