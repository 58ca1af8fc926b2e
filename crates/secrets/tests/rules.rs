//! Every bundled rule against a made-up secret it must find (rule id, line, and a redaction
//! that leaks nothing) and against the near misses it must not report: placeholders, examples,
//! wrong lengths, test keys, public keys and certificates, variable references, values that name
//! themselves. Secrets are built at run time from random characters (see `common`).

mod common;

use common::*;
use stowaway_findings::Severity;
use stowaway_secrets::{SecretMatch, SecretScanner, redact};

/// A file that must yield exactly one match.
struct Positive {
    rule: &'static str,
    path: &'static str,
    content: String,
    /// A part of the secret that must not leak (the whole secret, or for PEM blocks a body line).
    secret: String,
    /// The rule's fixed public prefix that redaction may show ("" for none).
    prefix: &'static str,
    line: u64,
}

fn positive(
    rule: &'static str,
    path: &'static str,
    content: String,
    secret: String,
    prefix: &'static str,
    line: u64,
) -> Positive {
    Positive {
        rule,
        path,
        content,
        secret,
        prefix,
        line,
    }
}

fn pem(header: &str, extra: &str, body: &[String]) -> String {
    format!(
        "-----BEGIN {header}-----\n{extra}{}\n-----END {header}-----\n",
        body.join("\n")
    )
}

/// An OpenSSH private key body whose cipher is `cipher`.
fn openssh_body(cipher: &str) -> Vec<String> {
    let mut raw = b"openssh-key-v1\0".to_vec();
    raw.extend_from_slice(&(cipher.len() as u32).to_be_bytes());
    raw.extend_from_slice(cipher.as_bytes());
    raw.extend_from_slice(random(300, ALNUM).as_bytes());
    let text = base64(&raw);
    text.as_bytes()
        .chunks(70)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect()
}

