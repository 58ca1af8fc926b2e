//! The user's config: a user rule fires, an allow rule suppresses, a disabled rule is off, the
//! fingerprint follows the config, and every mistake in a config is an error that names the
//! file, the rule and what is wrong.

mod common;

use common::*;
use stowaway_secrets::{SecretScanner, SecretsConfig, SecretsError};

const CONFIG: &str = r#"
rules:
  - id: acme-token
    title: ACME internal token
    severity: HIGH
    keywords: [ACME_]
    regex: 'acme_(?P<secret>[a-z0-9]{32})'
    path: '\.conf$'
    entropy: 3.0
allow-rules:
  - id: our-fixtures
    description: fixtures we ship on purpose
    path: '^srv/fixtures/'
  - id: known-fake
    regex: '^ghp_0{4}'
  - id: docs-line
    line: 'not-a-real-secret'
disable-rules: [jwt]
"#;

fn scanner() -> SecretScanner {
    SecretScanner::new(&SecretsConfig::parse(CONFIG, "secrets.yaml").unwrap()).unwrap()
}

fn acme() -> String {
    format!(
        "{}{}",
        "acme_",
        random(32, "abcdefghijklmnopqrstuvwxyz0123456789")
    )
}

#[test]
fn user_rule_fires_in_its_paths_only() {
    let scanner = scanner();
    let token = acme();
    let content = format!("# acme\nupstream_token {token}\n");
    let found = scanner.scan_file("etc/acme/acme.conf", content.as_bytes());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule_id, "acme-token");
    assert_eq!(found[0].title, "ACME internal token");
    assert_eq!(found[0].severity, stowaway_findings::Severity::High);
    assert_eq!(found[0].line, 2);
    // The keyword `ACME_` matched `acme_`: user keywords ignore case.
    assert!(!found[0].redacted.contains(&token[5..]));
    assert!(
        scanner
            .scan_file("etc/acme/acme.txt", content.as_bytes())
            .is_empty()
    );
    assert!(scanner.scan_text(&content).is_empty());
    // Below its entropy threshold.
    let plain = format!("token {}{}\n", "acme_", "ab".repeat(16));
    assert!(
        scanner
            .scan_file("etc/acme/acme.conf", plain.as_bytes())
            .is_empty()
    );
}

#[test]
fn allow_rules_suppress() {
    let scanner = scanner();
    let token = format!("{}{}", "ghp_", random(36, ALNUM));
    let line = format!("TOKEN={token}\n");
    assert_eq!(
        scanner.scan_file("srv/app/run.sh", line.as_bytes()).len(),
        1
    );
    assert!(
        scanner
            .scan_file("srv/fixtures/run.sh", line.as_bytes())
            .is_empty()
    );
    let fake = format!("TOKEN={}{}{}\n", "ghp_", "0000", random(32, ALNUM));
    assert!(
        scanner
            .scan_file("srv/app/run.sh", fake.as_bytes())
            .is_empty()
    );
    let documented = format!("TOKEN={token} # not-a-real-secret\n");
    assert!(
        scanner
            .scan_file("srv/app/run.sh", documented.as_bytes())
            .is_empty()
    );
}

#[test]
fn disabled_rule_is_off() {
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let token = format!("{header}.{}.{}", random(30, URLSAFE), random(43, URLSAFE));
    let content = format!("Authorization: Bearer {token}\n");
    let builtin = SecretScanner::builtin().scan_file("srv/a.txt", content.as_bytes());
    assert_eq!(builtin.len(), 1);
    assert_eq!(builtin[0].rule_id, "jwt");
    assert!(
        scanner()
            .scan_file("srv/a.txt", content.as_bytes())
            .is_empty()
    );
}

