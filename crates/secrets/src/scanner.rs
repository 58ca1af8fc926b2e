//! The scanner: rules compiled once into one keyword prefilter, then, per file, one pass of the
//! prefilter over the content and a regex run only in a window around each keyword hit.
//!
//! The prefilter is a single Aho-Corasick automaton (DFA, leftmost-longest, which lets the crate
//! use its SIMD "Teddy" candidate search) over every rule's keywords in lower case. The content
//! is lower-cased in 64 KiB chunks into a scratch buffer as it is searched — a cheap,
//! vectorised pass that makes every keyword match without regard to case in one automaton (an
//! ASCII-case-insensitive automaton cannot use Teddy and runs several times slower). Keywords
//! that are case-sensitive (`AKIA`, `ghp_`) are compared exactly on the original bytes at each
//! hit. After a hit at `p` the search resumes at `p + 1`, so that keywords overlapping one another
//! all count: each pattern knows every rule keyword it contains (`secret_access_key` contains
//! `secret`).

use std::collections::HashSet;
use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use sha2::{Digest, Sha256};
use stowaway_findings::Severity;

use crate::allow::{UserAllow, is_allowed_path, is_placeholder};
use crate::builtin::{BUILTIN, BUILTIN_VERSION};
use crate::config::{SecretsConfig, SecretsError, parse_severity};
use crate::entropy::shannon;
use crate::redact::{redact, redact_keeping};
use crate::rules::{
    Guard, Keyword, LINE_AFTER, LINE_BEFORE, Priority, Rule, Window, compile_path, compile_regex,
    compile_spec,
};

/// How much content is lower-cased at a time for the prefilter.
const CHUNK: usize = 64 * 1024;

/// How far before the end of a window that was cut short a keyword hit gets a new window.
const REWINDOW: usize = 1024;

/// One secret found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretMatch {
    /// The rule's id (`github-pat`).
    pub rule_id: String,
    /// The rule's title (`GitHub personal access token`).
    pub title: String,
    pub severity: Severity,
    /// 1-based line of the secret's first character.
    pub line: u64,
    /// The secret with all but a public prefix masked (see [`redact`]).
    pub redacted: String,
    /// Where the secret is in the scanned content, in bytes: for callers that must mask it in
    /// their own copies of that content (the report quotes the image config and history).
    /// Never print `content[span]`.
    pub span: Range<usize>,
}

/// A rule that a prefilter pattern triggers: the rule's keyword lies `offset` bytes into the
/// pattern, and must equal `exact` there when the keyword is case-sensitive.
#[derive(Debug)]
struct Trigger {
    rule: usize,
    offset: usize,
    len: usize,
    exact: Option<Vec<u8>>,
}

/// The compiled secret rules: built once, shared by every thread (`Send + Sync`).
#[derive(Debug)]
pub struct SecretScanner {
    /// Specific bundled rules, then user rules, then generic bundled rules: on the same line and
    /// secret, the earlier rule wins.
    rules: Vec<Rule>,
    prefilter: AhoCorasick,
    /// Per prefilter pattern, the rules it triggers.
    triggers: Vec<Vec<Trigger>>,
    longest_pattern: usize,
    allows: Vec<UserAllow>,
    fingerprint: String,
}

/// A candidate found in a window, before line numbers and dedup.
struct Found {
    rule: usize,
    start: usize,
    secret: Vec<u8>,
}

impl Found {
    fn end(&self) -> usize {
        self.start + self.secret.len()
    }
}

impl SecretScanner {
    /// The bundled rules only.
    pub fn builtin() -> SecretScanner {
        // The bundled rules are constants that the tests compile; failing here is a bug in this
        // crate, not a problem with any input.
        SecretScanner::new(&SecretsConfig::default()).expect("the bundled secret rules compile")
    }