fn jwt(header: &str) -> String {
    format!(
        "{}.{}.{}",
        base64url(header.as_bytes()),
        base64url(format!(r#"{{"sub":"{}","iat":1700000000}}"#, random(12, ALNUM)).as_bytes()),
        random(43, URLSAFE)
    )
}

fn positives() -> Vec<Positive> {
    let mut cases = Vec::new();
    let s = format!("{}{}", "AKIA", random(16, BASE32));
    cases.push(positive(
        "aws-access-key-id",
        "root/.aws/credentials",
        format!("[default]\nregion = eu-west-1\naws_access_key_id = {s}\n"),
        s,
        "AKIA",
        3,
    ));
    let s = format!("{}{}", "ASIA", random(16, BASE32));
    cases.push(positive(
        "aws-access-key-id",
        "srv/app/config.js",
        format!("const id = '{s}';\n"),
        s,
        "ASIA",
        1,
    ));
    let s = random(40, BASE64);
    cases.push(positive(
        "aws-secret-access-key",
        "root/.aws/credentials",
        format!("[default]\n\naws_secret_access_key={s}\n"),
        s,
        "",
        3,
    ));
    let s = random(40, ALNUM);
    cases.push(positive(
        "aws-secret-access-key",
        "srv/app/creds.json",
        format!("{{\n  \"Credentials\": {{\n    \"SecretAccessKey\": \"{s}\"\n  }}\n}}\n"),
        s,
        "",
        3,
    ));
    let body = pem_body(12);
    cases.push(positive(
        "gcp-service-account",
        "srv/app/sa.json",
        format!(
            "{{\n  \"type\": \"service_account\",\n  \"project_id\": \"acme-prod\",\n  \
             \"private_key_id\": \"{}\",\n  \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\\n-----END PRIVATE KEY-----\\n\",\n  \
             \"client_email\": \"ci@acme-prod.iam.gserviceaccount.com\"\n}}\n",
            random(40, "0123456789abcdef"),
            body.join("\\n")
        ),
        body[3].clone(),
        "",
        5,
    ));
    let s = format!("{}{}", "AIza", random(35, URLSAFE));
    cases.push(positive(
        "gcp-api-key",
        "srv/app/static/app.js",
        format!("const key = \"{s}\";\n"),
        s,
        "AIza",
        1,
    ));
    let s = format!("{}==", random(86, BASE64));
    cases.push(positive(
        "azure-storage-account-key",
        "srv/app/appsettings.json",
        format!(
            "# storage\nDefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net\n"
        ),
        s,
        "",
        2,
    ));
    let s = format!("{}=", random(43, BASE64));
    cases.push(positive(
        "azure-shared-access-key",
        "srv/app/appsettings.json",
        format!(
            "Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={s}\n"
        ),
        s,
        "",
        1,
    ));
    for (rule, prefix) in [
        ("github-pat", "ghp_"),
        ("github-oauth-token", "gho_"),
        ("github-app-token", "ghs_"),
        ("github-app-token", "ghu_"),
        ("github-refresh-token", "ghr_"),
    ] {
        let s = format!("{prefix}{}", random(36, ALNUM));
        cases.push(positive(
            rule,
            "srv/app/deploy.sh",
            format!("#!/bin/sh\nexport GITHUB_TOKEN={s}\n"),
            s,
            prefix,
            2,
        ));
    }
    let s = format!(
        "{}{}_{}",
        "github_pat_",
        random(22, ALNUM),
        random(59, ALNUM)
    );
    cases.push(positive(
        "github-fine-grained-pat",
        "srv/app/deploy.sh",
        format!("git clone https://{s}@github.com/acme/app\n"),
        s,
        "github_pat_",
        1,
    ));
    for (rule, prefix) in [
        ("gitlab-pat", "glpat-"),
        ("gitlab-deploy-token", "gldt-"),
        ("gitlab-runner-token", "glrt-"),
    ] {
        let s = format!("{prefix}{}", random(20, ALNUM));
        cases.push(positive(
            rule,
            "etc/gitlab-runner/config.toml",
            format!("[[runners]]\n  token = \"{s}\"\n"),
            s,
            prefix,
            2,
        ));
    }
    let s = format!(
        "{}{}-{}-{}",
        "xoxb-",
        random(11, DIGITS),
        random(12, DIGITS),
        random(24, ALNUM)
    );
    cases.push(positive(
        "slack-token",
        "srv/bot/config.yaml",
        format!("slack:\n  bot: {s}\n"),
        s,
        "xoxb-",
        2,
    ));
    let s = format!(
        "T{}/B{}/{}",
        random(8, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
        random(8, "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"),
        random(24, ALNUM)
    );
    cases.push(positive(
        "slack-webhook",
        "srv/bot/notify.py",
        format!("URL = \"https://hooks.slack.com/services/{s}\"\n"),
        s,
        "",
        1,
    ));
    let s = format!("{}{}", "sk_live_", random(24, ALNUM));
    cases.push(positive(
        "stripe-secret-key",
        "srv/shop/.stripe",
        format!("{s}\n"),
        s,
        "sk_live_",
        1,
    ));
    let s = format!("{}{}", "rk_live_", random(24, ALNUM));
    cases.push(positive(
        "stripe-restricted-key",
        "srv/shop/config.rb",
        format!("Stripe.api_key = '{s}'\n"),
        s,
        "rk_live_",
        1,
    ));
    let s = format!("{}{}", "npm_", random(36, ALNUM));
    cases.push(positive(
        "npm-access-token",
        "home/node/.npmrc",
        format!("registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={s}\n"),
        s,
        "npm_",
        2,
    ));
    let s = random(32, "0123456789abcdef");
    cases.push(positive(
        "npmrc-auth",
        "home/node/.npmrc",
        format!("//npm.internal/:_authToken={s}\n"),
        s,
        "",
        1,
    ));
    let s = format!("{}{}", "pypi-AgEIcHlwaS5vcmc", random(70, URLSAFE));
    cases.push(positive(
        "pypi-token",
        "srv/app/publish.sh",
        format!("twine upload -u __token__ -p {s} dist/*\n"),
        s,
        "pypi-",
        1,
    ));
    let s = random(16, ALNUM);
    cases.push(positive(
        "pypirc-password",
        "root/.pypirc",
        format!("[pypi]\nusername = deploy\npassword = {s}\n"),
        s,
        "",
        3,
    ));
    let s = format!(
        "{}{}{}{}",
        "sk-proj-",
        random(20, ALNUM),
        "T3BlbkFJ",
        random(20, ALNUM)
    );
    cases.push(positive(
        "openai-api-key",
        "srv/app/llm.py",
        format!("client = OpenAI(api_key=\"{s}\")\n"),
        s,
        "sk-",
        1,
    ));
    let s = format!("{}{}", "sk-ant-api03-", random(95, URLSAFE));
    cases.push(positive(
        "anthropic-api-key",
        "srv/app/llm.py",
        format!("\n\nclient = Anthropic(api_key=\"{s}\")\n"),
        s,
        "sk-ant-",
        3,
    ));
    let s = format!("{}{}", "hvs.", random(95, URLSAFE));
    cases.push(positive(
        "vault-token",
        "srv/app/vault.hcl",
        format!("vault {{\n  auth = \"{s}\"\n}}\n"),
        s,
        "hvs.",
        2,
    ));
    for header in [
        "RSA PRIVATE KEY",
        "PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
    ] {
        let body = pem_body(10);
        cases.push(positive(
            "private-key",
            "root/.ssh/id_rsa",
            pem(header, "", &body),
            body[5].clone(),
            "",
            2,
        ));
    }
    let body = openssh_body("none");
    cases.push(positive(
        "private-key",
        "home/app/.ssh/id_ed25519",
        format!("\n{}", pem("OPENSSH PRIVATE KEY", "", &body)),
        body[2].clone(),
        "",
        3,
    ));
    let body = pem_body(20);
    cases.push(positive(
        "private-key",
        "root/secret.asc",
        pem(
            "PGP PRIVATE KEY BLOCK",
            "Version: GnuPG v2\nComment: deploy key\n\n",
            &body,
        ),
        body[5].clone(),
        "",
        5,
    ));
    let body = pem_body(10);
    cases.push(positive(
        "private-key",
        "srv/app/.env",
        format!(
            "TLS_KEY=\"{}\"\n",
            pem("PRIVATE KEY", "", &body).replace('\n', "\\n")
        ),
        body[5].clone(),
        "",
        1,
    ));
    let body = pem_body(10);
    cases.push(positive(
        "private-key-encrypted",
        "etc/ssl/private/server.key",
        pem("ENCRYPTED PRIVATE KEY", "", &body),
        body[5].clone(),
        "",
        2,
    ));
    let body = pem_body(10);
    cases.push(positive(
        "private-key-encrypted",
        "etc/ssl/private/server.key",
        pem(
            "RSA PRIVATE KEY",
            "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0123456789ABCDEF0123456789ABCDEF\n\n",
            &body,
        ),
        body[5].clone(),
        "",
        5,
    ));
    let body = openssh_body("aes256-ctr");
    cases.push(positive(
        "private-key-encrypted",
        "root/.ssh/id_ed25519",
        pem("OPENSSH PRIVATE KEY", "", &body),
        body[2].clone(),
        "",
        2,
    ));
    for header in [
        r#"{"alg":"HS256","typ":"JWT"}"#,
        r#"{"typ":"JWT","alg":"RS256"}"#,
        r#"{"kid":"k1","alg":"ES256"}"#,
    ] {
        let s = jwt(header);
        cases.push(positive(
            "jwt",
            "srv/app/notes.txt",
            format!("call it with\nAuthorization: Bearer {s}\n"),
            s,
            "eyJ",
            2,
        ));
    }
    let s = base64(format!("deploy:{}", random(20, ALNUM)).as_bytes());
    cases.push(positive(
        "docker-config-auth",
        "root/.docker/config.json",
        format!(
            "{{\n  \"auths\": {{\n    \"registry.internal:5000\": {{\n      \"auth\": \"{s}\"\n    }}\n  }}\n}}\n"
        ),
        s,
        "",
        4,
    ));
    let s = random(20, ALNUM);
    cases.push(positive(
        "netrc-password",
        "root/.netrc",
        format!("machine git.internal\n  login deploy\n  password {s}\n"),
        s,
        "",
        3,
    ));
    let s = random(24, ALNUM);
    cases.push(positive(
        "git-credentials",
        "root/.git-credentials",
        format!("https://deploy:{s}@git.internal\n"),
        s,
        "",
        1,
    ));
    let s = random(12, ALNUM);
    cases.push(positive(
        "env-secret",
        "srv/app/.env",
        format!("APP_ENV=production\nDATABASE_HOST=db\nDB_PASSWORD={s}\n"),
        s,
        "",
        3,
    ));
    let s = random(16, ALNUM);
    cases.push(positive(
        "url-credentials",
        "srv/app/settings.py",
        format!("DATABASE_URL = \"postgres://app:{s}@db.internal:5432/app\"\n"),
        s,
        "",
        1,
    ));
    let s = random(14, ALNUM);
    cases.push(positive(
        "generic-password",
        "srv/app/settings.py",
        format!("import os\n\nSMTP_PASSWORD = \"{s}\"\n"),
        s,
        "",
        3,
    ));
    let s = random(14, ALNUM);
    cases.push(positive(
        "generic-password",
        "srv/app/config.yaml",
        format!("db:\n  user: app\n  DbPassWord: '{s}'\n"),
        s,
        "",
        3,
    ));
    let s = random(32, ALNUM);
    cases.push(positive(
        "generic-password",
        "srv/app/config.json",
        format!("{{\n  \"client_secret\": \"{s}\"\n}}\n"),
        s,
        "",
        2,
    ));
    cases
}

fn check_redaction(case: &Positive, m: &SecretMatch) {
    let kept = m.redacted.trim_end_matches('*');
    let stars = m.redacted.len() - kept.len();
    assert!((4..=16).contains(&stars), "{}: {}", case.rule, m.redacted);
    assert!(
        case.secret.starts_with(kept) || case.prefix.is_empty(),
        "{}: redaction {} does not start the secret",
        case.rule,
        m.redacted
    );
    if case.prefix.is_empty() {
        assert!(kept.chars().count() <= 4, "{}: {}", case.rule, m.redacted);
    } else {
        assert_eq!(kept, case.prefix, "{}", case.rule);
    }
    // Nothing of the secret past what was kept: no 4 consecutive characters of it.
    let rest: Vec<char> = case.secret.chars().skip(kept.chars().count()).collect();
    for window in rest.windows(4) {
        let piece: String = window.iter().collect();
        assert!(!m.redacted[kept.len()..].contains(&piece), "{}", case.rule);
        assert!(
            !m.title.contains(&piece),
            "{}: title {}",
            case.rule,
            m.title
        );
    }
}

#[test]
fn every_rule_finds_its_secret_on_the_right_line_and_redacts_it() {
    let scanner = SecretScanner::builtin();
    let cases = positives();
    for case in &cases {
        let found = scanner.scan_file(case.path, case.content.as_bytes());
        assert_eq!(
            found.len(),
            1,
            "{} in {}: {found:#?}\n{}",
            case.rule,
            case.path,
            case.content
        );
        let m = &found[0];
        assert_eq!(m.rule_id, case.rule, "{}: {m:?}", case.content);
        assert_eq!(m.line, case.line, "{}: {m:?}", case.rule);
        assert!(
            case.content[m.span.clone()].contains(&case.secret),
            "{}: span {:?}",
            case.rule,
            m.span
        );
        check_redaction(case, m);
    }
    // Every bundled rule has a positive case here.
    let ids: std::collections::HashSet<&str> = cases.iter().map(|c| c.rule).collect();
    assert_eq!(ids.len(), 34, "{ids:?}");
}

#[test]
fn severities() {
    let scanner = SecretScanner::builtin();
    let by_rule = |rule: &str| {
        let case = positives().into_iter().find(|c| c.rule == rule).unwrap();
        scanner.scan_file(case.path, case.content.as_bytes())[0].severity
    };
    assert_eq!(by_rule("private-key"), Severity::Critical);
    assert_eq!(by_rule("aws-access-key-id"), Severity::Critical);
    assert_eq!(by_rule("github-pat"), Severity::Critical);
    assert_eq!(by_rule("private-key-encrypted"), Severity::Medium);
    assert_eq!(by_rule("jwt"), Severity::Medium);
    assert_eq!(by_rule("generic-password"), Severity::Medium);
    assert_eq!(by_rule("slack-token"), Severity::High);
}

/// Content that must yield nothing, with why.
fn negatives() -> Vec<(&'static str, String, &'static str)> {
    let azurite = format!(
        "{}{}",
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UV",
        "ErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    );
    let ghp = || format!("{}{}", "ghp_", random(36, ALNUM));
    vec![
        (
            "root/.aws/credentials",
            format!("aws_access_key_id = {}{}\n", "AKIAIOSFODNN7", "EXAMPLE"),
            "AWS's documented example key id",
        ),
        (
            "srv/a.cfg",
            format!("id = {}{}\n", "AKIA", random(15, BASE32)),
            "key id one character short",
        ),
        (
            "srv/a.cfg",
            format!("id = {}{}\n", "AKIA", random(16, BASE32).to_lowercase()),
            "key id in lower case",
        ),
        (
            "root/.aws/credentials",
            format!(
                "aws_secret_access_key = {}{}\n",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCY", "EXAMPLEKEY"
            ),
            "AWS's documented example secret key",
        ),
        (
            "root/.aws/credentials",
            "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}\n".to_string(),
            "a variable",
        ),
        (
            "root/.aws/credentials",
            format!("aws_secret_access_key = {}\n", "ab".repeat(20)),
            "low entropy",
        ),
        (
            "srv/sa.json",
            "{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n...\\n-----END PRIVATE KEY-----\\n\"}\n".to_string(),
            "documentation's elided key",
        ),
        (
            "srv/a.js",
            format!("key = \"{}{}\"\n", "AIza", random(30, URLSAFE)),
            "API key too short",
        ),
        (
            "srv/a.cfg",
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=<your-account-key>\n".to_string(),
            "placeholder",
        ),
        (
            "srv/a.cfg",
            format!("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={azurite}\n"),
            "the storage emulator's published key",
        ),
        (
            "srv/a.cfg",
            format!("SharedAccessKey={}=\n", random(20, BASE64)),
            "shared access key too short",
        ),
        (
            "srv/a.sh",
            format!("TOKEN={}{}\n", "ghp_", random(35, ALNUM)),
            "token one character short",
        ),
        (
            "srv/a.sh",
            format!("TOKEN={}{}\n", "ghp_", "x".repeat(36)),
            "placeholder token",
        ),
        (
            "srv/a.sh",
            format!("TOKEN={}{}\n", "github_pat_", random(40, ALNUM)),
            "fine-grained token too short",
        ),
        (
            "srv/a.sh",
            format!("TOKEN={}{}\n", "glpat-", "x".repeat(20)),
            "placeholder GitLab token",
        ),
        ("srv/a.sh", "SLACK=xoxb-your-token-here\n".to_string(), "placeholder Slack token"),
        (
            "srv/a.py",
            format!(
                "URL = 'https://hooks.slack.com/services/T00000000/B00000000/{}'\n",
                "X".repeat(24)
            ),
            "Slack's documented webhook",
        ),
        (
            "srv/a.rb",
            format!("Stripe.api_key = '{}{}'\n", "sk_test_", random(24, ALNUM)),
            "Stripe test-mode key",
        ),
        (
            "srv/a.sh",
            format!("NPM={}{}\n", "npm_", random(20, ALNUM)),
            "npm token too short",
        ),
        (
            "home/node/.npmrc",
            "//registry.npmjs.org/:_authToken=${NPM_TOKEN}\n".to_string(),
            "npmrc with a variable",
        ),
        (
            "srv/a.sh",
            format!("twine -p {}{}\n", "pypi-AgEIcHlwaS5vcmc", random(10, URLSAFE)),
            "PyPI token too short",
        ),
        (
            "root/.pypirc",
            "[pypi]\nusername = __token__\npassword = <your PyPI token>\n".to_string(),
            "pypirc placeholder",
        ),
        ("root/.netrc", "machine h login me password changeme\n".to_string(), "netrc placeholder"),
        (
            "root/.git-credentials",
            "https://deploy:${GIT_TOKEN}@git.internal\n".to_string(),
            "git credentials with a variable",
        ),
        (
            "srv/app/.env",
            "DB_PASSWORD_FILE=/run/secrets/db\nAPI_TOKEN=${API_TOKEN}\nDB_PASSWORD=password123\nSECRET_KEY=changeme\nTOKEN_URL=https://auth.internal/token\nDEBUG_SECRET=true\n".to_string(),
            "env metadata, variables, self-naming values, placeholders",
        ),
        (
            "srv/app/.env.example",
            format!("DB_PASSWORD={}\nGITHUB_TOKEN={}\n", random(12, ALNUM), ghp()),
            "an example env file",
        ),
        (
            "srv/app/tests/fixtures.py",
            format!("TOKEN = '{}'\n", ghp()),
            "a test fixture",
        ),
        (
            "srv/a.py",
            "DB = 'postgres://user:password@localhost/db'\nMQ = 'amqp://guest:guest@rabbitmq:5672/'\nX = 'https://user:$PASS@host'\nY = 'https://abc:xyz@example.com'\n".to_string(),
            "URL credentials that name themselves, defaults, variables, examples",
        ),
        (
            "srv/a.py",
            format!("DB = 'postgres://app:{}@db.example.com/app'\n", random(16, ALNUM)),
            "URL on a documentation domain",
        ),
        (
            "srv/a.py",
            "password = get_password()\ndef f(password: str):\n    self.password = password\npassword = \"password123\"\ntoken = \"{{ token }}\"\npassword=changeme\naccess_token = 'sdlfkj452'\nsecret = os.environ['SECRET']\n# /etc/passwd: mysql:x:100:101:MySQL Server:/nonexistent:/bin/false\n".to_string(),
            "generic assignments that are code, self-naming, templates or short",
        ),
        (
            "srv/a.txt",
            format!("the password is {}\n", random(12, ALNUM)),
            "prose, no assignment",
        ),
        (
            "etc/ssl/certs/a.pem",
            pem("CERTIFICATE", "", &pem_body(10)),
            "a certificate",
        ),
        ("srv/pub.pem", pem("PUBLIC KEY", "", &pem_body(6)), "a public key"),
        (
            "srv/pub.pem",
            pem("RSA PUBLIC KEY", "", &pem_body(6)),
            "an RSA public key",
        ),
        (
            "srv/pub.asc",
            pem("PGP PUBLIC KEY BLOCK", "Version: GnuPG v2\n\n", &pem_body(20)),
            "a PGP public key block",
        ),
        (
            "srv/README",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA...\n-----END RSA PRIVATE KEY-----\n".to_string(),
            "an elided key in documentation",
        ),
        (
            "srv/a.txt",
            format!("Bearer {}\n", jwt(r#"{"typ":"JWT"}"#)),
            "a JWT-like string without alg",
        ),
        (
            "srv/a.txt",
            format!("eyJh{}.{}.{}\n", random(20, ALNUM), random(20, ALNUM), random(30, ALNUM)),
            "eyJ… that is not base64 of JSON",
        ),
        (
            "root/.docker/config.json",
            format!("{{\"auths\": {{\"r\": {{\"auth\": \"{}\"}}}}}}\n", base64(b"justauser")),
            "docker auth without a password",
        ),
        (
            "srv/data.json",
            format!(
                "{{\"auths\": {{\"r\": {{\"auth\": \"{}\"}}}}}}\n",
                base64(format!("deploy:{}", random(20, ALNUM)).as_bytes())
            ),
            "docker auth outside a docker config",
        ),
    ]
}

#[test]
fn near_misses_are_not_reported() {
    let scanner = SecretScanner::builtin();
    for (path, content, why) in negatives() {
        let found = scanner.scan_file(path, content.as_bytes());
        assert!(found.is_empty(), "{why}: {path}: {found:#?}\n{content}");
    }
}

#[test]
fn image_config_text() {
    let scanner = SecretScanner::builtin();
    let env = format!("DB_PASSWORD={}", random(12, ALNUM));
    let found = scanner.scan_text(&env);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule_id, "env-secret");
    assert_eq!(found[0].line, 1);

    let history = format!("/bin/sh -c #(nop)  ENV API_TOKEN={}", random(32, ALNUM));
    let found = scanner.scan_text(&history);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule_id, "env-secret");

    let cmd = format!(
        "/bin/sh -c git clone https://x-access-token:{}{}@github.com/acme/app",
        "ghs_",
        random(36, ALNUM)
    );
    let found = scanner.scan_text(&cmd);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].rule_id, "github-app-token");

    // Path-scoped rules do not apply to config text.
    let npmrc = format!("//npm.internal/:_auth={}", random(16, "abcdef0123456789"));
    assert!(
        scanner
            .scan_text(&npmrc)
            .iter()
            .all(|m| m.rule_id != "npmrc-auth")
    );
    for harmless in [
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
        "DB_PASSWORD_FILE=/run/secrets/db_password",
        "POSTGRES_PASSWORD=${POSTGRES_PASSWORD}",
        "/bin/sh -c #(nop)  ENV TOKEN_ENDPOINT=https://auth.internal/oauth/token",
    ] {
        assert!(scanner.scan_text(harmless).is_empty(), "{harmless}");
    }
}

#[test]
fn line_numbers_count_every_line_break() {
    let scanner = SecretScanner::builtin();
    let token = format!("{}{}", "ghp_", random(36, ALNUM));
    let crlf = format!("a\r\nb\r\nTOKEN={token}\r\n");
    assert_eq!(scanner.scan_file("srv/a", crlf.as_bytes())[0].line, 3);
    let late = format!("{}TOKEN={token}\n", "x\n".repeat(100_000));
    assert_eq!(scanner.scan_file("srv/a", late.as_bytes())[0].line, 100_001);
}

#[test]
fn keywords_across_chunk_boundaries_and_long_lines() {
    let scanner = SecretScanner::builtin();
    let token = format!("{}{}", "ghp_", random(36, ALNUM));
    // The keyword straddles the 64 KiB chunk the prefilter lower-cases at a time.
    for offset in [65_533, 65_534, 65_535, 65_536] {
        let mut content = "x".repeat(offset - 1);
        content.push(' ');
        content.push_str(&token);
        content.push('\n');
        let found = scanner.scan_file("srv/a", content.as_bytes());
        assert_eq!(found.len(), 1, "offset {offset}");
        assert_eq!(found[0].rule_id, "github-pat");
    }
    // Many secrets on one long line (minified code): each is found once.
    let tokens: Vec<String> = (0..50)
        .map(|_| format!("{}{}", "ghp_", random(36, ALNUM)))
        .collect();
    let line = tokens
        .iter()
        .map(|t| format!("{t};{}", "a".repeat(300)))
        .collect::<String>();
    let found = scanner.scan_file("srv/app.min.js", line.as_bytes());
    assert_eq!(found.len(), 50);
    assert!(
        found
            .iter()
            .all(|m| m.line == 1 && m.rule_id == "github-pat")
    );
}

#[test]
fn one_match_per_line_and_secret() {
    let scanner = SecretScanner::builtin();
    let token = format!("{}{}", "ghp_", random(36, ALNUM));
    let same_line = format!("A={token} B={token}\n");
    assert_eq!(scanner.scan_file("srv/a", same_line.as_bytes()).len(), 1);
    let two_lines = format!("A={token}\nB={token}\n");
    let found = scanner.scan_file("srv/a", two_lines.as_bytes());
    assert_eq!(found.iter().map(|m| m.line).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn redact_keeps_little() {
    let secret = random(40, ALNUM);
    let redacted = redact(&secret);
    assert_eq!(&redacted[..4], &secret[..4]);
    assert_eq!(&redacted[4..], "****************");
    assert_eq!(redact("hunter22"), "hu******");
}