#[test]
fn fingerprint_follows_the_config() {
    let builtin = SecretScanner::builtin().fingerprint();
    assert_eq!(builtin, SecretScanner::builtin().fingerprint());
    assert_eq!(
        builtin,
        SecretScanner::new(&SecretsConfig::parse("", "empty.yaml").unwrap())
            .unwrap()
            .fingerprint()
    );
    let custom = scanner().fingerprint();
    assert_ne!(builtin, custom);
    // The same config from another file is the same scanner.
    let moved = SecretScanner::new(&SecretsConfig::parse(CONFIG, "elsewhere.yaml").unwrap())
        .unwrap()
        .fingerprint();
    assert_eq!(custom, moved);
    let changed = CONFIG.replace("[jwt]", "[jwt, slack-token]");
    let changed = SecretScanner::new(&SecretsConfig::parse(&changed, "secrets.yaml").unwrap())
        .unwrap()
        .fingerprint();
    assert_ne!(custom, changed);
}

#[test]
fn load_reads_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secrets.yaml");
    std::fs::write(&path, CONFIG).unwrap();
    let config = SecretsConfig::load(&path).unwrap();
    assert_eq!(config.rules.len(), 1);
    assert_eq!(config.allow_rules.len(), 3);
    assert_eq!(config.disable_rules, ["jwt"]);
    let missing = SecretsConfig::load(&dir.path().join("nope.yaml")).unwrap_err();
    assert!(matches!(missing, SecretsError::Read { .. }));
    assert!(missing.to_string().contains("nope.yaml"), "{missing}");
}

/// The error for `yaml`, as text.
fn error(yaml: &str) -> String {
    match SecretsConfig::parse(yaml, "conf/secrets.yaml") {
        Err(e) => e.to_string(),
        Ok(config) => match SecretScanner::new(&config) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted:\n{yaml}"),
        },
    }
}

fn rule(fields: &str) -> String {
    format!(
        "rules:\n  - id: mine\n    title: Mine\n    severity: high\n    keywords: [mine_]\n{fields}"
    )
}

#[test]
fn config_errors_name_the_file_the_rule_and_the_problem() {
    let cases = [
        ("rules: [", "not valid"),
        ("rule:\n  - id: x\n", "unknown field `rule`"),
        (
            &rule("    regex: 'mine_(?P<secret>[a-z]{8})'\n    colour: red\n"),
            "unknown field `colour`",
        ),
        (
            &rule("    regex: 'mine_(?P<secret>[a-z]{8}'\n"),
            "rule `mine`: regex does not compile",
        ),
        (
            &rule("    regex: 'mine_[a-z]{8}'\n"),
            "rule `mine`: regex has no group named `secret`",
        ),
        (
            &rule("    regex: 'mine_(?P<secret>[a-z]{8})'\n    path: '(['\n"),
            "rule `mine`: path regex does not compile",
        ),
        (
            &rule("    regex: 'mine_(?P<secret>[a-z]{8})'\n    entropy: 12\n"),
            "rule `mine`: entropy 12 is not between 0 and 8",
        ),
        (
            &rule("    regex: '(?P<secret>\\w{1000}\\w{1000}\\w{1000})'\n"),
            "rule `mine`: regex does not compile",
        ),
        (
            "rules:\n  - id: mine\n    title: Mine\n    severity: urgent\n    keywords: [mine_]\n    regex: '(?P<secret>x)'\n",
            "rule `mine`: severity `urgent`",
        ),
        (
            "rules:\n  - id: mine\n    title: Mine\n    severity: low\n    keywords: []\n    regex: '(?P<secret>x)'\n",
            "rule `mine`: needs at least one keyword",
        ),
        (
            "rules:\n  - id: jwt\n    title: Mine\n    severity: low\n    keywords: [abcd]\n    regex: '(?P<secret>x)'\n",
            "rule `jwt`: another rule has the same id",
        ),
        (
            "allow-rules:\n  - id: nothing\n    description: allows what?\n",
            "allow rule `nothing`: needs at least one of path, regex and line",
        ),
        (
            "allow-rules:\n  - id: bad\n    regex: '(?P<x'\n",
            "allow rule `bad`: secret regex does not compile",
        ),
        (
            "disable-rules: [jwtt]\n",
            "disable-rules: no bundled rule has the id `jwtt`",
        ),
    ];
    for (yaml, expected) in cases {
        let message = error(yaml);
        assert!(message.contains("conf/secrets.yaml"), "{message}");
        assert!(
            message.contains(expected),
            "{message}\nexpected: {expected}"
        );
        assert!(!message.contains('\n'), "{message}");
    }
}
