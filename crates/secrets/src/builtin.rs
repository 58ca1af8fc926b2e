//! The bundled rules, as data. Order matters: when two rules report the same secret on the same
//! line, the one listed first wins (specific formats before loose patterns; see
//! [`Priority`]).
//!
//! Keywords are chosen for the prefilter's sake. A keyword only has to occur in every match, so
//! each is the part of the secret's context whose *first four bytes are rare in ordinary text*:
//! the SIMD search fingerprints the first four bytes of each keyword (lower-cased), and every
//! place where they occur costs a verification. So `hub_pat_` rather than `github_pat_`
//! (`gith` is everywhere in documentation), `assw` rather than `password` (`pass` is a Python
//! statement), `ntKey=` rather than `AccountKey=`, `KEY-----` rather than `PRIVATE KEY`. Every
//! keyword is at least four bytes long (three-byte keywords halve the prefilter's speed), and
//! there are fewer than 64 distinct ones (beyond that the SIMD search is off). Bump [`BUILTIN_VERSION`] when a change here, in the checks or in the
//! allow-lists changes what is found — it is part of the scanner's cache fingerprint (which also
//! hashes this table, so forgetting costs only stale cache entries for check or allow-list
//! changes).

use stowaway_findings::Severity;

use crate::checks::Check;
use crate::rules::{Guard, Priority, Spec, Window};

/// Version of the bundled rules, checks and allow-lists.
pub(crate) const BUILTIN_VERSION: &str = "1";

/// The base64 body of a PEM block: a full line (60 or more base64 characters) and whatever
/// follows, with line breaks literal or escaped as `\n` (keys inside JSON or shell strings). The
/// GCP service-account rule and the private-key rule share it so that both see the same secret
/// and the key is reported once.
macro_rules! pem_body {
    () => {
        r"(?P<secret>[A-Za-z0-9+/]{60}(?:[A-Za-z0-9+/=]|\r?\n|\\r|\\n)*)"
    };
}

/// The PEM header of any private key (not of public keys or certificates), with its PEM headers
/// (`Proc-Type: 4,ENCRYPTED`, PGP's `Version:`) and the body.
macro_rules! private_key {
    () => {
        concat!(
            r"(?-u)-----BEGIN (?P<kind>(?:[A-Z0-9]+ ){0,3})PRIVATE KEY(?: BLOCK)?-----",
            r"(?:\s|\\[rn])*(?P<headers>(?:[A-Za-z][A-Za-z0-9-]*: ?[^\r\n\\]*(?:\r?\n|\\r?\\n))*)",
            r"(?:\s|\\[rn])*",
            pem_body!()
        )
    };
}

/// Names of variables that hold secrets, for the `.env`/ENV and generic assignment rules (which
/// require the name not to follow a `/`: `/etc/passwd: …` is a path, not an assignment).
macro_rules! secret_names {
    () => {
        r"(?:password|passwd|passphrase|secret|token|api_?key|api-key|access_?key|private_?key|credentials?|_auth)"
    };
}

