//! A rule: what one kind of secret looks like (keywords for the prefilter, a regex with a
//! `secret` group, an entropy threshold, a path scope, a check) and how far around a keyword hit
//! its regex looks. Bundled rules are data ([`crate::builtin`]); user rules come from the config
//! and are compiled the same way.

use regex::bytes::{Regex, RegexBuilder};
use stowaway_findings::Severity;

use crate::checks::Check;

/// The most compiled program a rule's regex may grow to (bundled and user rules alike).
pub(crate) const REGEX_SIZE_LIMIT: usize = 2 << 20;

/// The part of the content a rule's regex runs on around a keyword hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Window {
    /// The line holding the hit: at most 256 bytes before it and 4 KiB after it.
    Line,
    /// `before` bytes before the hit to `after` bytes after it, across lines (PEM blocks, JSON).
    Around { before: usize, after: usize },
}

/// How much of a line before and after a hit [`Window::Line`] takes.
pub(crate) const LINE_BEFORE: usize = 256;
pub(crate) const LINE_AFTER: usize = 4096;

/// A cheap test at a keyword hit that decides whether the rule's regex is worth running; for
/// keywords that are common in text without secrets (`://`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Guard {
    /// Always run the regex.
    None,
    /// After `://`, a `@` comes before the URL's authority ends (a `/`, `?`, `#`, quote, angle
    /// bracket or white space), within 200 bytes: there is user info to look at.
    UserInfo,
}

impl Guard {
    /// Whether the regex should run for the keyword at `content[position..position + len]`.
    pub(crate) fn admits(self, content: &[u8], position: usize, len: usize) -> bool {
        match self {
            Guard::None => true,
            Guard::UserInfo => {
                let after = &content[(position + len).min(content.len())..];
                after
                    .iter()
                    .take(200)
                    .find(|&&b| b == b'@' || b"/?#\"'<>`".contains(&b) || b.is_ascii_whitespace())
                    == Some(&b'@')
            }
        }
    }
}

/// How a rule ranks when two rules report the same secret on the same line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Priority {
    /// A secret of a known format, or in a known credential file: reported first.
    Specific,
    /// The user's rules: after the specific bundled ones, before the generic ones.
    User,
    /// Loose bundled rules (assignments, URL credentials): a secret that another rule reports on
    /// the same line is not reported again by these.
    Generic,
}

/// A bundled rule as data.
#[derive(Debug)]
pub(crate) struct Spec {
    pub(crate) id: &'static str,
    pub(crate) title: &'static str,
    pub(crate) severity: Severity,
    /// Literals of which at least one occurs in every match.
    pub(crate) keywords: &'static [&'static str],
    /// Whether the keywords match without regard to ASCII case.
    pub(crate) ignore_case: bool,
    pub(crate) regex: &'static str,
    /// Least Shannon entropy of the secret, in bits per byte.
    pub(crate) entropy: Option<f64>,
    /// Regex on the file's path; the rule applies only to files it matches.
    pub(crate) path: Option<&'static str>,
    /// Whether a path-scoped rule also applies to image config text (ENV, labels, history).
    pub(crate) image_config: bool,
    /// How many leading characters of the secret are a fixed public prefix (`ghp_`): redaction
    /// shows them.
    pub(crate) public_prefix: usize,
    pub(crate) window: Window,
    pub(crate) guard: Guard,
    pub(crate) check: Check,
    pub(crate) priority: Priority,
}

impl Spec {
    /// Defaults for the fields a bundled rule does not spell out.
    pub(crate) const BASE: Spec = Spec {
        id: "",
        title: "",
        severity: Severity::High,
        keywords: &[],
        ignore_case: false,
        regex: "",
        entropy: None,
        path: None,
        image_config: false,
        public_prefix: 0,
        window: Window::Line,
        guard: Guard::None,
        check: Check::None,
        priority: Priority::Specific,
    };
}

/// A keyword of a rule, as the prefilter sees it.
#[derive(Debug, Clone)]
pub(crate) struct Keyword {
    pub(crate) text: Vec<u8>,
    pub(crate) ignore_case: bool,
}

/// A compiled rule.
#[derive(Debug)]
pub(crate) struct Rule {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) severity: Severity,
    pub(crate) keywords: Vec<Keyword>,
    pub(crate) regex: Regex,
    /// Index of the `secret` group in `regex`.
    pub(crate) secret_group: usize,
    pub(crate) entropy: Option<f64>,
    pub(crate) path: Option<regex::Regex>,
    pub(crate) image_config: bool,
    pub(crate) public_prefix: usize,
    pub(crate) window: Window,
    pub(crate) guard: Guard,
    pub(crate) check: Check,
    pub(crate) priority: Priority,
}

