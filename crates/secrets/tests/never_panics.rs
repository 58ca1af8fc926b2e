//! The scanner on arbitrary bytes never panics: random bytes, and random bytes with every
//! bundled keyword (and pieces of secrets' syntax) spliced in at random places, under paths that
//! enable the path-scoped rules.

use std::sync::LazyLock;

use proptest::prelude::*;
use stowaway_secrets::SecretScanner;

/// Compiled once: the scanner is shared, as the walker's threads share it.
static SCANNER: LazyLock<SecretScanner> = LazyLock::new(SecretScanner::builtin);

/// Keywords and syntax that drive the scanner past its prefilter into its regexes and checks.
const SPLICES: &[&str] = &[
    "AKIA",
    "ASIA",
    "secret",
    "\"service_account\"",
    "\"private_key\": \"",
    "AIza",
    "ntKey=",
    "dAccessKey=",
    "ghp_",
    "gho_",
    "ghu_",
    "ghs_",
    "ghr_",
    "github_pat_",
    "glpat-",
    "gldt-",
    "glrt-",
    "xoxb-123456-",
    "hooks.slack.com/services/T",
    "sk_live_",
    "rk_live_",
    "npm_",
    "pypi-AgEIcHlwaS5vcmc",
    "T3BlbkFJ",
    "sk-ant-api03-",
    "hvs.",
    "-----BEGIN ",
    "PRIVATE KEY-----",
    "KEY BLOCK-----",
    "OPENSSH ",
    "ENCRYPTED ",
    "Proc-Type: 4,ENCRYPTED\n",
    "eyJhbGciOiJIUzI1NiJ9",
    "eyJ0",
    "eyJr",
    ".",
    "\"auth\": \"",
    "_authToken=",
    "password",
    "PASSWORD=",
    "passphrase",
    "token: ",
    "api_key=",
    "https://",
    "u:p@",
    "=",
    "\n",
    "\r\n",
    "\\n",
    "\"",
    "'",
    "${",
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmU",
    "\u{e9}",
    "\u{1F600}",
];

const PATHS: &[&str] = &[
    "srv/app/.env",
    "root/.docker/config.json",
    "home/node/.npmrc",
    "root/.pypirc",
    "root/.netrc",
    "root/.git-credentials",
    "srv/app/main.py",
];

fn content() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            prop::sample::select(SPLICES).prop_map(|s| s.as_bytes().to_vec()),
            prop::collection::vec(prop::sample::select(b"AZaz09+/=_-.:@\n".to_vec()), 0..120),
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn scan_never_panics(content in content(), path in prop::sample::select(PATHS)) {
        let scanner = &*SCANNER;
        let found = scanner.scan_file(path, &content);
        for m in &found {
            prop_assert!(m.line >= 1);
            prop_assert!(m.redacted.ends_with('*'));
        }
        let text = String::from_utf8_lossy(&content);
        let _ = scanner.scan_text(&text);
    }
}

#[test]
fn huge_single_line_with_many_keywords_is_bounded() {
    // A minified file: one 4 MB line full of keywords. Windows are bounded, so this is linear.
    let unit = "password=x;token:y;ghp_;https://a@b ";
    let content = unit.repeat((4 << 20) / unit.len());
    let start = std::time::Instant::now();
    let found = SCANNER.scan_file("srv/app.min.js", content.as_bytes());
    assert!(found.is_empty());
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
}