    /// The bundled rules (less those `config` disables), the user's rules and allow rules.
    pub fn new(config: &SecretsConfig) -> Result<SecretScanner, SecretsError> {
        let origin = config.origin();
        for id in &config.disable_rules {
            if !BUILTIN.iter().any(|spec| spec.id == id) {
                return Err(SecretsError::Disable {
                    origin: origin.to_string(),
                    problem: format!("no bundled rule has the id `{id}`"),
                });
            }
        }
        let bundled: Vec<Rule> = BUILTIN
            .iter()
            .filter(|spec| !config.disable_rules.iter().any(|id| id == spec.id))
            .map(compile_spec)
            .collect::<Result<_, _>>()
            .map_err(|problem| SecretsError::Rule {
                origin: origin.to_string(),
                rule: "(bundled)".to_string(),
                problem,
            })?;
        let mut user = Vec::with_capacity(config.rules.len());
        for rule in &config.rules {
            let error = |problem: String| SecretsError::Rule {
                origin: origin.to_string(),
                rule: rule.id.clone(),
                problem,
            };
            if BUILTIN.iter().any(|spec| spec.id == rule.id)
                || config.rules.iter().filter(|r| r.id == rule.id).count() > 1
            {
                return Err(error("another rule has the same id".to_string()));
            }
            user.push(compile_user_rule(rule).map_err(error)?);
        }
        let allows = config
            .allow_rules
            .iter()
            .map(|allow| {
                compile_allow(allow).map_err(|problem| SecretsError::AllowRule {
                    origin: origin.to_string(),
                    rule: allow.id.clone(),
                    problem,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (generic, specific): (Vec<Rule>, Vec<Rule>) = bundled
            .into_iter()
            .partition(|rule| rule.priority == Priority::Generic);
        let rules: Vec<Rule> = specific.into_iter().chain(user).chain(generic).collect();
        SecretScanner::assemble(rules, allows, fingerprint(config)).map_err(|problem| {
            SecretsError::Rule {
                origin: origin.to_string(),
                rule: "(keywords)".to_string(),
                problem,
            }
        })
    }

    fn assemble(
        rules: Vec<Rule>,
        allows: Vec<UserAllow>,
        fingerprint: String,
    ) -> Result<SecretScanner, String> {
        let mut patterns: Vec<Vec<u8>> = rules
            .iter()
            .flat_map(|rule| rule.keywords.iter().map(|k| k.text.to_ascii_lowercase()))
            .collect();
        patterns.sort();
        patterns.dedup();
        let triggers = patterns
            .iter()
            .map(|pattern| {
                let mut triggers = Vec::new();
                for (index, rule) in rules.iter().enumerate() {
                    for keyword in &rule.keywords {
                        triggers.extend(occurrences(pattern, keyword).map(|offset| Trigger {
                            rule: index,
                            offset,
                            len: keyword.text.len(),
                            exact: (!keyword.ignore_case).then(|| keyword.text.clone()),
                        }));
                    }
                }
                triggers
            })
            .collect();
        let longest_pattern = patterns.iter().map(Vec::len).max().unwrap_or(0);
        let prefilter = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .map_err(|e| format!("keywords do not compile: {e}"))?;
        Ok(SecretScanner {
            rules,
            prefilter,
            triggers,
            longest_pattern,
            allows,
            fingerprint,
        })
    }

    /// Scans one file's content; `path` (in the image, no leading `/`) lets path-scoped rules
    /// and path allow rules apply. Binary files are the caller's to skip (see
    /// [`looks_binary`](crate::looks_binary)); this scans whatever it is given.
    pub fn scan_file(&self, path: &str, content: &[u8]) -> Vec<SecretMatch> {
        if is_allowed_path(path) || self.allows.iter().any(|a| a.allows_file(path)) {
            return Vec::new();
        }
        self.scan(Some(path), content)
    }

    /// Scans a piece of text that is not a file: an image config value (ENV entry `KEY=value`,
    /// a label, Cmd, a history `created_by` line). Path-scoped rules do not apply, except the
    /// `.env` rule, which reads ENV entries as it reads `.env` files.
    pub fn scan_text(&self, text: &str) -> Vec<SecretMatch> {
        self.scan(None, text.as_bytes())
    }

    /// Changes whenever results for the same input could change (bundled rules version + a
    /// hash of user config): part of a cache key.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn scan(&self, path: Option<&str>, content: &[u8]) -> Vec<SecretMatch> {
        let applicable: Vec<bool> = self.rules.iter().map(|r| r.applies_to(path)).collect();
        let mut covered = vec![0usize; self.rules.len()];
        let mut found = Vec::new();
        let overlap = self.longest_pattern.saturating_sub(1);
        let mut lower = Vec::with_capacity(content.len().min(CHUNK) + overlap);
        let mut start = 0;
        while start < content.len() {
            let end = (start + CHUNK).min(content.len());
            let stop = (end + overlap).min(content.len());
            lower.clear();
            lower.extend(content[start..stop].iter().map(u8::to_ascii_lowercase));
            let mut at = 0;
            while let Some(hit) = self
                .prefilter
                .find(Input::new(&lower).span(at..lower.len()))
            {
                // Hits starting in the overlap belong to the next chunk.
                if hit.start() >= end - start {
                    break;
                }
                for trigger in &self.triggers[hit.pattern().as_usize()] {
                    let position = start + hit.start() + trigger.offset;
                    if !applicable[trigger.rule] || position < covered[trigger.rule] {
                        continue;
                    }
                    if let Some(exact) = &trigger.exact
                        && content.get(position..position + exact.len()) != Some(exact.as_slice())
                    {
                        continue;
                    }
                    let rule = &self.rules[trigger.rule];
                    if !rule.guard.admits(content, position, trigger.len) {
                        continue;
                    }
                    let (from, to) = window(rule.window, content, position, trigger.len);
                    // A window cut short (a long line, a long PEM span) may have cut a secret in
                    // two: hits in its last stretch get a window of their own, and the secrets
                    // found twice are deduplicated.
                    let cut = to < content.len()
                        && !(rule.window == Window::Line && content[to] == b'\n');
                    covered[trigger.rule] = if cut {
                        to.saturating_sub(REWINDOW).max(position + 1)
                    } else {
                        to
                    };
                    self.run_rule(trigger.rule, path, content, from, to, &mut found);
                }
                at = hit.start() + 1;
            }
            start = end;
        }
        self.finish(content, found)
    }

    /// Runs rule `index`'s regex on `content[from..to]` and keeps the matches that pass its
    /// entropy threshold, its check and the allow-lists.
    fn run_rule(
        &self,
        index: usize,
        path: Option<&str>,
        content: &[u8],
        from: usize,
        to: usize,
        found: &mut Vec<Found>,
    ) {
        let rule = &self.rules[index];
        for caps in rule.regex.captures_iter(&content[from..to]) {
            let Some(secret) = caps.get(rule.secret_group) else {
                continue;
            };
            let start = from + secret.start();
            let secret = secret.as_bytes();
            if secret.is_empty() || rule.entropy.is_some_and(|min| shannon(secret) < min) {
                continue;
            }
            let quoted = start > 0 && matches!(content[start - 1], b'"' | b'\'');
            if !rule.check.passes(&caps, secret, quoted) || is_placeholder(secret) {
                continue;
            }
            if !self.allows.is_empty() {
                let line = &content[line_bounds(content, start)];
                if self.allows.iter().any(|a| a.allows(path, secret, line)) {
                    continue;
                }
            }
            found.push(Found {
                rule: index,
                start,
                secret: secret.to_vec(),
            });
        }
    }

    /// Numbers the lines, keeps one match per line and secret (the earliest rule's), drops
    /// matches that overlap the secret of an earlier rule (`x-access-token:ghs_…@github.com` is
    /// a GitHub token, not also a generic password), and redacts.
    fn finish(&self, content: &[u8], mut found: Vec<Found>) -> Vec<SecretMatch> {
        if found.is_empty() {
            return Vec::new();
        }
        found.sort_by_key(|f| f.start);
        let mut numbered = Vec::with_capacity(found.len());
        let (mut counted_to, mut line) = (0usize, 1u64);
        for f in found {
            line += newlines(&content[counted_to..f.start]);
            counted_to = f.start;
            numbered.push((line, f));
        }
        numbered.sort_by_key(|(line, f)| (*line, f.rule, f.start));
        // Matches kept on the current line: secrets and spans to compare the next ones with.
        let mut seen: HashSet<Vec<u8>> = HashSet::new();
        let mut kept: Vec<(usize, Range<usize>)> = Vec::new();
        let mut current = 0;
        numbered
            .into_iter()
            .filter(|(line, f)| {
                if *line != current {
                    current = *line;
                    seen.clear();
                    kept.clear();
                }
                let overlaps = kept.iter().any(|(rule, span)| {
                    *rule != f.rule && span.start < f.end() && f.start < span.end
                });
                if overlaps || !seen.insert(f.secret.clone()) {
                    return false;
                }
                kept.push((f.rule, f.start..f.end()));
                true
            })
            .map(|(line, f)| {
                let rule = &self.rules[f.rule];
                let secret = String::from_utf8_lossy(&f.secret);
                SecretMatch {
                    rule_id: rule.id.clone(),
                    title: rule.title.clone(),
                    severity: rule.severity,
                    line,
                    redacted: if rule.public_prefix > 0 {
                        redact_keeping(&secret, rule.public_prefix)
                    } else {
                        redact(&secret)
                    },
                    span: f.start..f.end(),
                }
            })
            .collect()
    }
}

/// Offsets at which `keyword` (lower-cased) occurs in the lower-case prefilter `pattern`.
fn occurrences<'a>(pattern: &'a [u8], keyword: &'a Keyword) -> impl Iterator<Item = usize> + 'a {
    let needle = keyword.text.to_ascii_lowercase();
    (0..=pattern.len().saturating_sub(needle.len()))
        .filter(move |&offset| !needle.is_empty() && pattern[offset..].starts_with(&needle))
}

/// Counts line breaks; in blocks of 255 bytes with a byte-wide count, which the compiler
/// vectorises (a plain `filter().count()` widens every byte to 64 bits first).
pub(crate) fn newlines(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|block| u64::from(block.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'))))
        .sum()
}

/// The window a rule's regex runs on around a keyword at `position`, `len` bytes long.
fn window(window: Window, content: &[u8], position: usize, len: usize) -> (usize, usize) {
    match window {
        Window::Line => {
            let floor = position.saturating_sub(LINE_BEFORE);
            let from = content[floor..position]
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(floor, |i| floor + i + 1);
            let ceiling = (position + len + LINE_AFTER).min(content.len());
            let to = content[position..ceiling]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(ceiling, |i| position + i);
            (from, to)
        }
        Window::Around { before, after } => (
            position.saturating_sub(before),
            (position + len + after).min(content.len()),
        ),
    }
}

/// The bytes of the line holding `position` (without its line break), bounded like
/// [`Window::Line`].
fn line_bounds(content: &[u8], position: usize) -> Range<usize> {
    let (from, to) = window(Window::Line, content, position, 0);
    from..to
}

fn compile_user_rule(config: &crate::config::RuleConfig) -> Result<Rule, String> {
    let severity = parse_severity(&config.severity).ok_or_else(|| {
        format!(
            "severity `{}` is not one of critical, high, medium, low, info",
            config.severity
        )
    })?;
    if config.keywords.is_empty() || config.keywords.iter().any(|k| k.is_empty()) {
        return Err(
            "needs at least one keyword, and no empty ones: the regex runs only around them"
                .to_string(),
        );
    }
    if let Some(entropy) = config.entropy
        && !(0.0..=8.0).contains(&entropy)
    {
        return Err(format!(
            "entropy {entropy} is not between 0 and 8 bits per character"
        ));
    }
    let (regex, secret_group) = compile_regex(&config.regex)?;
    let path = config.path.as_deref().map(compile_path).transpose()?;
    Ok(Rule {
        id: config.id.clone(),
        title: config.title.clone(),
        severity,
        keywords: config
            .keywords
            .iter()
            .map(|k| Keyword {
                text: k.as_bytes().to_vec(),
                ignore_case: true,
            })
            .collect(),
        regex,
        secret_group,
        entropy: config.entropy,
        path,
        image_config: false,
        public_prefix: 0,
        window: Window::Line,
        guard: Guard::None,
        check: crate::checks::Check::None,
        priority: Priority::User,
    })
}

fn compile_allow(config: &crate::config::AllowRuleConfig) -> Result<UserAllow, String> {
    if config.path.is_none() && config.regex.is_none() && config.line.is_none() {
        return Err("needs at least one of path, regex and line".to_string());
    }
    let bytes_regex = |pattern: &String, what: &str| {
        regex::bytes::RegexBuilder::new(pattern)
            .size_limit(crate::rules::REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| {
                format!(
                    "{what} regex does not compile: {}",
                    stowaway_findings::one_line(&e.to_string())
                )
            })
    };
    Ok(UserAllow {
        path: config.path.as_deref().map(compile_path).transpose()?,
        secret: config
            .regex
            .as_ref()
            .map(|p| bytes_regex(p, "secret"))
            .transpose()?,
        line: config
            .line
            .as_ref()
            .map(|p| bytes_regex(p, "line"))
            .transpose()?,
    })
}

/// The cache fingerprint: the crate and bundled-rule versions, a hash of the bundled rule table
/// and of the user's config.
fn fingerprint(config: &SecretsConfig) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("{BUILTIN:?}"));
    hash.update(format!(
        "{:?}{:?}{:?}",
        config.rules, config.allow_rules, config.disable_rules
    ));
    let digest = hex::encode(hash.finalize());
    format!(
        "secrets-{}-rules{}-{}",
        env!("CARGO_PKG_VERSION"),
        BUILTIN_VERSION,
        &digest[..16]
    )
}
