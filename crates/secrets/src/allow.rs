//! Allow-lists: what looks like a secret but is not one.
//!
//! - Placeholders and examples, judged on the secret itself ([`is_placeholder`]): `EXAMPLE` in any
//!   case (AWS's documented `AKIAIOSFODNN7EXAMPLE` among them), `xxxx`, `****`, `changeme`,
//!   `dummy`, `placeholder`, `your_…`, template and variable references (`<…>`, `${VAR}`, `$VAR`,
//!   `%(name)s`, `{{ … }}`), the literals `null`, `none`, `nil`, `true`, `false`, `undefined`,
//!   one character repeated, Stripe's test-mode and publishable keys (`sk_test_`, `pk_live_`),
//!   and a few published well-known keys (the Azure storage emulator's
//!   account key, jwt.io's sample token).
//! - Paths of test fixtures and examples ([`is_allowed_path`]): a directory named `test`,
//!   `tests`, `testdata`, `test_data`, `testing`, `fixtures`, `__tests__`, `spec`, `specs`,
//!   `examples` or `samples` anywhere in the path, and files named `*.example`, `*.sample`,
//!   `*.template`, `*.dist` (`.env.example`). Documentation (`*.md`, `usr/share/doc/`) is **not**
//!   skipped: a token pasted into a README is as leaked as one in a config file, and the rules
//!   are precise enough that distribution docs produce no matches.
//! - The user's allow rules ([`UserAllow`]): a path regex, a regex on the secret, a regex on the
//!   line, or any combination (all given conditions must hold).

use regex::Regex;

/// Substrings (compared without case) that mark a value as a placeholder or an example.
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxx",
    "****",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "placeholder",
    "your_",
    "your-",
    "yourpassword",
    "yourtoken",
    "redacted",
    "<",
    ">",
    "${",
    "{{",
    "%(",
    "...",
    "\u{2026}",
];

/// Prefixes of keys that are not secret by design: Stripe's test-mode keys (they cannot move
/// money, and Stripe's documentation is full of them) and its publishable keys (shipped to every
/// browser).
const PUBLIC_KEY_PREFIXES: &[&str] = &["sk_test_", "rk_test_", "pk_test_", "pk_live_"];

/// Whole values (compared without case) that are not secrets.
const PLACEHOLDER_VALUES: &[&str] = &[
    "null",
    "none",
    "nil",
    "true",
    "false",
    "undefined",
    "empty",
    "changeit",
];

/// Published values that are the same for everyone, split so that no scanner flags this file:
/// the Azure storage emulator's (Azurite's) account key, jwt.io's sample token, PyJWT's README
/// token, the tokens in the examples of RFC 6749 and RFC 7009 (quoted by OAuth libraries'
/// docstrings) and the registry token in Cargo's documentation.
const WELL_KNOWN: &[[&str; 2]] = &[
    [
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UV",
        "ErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    ],
    [
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6",
        "IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ],
    [
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzb21lIjoicGF5bG9hZCJ9.",
        "4twFt5NiznN84AWoo1d7KO1T_yoc0Z6XOpOVswacPZg",
    ],
    ["2YotnFZFEjr1", "zCsicMWpAA"],
    ["tGzv3JOkF0XG", "5Qx2TlKWIA"],
    ["45ghiukldja", "hdnhzdauz"],
    ["854DvwSlUwEHtIo3", "kWy6x7UCPKHfzCmy"],
];

/// Whether `secret` is a placeholder, an example or a well-known public value.
pub(crate) fn is_placeholder(secret: &[u8]) -> bool {
    let lower = String::from_utf8_lossy(secret).to_lowercase();
    // `true|false`: documentation of the values a setting takes.
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w))
        || lower
            .split('|')
            .all(|part| PLACEHOLDER_VALUES.contains(&part))
    {
        return true;
    }
    if PUBLIC_KEY_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    // `$VAR` and `%VAR%`: references to variables.
    let bytes = lower.as_bytes();
    if let [b'$', first, ..] = bytes
        && (first.is_ascii_alphabetic() || *first == b'_' || *first == b'(')
    {
        return true;
    }
    if bytes.len() > 2 && bytes.starts_with(b"%") && bytes.ends_with(b"%") {
        return true;
    }
    if let Some(&first) = bytes.first()
        && bytes.iter().all(|&b| b == first)
    {
        return true;
    }
    WELL_KNOWN.iter().any(|[a, b]| {
        secret.len() == a.len() + b.len()
            && secret.starts_with(a.as_bytes())
            && secret.ends_with(b.as_bytes())
    })
}