impl Rule {
    /// Whether the rule applies to the file at `path`, or (`None`) to image config text.
    pub(crate) fn applies_to(&self, path: Option<&str>) -> bool {
        // Password-like words in manuals and in an interpreter's own docstrings are prose and
        // examples; only rules for a recognisable token format look there.
        if self.priority == Priority::Generic && path.is_some_and(is_distribution_text) {
            return false;
        }
        match (&self.path, path) {
            (None, _) => true,
            (Some(scope), Some(path)) => scope.is_match(path),
            (Some(_), None) => self.image_config,
        }
    }
}

/// Directories of a distribution's documentation.
const DOCUMENTATION_DIRS: &[&str] = &[
    "usr/share/man/",
    "usr/share/doc/",
    "usr/share/info/",
    "usr/share/lintian/",
    "usr/share/locale/",
    "usr/share/help/",
    "usr/share/gtk-doc/",
];

/// Whether `path` is distribution documentation or an interpreter's standard library
/// (`usr/lib/python3.11/`, but not its `site-packages` or `dist-packages`, where applications'
/// packages go): text the generic rules do not read.
pub(crate) fn is_distribution_text(path: &str) -> bool {
    if DOCUMENTATION_DIRS.iter().any(|dir| path.starts_with(dir)) {
        return true;
    }
    let Some(rest) = path
        .strip_prefix("usr/lib/python")
        .or_else(|| path.strip_prefix("usr/local/lib/python"))
    else {
        return false;
    };
    let Some((version, inside)) = rest.split_once('/') else {
        return false;
    };
    let first = inside.split('/').next().unwrap_or_default();
    version.starts_with(|c: char| c.is_ascii_digit())
        && !first.is_empty()
        && !matches!(first, "site-packages" | "dist-packages")
}

/// Compiles a rule's regex with the size bound; returns it with the index of its `secret` group.
pub(crate) fn compile_regex(pattern: &str) -> Result<(Regex, usize), String> {
    let regex = RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            format!(
                "regex does not compile: {}",
                stowaway_findings::one_line(&e.to_string())
            )
        })?;
    let group = regex
        .capture_names()
        .position(|name| name == Some("secret"))
        .ok_or_else(|| "regex has no group named `secret` (write `(?P<secret>...)`)".to_string())?;
    Ok((regex, group))
}

/// Compiles a rule's path scope.
pub(crate) fn compile_path(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            format!(
                "path regex does not compile: {}",
                stowaway_findings::one_line(&e.to_string())
            )
        })
}

/// Compiles a bundled rule. Bundled rules are tested to compile, so a failure is a bug in this
/// crate, reported as a string for the test that checks them all.
pub(crate) fn compile_spec(spec: &Spec) -> Result<Rule, String> {
    let (regex, secret_group) =
        compile_regex(spec.regex).map_err(|e| format!("{}: {e}", spec.id))?;
    let path = spec
        .path
        .map(compile_path)
        .transpose()
        .map_err(|e| format!("{}: {e}", spec.id))?;
    Ok(Rule {
        id: spec.id.to_string(),
        title: spec.title.to_string(),
        severity: spec.severity,
        keywords: spec
            .keywords
            .iter()
            .map(|k| Keyword {
                text: k.as_bytes().to_vec(),
                ignore_case: spec.ignore_case,
            })
            .collect(),
        regex,
        secret_group,
        entropy: spec.entropy,
        path,
        image_config: spec.image_config,
        public_prefix: spec.public_prefix,
        window: spec.window,
        guard: spec.guard,
        check: spec.check,
        priority: spec.priority,
    })
}

#[cfg(test)]
mod tests {
    use super::is_distribution_text;

    #[test]
    fn distribution_text_is_documentation_and_standard_libraries() {
        for path in [
            "usr/share/man/man8/newusers.8.gz!newusers.8",
            "usr/share/lintian/overrides/passwd",
            "usr/lib/python3.11/urllib/request.py",
            "usr/local/lib/python3.12/smtplib.py",
        ] {
            assert!(is_distribution_text(path), "{path}");
        }
        for path in [
            "usr/lib/python3/dist-packages/app/settings.py",
            "usr/local/lib/python3.12/site-packages/app/settings.py",
            "usr/lib/python3.11",
            "srv/app/.env",
            "usr/share/app/config.yml",
        ] {
            assert!(!is_distribution_text(path), "{path}");
        }
    }
}
