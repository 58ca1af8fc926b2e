//! The secret scanner: credentials and private keys baked into an image's files, ENV, labels and
//! build history, in the manner of gitleaks and Trivy's secret scanner. A pure engine — it reads
//! nothing but its config; the walker hands it each file's content, the image analysis hands it
//! each config value.
//!
//! # Pipeline
//!
//! [`SecretScanner`] is compiled once (`Send + Sync`, shared by the walker's threads) and then,
//! for each file:
//!
//! 1. **Path allow-list.** Test fixtures, examples and templates (see below) and the user's
//!    path-only allow rules are skipped without reading a byte.
//! 2. **Keyword prefilter.** One Aho-Corasick pass (DFA with a SIMD "Teddy" candidate search)
//!    over the content, lower-cased in 64 KiB chunks, for every rule's keywords at once;
//!    case-sensitive keywords (`AKIA`, `ghp_`) are then compared exactly. No keyword, no regex:
//!    on ordinary text this is the whole cost. Keywords are picked so that their first four bytes
//!    are rare in text (`hub_pat_`, not `github_pat_`); see `builtin.rs`.
//! 3. **Regex in a window.** Each rule hit runs that rule's regex (the `regex` crate: linear time,
//!    size-bounded) only on a window around the keyword: the line (at most 256 bytes before and
//!    4 KiB after), or a bounded span for multi-line secrets (PEM blocks, service-account JSON).
//!    A window already searched for a rule is not searched again for it. A cheap guard runs first
//!    where the keyword is common (`s://`: is there a `@` in the URL's authority?).
//! 4. **Filters.** The rule's entropy threshold (Shannon, bits per character), its check
//!    (JWT header decodes to JSON with `"alg"`; Docker `auth` decodes to `user:password`; an
//!    encrypted or plain private key; an assignment that is not code or metadata), the
//!    placeholder allow-list and the user's allow rules.
//! 5. **Dedup.** One match per line and secret: when several rules find the same secret on the
//!    same line (a GCP service-account key is also a private key; an `npm_` token in `.npmrc` is
//!    also an `_authToken`), the first in rule order is kept — specific bundled rules, then user
//!    rules, then the generic bundled ones (`env-secret`, `url-credentials`, `generic-password`).
//!
//! [`SecretScanner::scan_text`] runs the same pipeline on text that is not a file (an ENV entry,
//! a label, a history line): rules scoped to paths do not apply to it, except `env-secret`.
//! Whether a file is binary is the caller's decision ([`looks_binary`]).
//!
//! # Bundled rules
//!
//! | id | severity | what |
//! |---|---|---|
//! | `aws-access-key-id` | critical | `AKIA`/`ASIA`/`ABIA`/`ACCA` + 16 base32 characters |
//! | `aws-secret-access-key` | critical | 40 characters after `aws_secret_access_key`, `SecretAccessKey`…; entropy ≥ 4 |
//! | `gcp-service-account` | critical | `"private_key"` PEM near `"service_account"` in JSON |
//! | `gcp-api-key` | high | `AIza` + 35 |
//! | `azure-storage-account-key` | critical | `AccountKey=` + 88 base64 characters |
//! | `azure-shared-access-key` | high | `SharedAccessKey=` + 44 base64 characters (Service Bus, Event Hubs, IoT Hub) |
//! | `github-pat` | critical | `ghp_` + 36 |
//! | `github-fine-grained-pat` | critical | `github_pat_` + 82 |
//! | `github-oauth-token` | high | `gho_` + 36 |
//! | `github-app-token` | high | `ghu_`/`ghs_` + 36 |
//! | `github-refresh-token` | high | `ghr_` + 36… |
//! | `gitlab-pat` | critical | `glpat-` + 20… |
//! | `gitlab-deploy-token` | high | `gldt-` + 20… |
//! | `gitlab-runner-token` | high | `glrt-` + 20… |
//! | `slack-token` | high | `xoxa-`/`xoxb-`/`xoxp-`/`xoxr-`/`xoxs-` + digits + … |
//! | `slack-webhook` | high | `hooks.slack.com/services/T…/B…/…` |
//! | `stripe-secret-key` | critical | `sk_live_` + 24… (`sk_test_` keys are not reported: they cannot move money and Stripe publishes them) |
//! | `stripe-restricted-key` | high | `rk_live_` + 24… |
//! | `npm-access-token` | critical | `npm_` + 36 |
//! | `pypi-token` | critical | `pypi-AgEIcHlwaS5vcmc` + 50… |
//! | `openai-api-key` | high | `sk-…T3BlbkFJ…` |
//! | `anthropic-api-key` | high | `sk-ant-api03-…` |
//! | `vault-token` | high | `hvs.` + 90… |
//! | `private-key` | critical | `-----BEGIN … PRIVATE KEY( BLOCK)?-----` with a body (PEM, PKCS#8, OpenSSH, PGP) |
//! | `private-key-encrypted` | medium | the same, encrypted (PKCS#8 `ENCRYPTED`, `Proc-Type: 4,ENCRYPTED`, OpenSSH cipher ≠ `none`) |
//! | `jwt` | medium | `eyJ…` header whose JSON has `"alg"` (keywords: headers starting `{"alg`, `{"typ`, `{"kid`) |
//! | `docker-config-auth` | high | `"auth": "<base64 user:password>"` in `config.json`/`.dockercfg` |
//! | `npmrc-auth` | high | `_authToken=`, `_auth=`, `_password=` in `.npmrc` |
//! | `pypirc-password` | high | `password` in `.pypirc` |
//! | `netrc-password` | high | `password` in `.netrc`/`_netrc` |
//! | `git-credentials` | high | `https://user:password@host` in `.git-credentials` |
//! | `env-secret` | high | `NAME=value` where NAME looks secret, in `.env*` files and image ENV |
//! | `url-credentials` | medium | `scheme://user:password@host` anywhere; entropy ≥ 2.8 |
//! | `generic-password` | medium | `password = "…"`, `api_key: …` and the like; entropy ≥ 3 |
//!
//! Public keys, certificates and PGP public key blocks never match.
//!
//! # Allow-lists
//!
//! - Placeholders and examples, judged on the secret: `EXAMPLE`/`example` (AWS's documented
//!   `AKIAIOSFODNN7EXAMPLE`), `xxxx`, `****`, `changeme`, `dummy`, `placeholder`, `your_…`,
//!   `<…>`, `${VAR}`, `$VAR`, `%(name)s`, `{{ … }}`, `…`, `null`, `none`, `true`, `false`, one
//!   repeated character, and a few published well-known values (Azurite's key, jwt.io's token,
//!   RFC 6749's tokens).
//! - Generic rules also drop values that name themselves (`password=password123`,
//!   `token: my-token`), values for metadata names (`PASSWORD_FILE`, `TOKEN_URL`), paths, URLs,
//!   code (`get_password()`, `self.token`, `crate::Token`), single-class values (`lowercaseonly`), and in code
//!   tokens shorter than 20 characters or under 3.5 bits per character. URL credentials drop
//!   `user:user`, `user:pass`, hosts reserved for documentation (`example.com`, `.test`) and
//!   `localhost`.
//! - Paths: a directory named `test`, `tests`, `testdata`, `test_data`, `testing`, `fixtures`,
//!   `__tests__`, `spec`, `specs`, `examples` or `samples`, and files ending in `.example`,
//!   `.sample`, `.template`, `.dist`. Documentation is not skipped (`*.md`, `usr/share/doc`): a
//!   token pasted into a README is leaked all the same, and the rules are precise enough that
//!   Debian's documentation, Perl and Python libraries and `/etc` yield nothing.
//! - The user's allow rules (regex on the path, the secret and/or its line).
//!
//! # Redaction
//!
//! [`SecretMatch::redacted`] never holds the secret: at most its first four characters (a quarter
//! of it when it is short) or the rule's fixed public prefix (`ghp_`, `sk_live_`), then 4 to 16
//! `*`. [`redact`] does the same for any string.
//!
//! # Config
//!
//! YAML in the shape of Trivy's `trivy-secret.yaml`, read by [`SecretsConfig::load`]: `rules`
//! (added to the bundled ones), `allow-rules`, `disable-rules`. See [`SecretsConfig`] and
//! `docs/secrets.md`. [`SecretScanner::fingerprint`] changes with the bundled rules and with
//! the config, for cache keys.