/// Directory names whose files are test fixtures or examples.
const FIXTURE_DIRS: &[&str] = &[
    "test",
    "tests",
    "testdata",
    "test_data",
    "testing",
    "fixtures",
    "__tests__",
    "spec",
    "specs",
    "examples",
    "samples",
];

/// File name suffixes of templates shipped to be copied and filled in.
const TEMPLATE_SUFFIXES: &[&str] = &[".example", ".sample", ".template", ".dist"];

/// Whether the file at `path` (in the image, no leading `/`) is a test fixture, an example or a
/// template, whose secrets are not reported.
pub(crate) fn is_allowed_path(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or_default();
    if TEMPLATE_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return true;
    }
    parts.any(|dir| FIXTURE_DIRS.contains(&dir))
}

/// A compiled user allow rule: every condition it has must hold.
#[derive(Debug)]
pub(crate) struct UserAllow {
    pub(crate) path: Option<Regex>,
    pub(crate) secret: Option<regex::bytes::Regex>,
    pub(crate) line: Option<regex::bytes::Regex>,
}

impl UserAllow {
    /// A rule with only a path condition: it allows whole files, which are then not scanned.
    pub(crate) fn is_path_only(&self) -> bool {
        self.secret.is_none() && self.line.is_none()
    }

    /// Whether the rule allows the file at `path` outright.
    pub(crate) fn allows_file(&self, path: &str) -> bool {
        self.is_path_only() && self.path.as_ref().is_some_and(|p| p.is_match(path))
    }

    /// Whether the rule allows `secret` found on `line` of the file at `path` (`None` for text
    /// that is not a file: a path condition never holds for it).
    pub(crate) fn allows(&self, path: Option<&str>, secret: &[u8], line: &[u8]) -> bool {
        if let Some(re) = &self.path
            && !path.is_some_and(|p| re.is_match(p))
        {
            return false;
        }
        if let Some(re) = &self.secret
            && !re.is_match(secret)
        {
            return false;
        }
        if let Some(re) = &self.line
            && !re.is_match(line)
        {
            return false;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        for value in [
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "${DB_PASSWORD}",
            "$DB_PASSWORD",
            "%(password)s",
            "{{ vault_token }}",
            "<your-token>",
            "your_api_key_here",
            "********",
            "changeme",
            "None",
            "FALSE",
            "%APPDATA%",
            "aaaaaaaaaaaa",
            "dummy-token-1234",
            "true|false",
        ] {
            assert!(is_placeholder(value.as_bytes()), "{value}");
        }
        for value in [
            "hunter2hunter2",
            "Zq8-r1x!Lm",
            "$1x",
            "AKIA2E3F4G5H6I7J2K3L",
        ] {
            assert!(!is_placeholder(value.as_bytes()), "{value}");
        }
    }

    #[test]
    fn fixture_paths() {
        assert!(is_allowed_path(
            "usr/lib/python3/dist-packages/foo/tests/keys.py"
        ));
        assert!(is_allowed_path("srv/app/spec/fixtures/id_rsa"));
        assert!(is_allowed_path("srv/app/.env.example"));
        assert!(is_allowed_path("test/key.pem"));
        assert!(!is_allowed_path("srv/app/.env"));
        assert!(!is_allowed_path("srv/latest/config.json"));
        assert!(!is_allowed_path("root/.ssh/id_rsa"));
    }
}
