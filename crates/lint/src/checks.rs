//! The table of checks: every check's id, severity, title and rationale, in one place, so that
//! the documentation, `--skip-check` and the findings agree.

use stowaway_findings::Severity;

/// One configuration or history check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    pub id: &'static str,
    pub severity: Severity,
    /// What a finding of this check says, in general.
    pub title: &'static str,
    /// Why it matters, for the documentation and `stowaway checks`.
    pub rationale: &'static str,
}

macro_rules! checks {
    ($($name:ident = $id:literal, $severity:ident, $title:literal, $rationale:literal;)*) => {
        $(pub const $name: Check = Check {
            id: $id,
            severity: Severity::$severity,
            title: $title,
            rationale: $rationale,
        };)*
        /// Every check, in documentation order.
        pub const ALL: &[Check] = &[$($name),*];
    };
}

checks! {
    ROOT_USER = "STW-CFG-ROOT-USER", Medium,
        "the container runs as root",
        "With no USER (or USER root / 0) every process in the container runs as root, so a compromised process holds root's privileges over the container and whatever it mounts (CIS Docker 4.1).";
    NO_HEALTHCHECK = "STW-CFG-NO-HEALTHCHECK", Low,
        "the image declares no HEALTHCHECK",
        "Without a HEALTHCHECK the runtime cannot tell a hung service from a healthy one (CIS Docker 4.6).";
    SECRET_ENV = "STW-CFG-SECRET-ENV", High,
        "an ENV variable with a secret-looking name has a value",
        "ENV values are stored in the image config, readable by anyone who can pull the image; pass secrets at run time or with build secrets instead (CIS Docker 4.10).";
    REMOTE_ACCESS_PORT = "STW-CFG-REMOTE-ACCESS-PORT", Medium,
        "the image exposes a remote-login port (22, 23 or 3389)",
        "SSH, telnet and RDP servers in a container widen the attack surface and are rarely needed; use `docker exec` (CIS Docker 5.6).";
    SENSITIVE_VOLUME = "STW-CFG-SENSITIVE-VOLUME", High,
        "a VOLUME is declared over a host-critical path",
        "A volume over /, /dev, /proc, /sys or the Docker socket invites mounting the host's own directories into the container (CIS Docker 5.5).";
    LATEST_TAG = "STW-CFG-LATEST-TAG", Low,
        "the image is known only by the mutable `latest` tag",
        "`latest` moves; a deployment cannot say what it runs. Pin a version tag or a digest.";
    ADD_REMOTE = "STW-CFG-ADD-REMOTE", Medium,
        "a build step ADDs a remote URL",
        "ADD of a URL downloads without verification and leaves no trace of what was fetched; download with a checksum check in a RUN step, or COPY (CIS Docker 4.9).";
    PIPE_TO_SHELL = "STW-CFG-PIPE-TO-SHELL", High,
        "a build step pipes a download into a shell",
        "`curl ... | sh` runs whatever the server sends at build time, unverified and unrecorded.";
    SUDO = "STW-CFG-SUDO", Medium,
        "a build step uses sudo",
        "sudo in an image means a sudo binary and a sudoers policy ship with it, and builds run as root anyway (CIS Docker 4.1).";
    PERMISSIVE_CHMOD = "STW-CFG-PERMISSIVE-CHMOD", Medium,
        "a build step makes files world-writable or setuid/setgid",
        "chmod 777 lets any user of the container change the files; setuid/setgid bits let them run as the file's owner.";
    PACKAGE_CACHE = "STW-CFG-PACKAGE-CACHE", Low,
        "a build step installs packages without cleaning the package cache",
        "apt lists, apk and yum caches left in a layer add size and stale metadata to every image built on it (apt-get: remove /var/lib/apt/lists; apk: --no-cache; yum/dnf: clean all).";
    INSECURE_INSTALL = "STW-CFG-INSECURE-INSTALL", High,
        "a build step turns off TLS or signature checks",
        "--allow-unauthenticated, --allow-untrusted, --nogpgcheck, --trusted-host, curl -k or wget --no-check-certificate accept whatever a network attacker serves.";
    SETUID_FILE = "STW-CFG-SETUID-FILE", High,
        "a file has the setuid or setgid bit",
        "Setuid and setgid executables are the classic way to escalate privileges; remove the bits where they are not needed (CIS Docker 4.8).";
    EMPTY_PASSWORD = "STW-CFG-EMPTY-PASSWORD", High,
        "an account in /etc/shadow has an empty password",
        "An empty password field lets anyone log in as that account without a password.";
    DUPLICATE_UID = "STW-CFG-DUPLICATE-UID", Medium,
        "two accounts in /etc/passwd share a uid",
        "Accounts with the same uid are the same user to the kernel; a second uid 0 is a classic backdoor.";
    TYPOSQUAT_IMAGE = "STW-TYPOSQUAT-IMAGE", High,
        "the image name imitates an official image",
        "Attackers publish look-alikes of official images (misspelled, under another namespace or registry) that run miners or backdoors.";
    TYPOSQUAT_PACKAGE = "STW-TYPOSQUAT-PACKAGE", Medium,
        "a package name imitates a popular package",
        "Typosquatted npm and PyPI packages are a common way to ship malicious code; check that this package is the one intended.";
}

/// Which checks run: all but those turned off.
#[derive(Debug, Clone, Default)]
pub struct Enabled {
    skipped: Vec<String>,
}

impl Enabled {
    /// All checks but `skipped`; an id that names no check is an error naming it.
    pub fn skipping(skipped: &[String]) -> Result<Enabled, String> {
        for id in skipped {
            if !ALL.iter().any(|check| check.id == id) {
                return Err(format!(
                    "--skip-check {id}: no such check (see `docs/config-checks.md`)"
                ));
            }
        }
        Ok(Enabled {
            skipped: skipped.to_vec(),
        })
    }

    pub fn has(&self, check: &Check) -> bool {
        !self.skipped.iter().any(|id| id == check.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_unknown_ones_are_refused() {
        for (i, check) in ALL.iter().enumerate() {
            assert!(ALL[i + 1..].iter().all(|other| other.id != check.id));
        }
        assert!(Enabled::skipping(&["STW-CFG-SUDO".into()]).is_ok());
        let error = Enabled::skipping(&["STW-CFG-NOPE".into()]).unwrap_err();
        assert!(error.contains("STW-CFG-NOPE"), "{error}");
    }
}