mod allow;
mod analyzer;
mod builtin;
mod checks;
mod config;
mod entropy;
mod image;
mod redact;
mod rules;
mod scanner;

pub use analyzer::SecretsAnalyzer;
pub use config::{AllowRuleConfig, RuleConfig, SecretsConfig, SecretsError};
pub use image::{redact_report, scan_config};
pub use redact::redact;
pub use scanner::{SecretMatch, SecretScanner};

/// How many leading bytes [`looks_binary`] looks at (git's `FIRST_FEW_BYTES`).
pub const BINARY_SNIFF_BYTES: usize = 8000;

/// Whether content whose first bytes are `head` is binary: a NUL byte within the first
/// [`BINARY_SNIFF_BYTES`], as git and ripgrep decide.
pub fn looks_binary(head: &[u8]) -> bool {
    head[..head.len().min(BINARY_SNIFF_BYTES)].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_is_a_nul_in_the_first_bytes() {
        assert!(looks_binary(b"\x7fELF\x02\x01\x01\x00"));
        assert!(!looks_binary(b"plain text\n"));
        assert!(!looks_binary(b""));
        let mut late = vec![b'a'; BINARY_SNIFF_BYTES];
        late.push(0);
        assert!(!looks_binary(&late));
    }

    #[test]
    fn bundled_rules_compile_with_unique_ids_and_long_keywords() {
        let mut ids = std::collections::HashSet::new();
        for spec in builtin::BUILTIN {
            rules::compile_spec(spec).unwrap();
            assert!(ids.insert(spec.id), "duplicate id {}", spec.id);
            for keyword in spec.keywords {
                assert!(keyword.len() >= 4, "{}: keyword {keyword:?}", spec.id);
            }
        }
        let distinct: std::collections::HashSet<String> = builtin::BUILTIN
            .iter()
            .flat_map(|s| s.keywords.iter().map(|k| k.to_ascii_lowercase()))
            .collect();
        assert!(distinct.len() < 64, "{} keywords", distinct.len());
    }

    #[test]
    fn scanner_is_send_and_sync() {
        fn shared<T: Send + Sync>() {}
        shared::<SecretScanner>();
    }
}