/// Every bundled rule, most specific first.
pub(crate) const BUILTIN: &[Spec] = &[
    Spec {
        id: "aws-access-key-id",
        title: "AWS access key ID",
        severity: Severity::Critical,
        keywords: &["AKIA", "ASIA", "ABIA", "ACCA"],
        regex: r"(?-u)(?:^|[^A-Za-z0-9/+])(?P<secret>(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})(?:[^A-Za-z0-9/+=]|$)",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "aws-secret-access-key",
        title: "AWS secret access key",
        severity: Severity::Critical,
        keywords: &["secret"],
        ignore_case: true,
        regex: r#"(?-u)(?i:aws[_-]?secret[_-]?key|secret[_-]?access[_-]?key)["'\]]{0,2}\s*(?::=|=>|=|:|,)?\s*["']?(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)"#,
        entropy: Some(4.0),
        ..Spec::BASE
    },
    Spec {
        id: "gcp-service-account",
        title: "GCP service account key",
        severity: Severity::Critical,
        keywords: &["\"service_account\""],
        regex: concat!(
            r#"(?-u)"private_key"\s*:\s*"-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY-----(?:\s|\\[rn])*"#,
            pem_body!()
        ),
        window: Window::Around {
            before: 8192,
            after: 8192,
        },
        ..Spec::BASE
    },
    Spec {
        id: "gcp-api-key",
        title: "Google API key",
        keywords: &["AIza"],
        regex: r"(?-u)(?P<secret>AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "azure-storage-account-key",
        title: "Azure storage account key",
        severity: Severity::Critical,
        keywords: &["ntKey="],
        regex: r"(?-u)AccountKey=(?P<secret>[A-Za-z0-9+/]{86}==)",
        ..Spec::BASE
    },
    Spec {
        id: "azure-shared-access-key",
        title: "Azure shared access key (Service Bus, Event Hubs, IoT Hub connection string)",
        keywords: &["dAccessKey="],
        regex: r"(?-u)SharedAccessKey=(?P<secret>[A-Za-z0-9+/]{43}=)",
        ..Spec::BASE
    },
    Spec {
        id: "github-pat",
        title: "GitHub personal access token",
        severity: Severity::Critical,
        keywords: &["ghp_"],
        regex: r"(?-u)(?P<secret>ghp_[0-9A-Za-z]{36})(?:[^0-9A-Za-z_]|$)",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "github-fine-grained-pat",
        title: "GitHub fine-grained personal access token",
        severity: Severity::Critical,
        keywords: &["hub_pat_"],
        regex: r"(?-u)(?P<secret>github_pat_[0-9A-Za-z_]{82})(?:[^0-9A-Za-z_]|$)",
        public_prefix: 11,
        ..Spec::BASE
    },
    Spec {
        id: "github-oauth-token",
        title: "GitHub OAuth access token",
        keywords: &["gho_"],
        regex: r"(?-u)(?P<secret>gho_[0-9A-Za-z]{36})(?:[^0-9A-Za-z_]|$)",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "github-app-token",
        title: "GitHub App token",
        keywords: &["ghu_", "ghs_"],
        regex: r"(?-u)(?P<secret>gh[us]_[0-9A-Za-z]{36})(?:[^0-9A-Za-z_]|$)",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "github-refresh-token",
        title: "GitHub refresh token",
        keywords: &["ghr_"],
        regex: r"(?-u)(?P<secret>ghr_[0-9A-Za-z]{36,76})(?:[^0-9A-Za-z_]|$)",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "gitlab-pat",
        title: "GitLab personal access token",
        severity: Severity::Critical,
        keywords: &["glpat-"],
        regex: r"(?-u)(?P<secret>glpat-[0-9A-Za-z_-]{20,255})",
        entropy: Some(3.0),
        public_prefix: 6,
        ..Spec::BASE
    },
    Spec {
        id: "gitlab-deploy-token",
        title: "GitLab deploy token",
        keywords: &["gldt-"],
        regex: r"(?-u)(?P<secret>gldt-[0-9A-Za-z_-]{20,255})",
        entropy: Some(3.0),
        public_prefix: 5,
        ..Spec::BASE
    },
    Spec {
        id: "gitlab-runner-token",
        title: "GitLab runner authentication token",
        keywords: &["glrt-"],
        regex: r"(?-u)(?P<secret>glrt-[0-9A-Za-z_-]{20,255})",
        entropy: Some(3.0),
        public_prefix: 5,
        ..Spec::BASE
    },
    Spec {
        id: "slack-token",
        title: "Slack token",
        keywords: &["xoxa-", "xoxb-", "xoxp-", "xoxr-", "xoxs-"],
        regex: r"(?-u)(?P<secret>xox[abprs]-[0-9]{6,15}-[0-9A-Za-z-]{8,255})",
        public_prefix: 5,
        ..Spec::BASE
    },
    Spec {
        id: "slack-webhook",
        title: "Slack incoming webhook URL",
        keywords: &["ks.slack.com"],
        regex: r"(?-u)hooks\.slack\.com/services/(?P<secret>T[A-Za-z0-9_]{8,12}/B[A-Za-z0-9_]{8,12}/[A-Za-z0-9_]{24})",
        ..Spec::BASE
    },
    Spec {
        id: "stripe-secret-key",
        title: "Stripe live secret key",
        severity: Severity::Critical,
        keywords: &["sk_live_"],
        regex: r"(?-u)(?P<secret>sk_live_[0-9A-Za-z]{24,247})",
        public_prefix: 8,
        ..Spec::BASE
    },
    Spec {
        id: "stripe-restricted-key",
        title: "Stripe live restricted key",
        keywords: &["rk_live_"],
        regex: r"(?-u)(?P<secret>rk_live_[0-9A-Za-z]{24,247})",
        public_prefix: 8,
        ..Spec::BASE
    },
    Spec {
        id: "npm-access-token",
        title: "npm access token",
        severity: Severity::Critical,
        keywords: &["npm_"],
        regex: r"(?-u)(?P<secret>npm_[A-Za-z0-9]{36})(?:[^A-Za-z0-9]|$)",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "pypi-token",
        title: "PyPI API token",
        severity: Severity::Critical,
        keywords: &["pypi-AgEIcHlwaS5vcmc"],
        regex: r"(?-u)(?P<secret>pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,})",
        public_prefix: 5,
        ..Spec::BASE
    },
    Spec {
        id: "openai-api-key",
        title: "OpenAI API key",
        keywords: &["T3BlbkFJ"],
        regex: r"(?-u)(?P<secret>sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{16,}T3BlbkFJ[A-Za-z0-9_-]{16,})",
        public_prefix: 3,
        ..Spec::BASE
    },
    Spec {
        id: "anthropic-api-key",
        title: "Anthropic API key",
        keywords: &["sk-ant-"],
        regex: r"(?-u)(?P<secret>sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,120})",
        public_prefix: 7,
        ..Spec::BASE
    },
    Spec {
        id: "vault-token",
        title: "HashiCorp Vault service token",
        keywords: &["hvs."],
        regex: r"(?-u)(?P<secret>hvs\.[A-Za-z0-9_-]{90,120})",
        public_prefix: 4,
        ..Spec::BASE
    },
    Spec {
        id: "private-key",
        title: "Private key",
        severity: Severity::Critical,
        keywords: &["KEY-----", "Y BLOCK-----"],
        regex: private_key!(),
        window: Window::Around {
            before: 128,
            after: 16384,
        },
        check: Check::PrivateKey { encrypted: false },
        ..Spec::BASE
    },
    Spec {
        id: "private-key-encrypted",
        title: "Encrypted private key",
        severity: Severity::Medium,
        keywords: &["KEY-----", "Y BLOCK-----"],
        regex: private_key!(),
        window: Window::Around {
            before: 128,
            after: 16384,
        },
        check: Check::PrivateKey { encrypted: true },
        ..Spec::BASE
    },
    Spec {
        id: "jwt",
        title: "JSON Web Token",
        severity: Severity::Medium,
        keywords: &["eyJh", "eyJ0", "eyJr"],
        regex: r"(?-u)(?P<secret>eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})",
        check: Check::Jwt,
        public_prefix: 3,
        ..Spec::BASE
    },
    Spec {
        id: "docker-config-auth",
        title: "Docker registry credentials",
        keywords: &["\"auth\""],
        regex: r#"(?-u)"auth"\s*:\s*"(?P<secret>[A-Za-z0-9+/=]{8,})""#,
        path: Some(r"(?:^|/)(?:config\.json|\.dockercfg)$"),
        check: Check::DockerAuth,
        ..Spec::BASE
    },
    Spec {
        id: "npmrc-auth",
        title: "npm registry credentials in .npmrc",
        keywords: &["_auth", "assw"],
        regex: r#"(?-u)(?:_authToken|_auth|_password)\s*=\s*["']?(?P<secret>[^\s"']{8,})"#,
        path: Some(r"(?:^|/)\.npmrc$"),
        ..Spec::BASE
    },
    Spec {
        id: "pypirc-password",
        title: "PyPI password in .pypirc",
        keywords: &["assw"],
        ignore_case: true,
        regex: r"(?-u)(?im)^[ \t]*password[ \t]*[:=][ \t]*(?P<secret>\S+)",
        path: Some(r"(?:^|/)\.pypirc$"),
        ..Spec::BASE
    },
    Spec {
        id: "netrc-password",
        title: "Password in .netrc",
        keywords: &["assw"],
        ignore_case: true,
        regex: r"(?-u)(?:^|\s)password\s+(?P<secret>\S+)",
        path: Some(r"(?:^|/)[._]netrc$"),
        ..Spec::BASE
    },
    Spec {
        id: "git-credentials",
        title: "Password in .git-credentials",
        keywords: &["s://", "p://"],
        regex: r"(?-u)[A-Za-z][A-Za-z0-9+.-]*://(?P<user>[^:@\s/]+):(?P<secret>[^@\s/]+)@",
        path: Some(r"(?:^|/)\.git-credentials$"),
        guard: Guard::UserInfo,
        ..Spec::BASE
    },
    Spec {
        id: "env-secret",
        title: "Secret in an environment variable",
        keywords: &[
            "assw", "ssphrase", "secret", "token", "pi_key", "pikey", "te_key", "_auth",
        ],
        ignore_case: true,
        regex: concat!(
            r#"(?-u)(?i)(?:^|[^/A-Z0-9_.-])(?P<key>[A-Z0-9_.-]*"#,
            secret_names!(),
            r#"[A-Z0-9_.-]*)[ \t]*=[ \t]*["']?(?P<secret>[^\s"'#]{6,})"#
        ),
        entropy: Some(2.0),
        path: Some(r"(?:^|/)\.env(?:\.[A-Za-z0-9_-]+)*$"),
        image_config: true,
        check: Check::Assignment { code: false },
        priority: Priority::Generic,
        ..Spec::BASE
    },
    Spec {
        id: "url-credentials",
        title: "Password in a URL",
        severity: Severity::Medium,
        keywords: &["s://", "p://", "l://", "b://", "v://"],
        regex: r"(?-u)\b[A-Za-z][A-Za-z0-9+.-]{1,20}://(?P<user>[A-Za-z0-9._~%!$&*+;=-]{1,64}):(?P<secret>[A-Za-z0-9._~%!$&*+;=-]{3,128})@(?P<host>[A-Za-z0-9.-]{1,253})",
        entropy: Some(2.8),
        guard: Guard::UserInfo,
        check: Check::UrlCredentials,
        priority: Priority::Generic,
        ..Spec::BASE
    },
    Spec {
        id: "generic-password",
        title: "Hard-coded password or secret",
        severity: Severity::Medium,
        keywords: &["assw", "ssphrase", "secret", "token", "pi_key", "pikey"],
        ignore_case: true,
        regex: concat!(
            r#"(?-u)(?i)(?:^|[^/A-Z0-9_.-])(?P<key>[A-Z0-9_.-]*"#,
            secret_names!(),
            r#"[A-Z0-9_.-]*)["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<secret>[^\s"'`,;&]{8,128})"#
        ),
        entropy: Some(3.0),
        check: Check::Assignment { code: true },
        priority: Priority::Generic,
        ..Spec::BASE
    },
];
