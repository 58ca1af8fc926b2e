//! Validations that a regular expression cannot express, run on a rule's match after its regex
//! and entropy threshold: decoding a JWT header or a Docker `auth` value, telling encrypted private
//! keys from plain ones, and telling a credential assignment from code or metadata that merely
//! mentions one (`password_file = "/run/secrets/db"`, `token = next_token()`).

use regex::bytes::Captures;

use crate::entropy::shannon;

/// What a rule checks beyond its regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// The regex says it all.
    None,
    /// A JWT: the header decodes (base64url) to a JSON object with an `"alg"` member.
    Jwt,
    /// A Docker `auth` value: base64 of `user:password`, both non-empty.
    DockerAuth,
    /// A private key that is (or is not) encrypted: `BEGIN ENCRYPTED PRIVATE KEY`, a PEM
    /// `Proc-Type: 4,ENCRYPTED` header, or an OpenSSH key whose cipher is not `none`.
    PrivateKey { encrypted: bool },
    /// URL user info: a password that differs from the user name (`guest:guest` and
    /// `root:root` are well-known defaults), does not name itself (`user:pass@`), on a host
    /// that is not reserved for documentation (`example.com`, `*.example`, `*.test`) or the
    /// loopback (`localhost`, `127.0.0.1`).
    UrlCredentials,
    /// An assignment to a secret-looking name: see [`assignment`]. `code` is true where the line
    /// may be program code (the generic rule), false in `.env` files and image ENV.
    Assignment { code: bool },
}

impl Check {
    /// Whether the match `caps` (of a regex with a `secret` group, here `secret`) passes.
    pub(crate) fn passes(self, caps: &Captures<'_>, secret: &[u8], quoted: bool) -> bool {
        match self {
            Check::None => true,
            Check::Jwt => jwt(secret),
            Check::DockerAuth => docker_auth(secret),
            Check::PrivateKey { encrypted } => {
                let kind = caps.name("kind").map_or(&b""[..], |m| m.as_bytes());
                let headers = caps.name("headers").map_or(&b""[..], |m| m.as_bytes());
                private_key_encrypted(kind, headers, secret) == encrypted
            }
            Check::UrlCredentials => {
                let user = caps.name("user").map_or(&b""[..], |m| m.as_bytes());
                let host = caps.name("host").map_or(&b""[..], |m| m.as_bytes());
                url_credentials(user, secret, host)
            }
            Check::Assignment { code } => {
                let key = caps.name("key").map_or(&b""[..], |m| m.as_bytes());
                assignment(key, secret, quoted, code)
            }
        }
    }
}

/// Decodes base64 in the standard or the URL-safe alphabet, padded or not; stops at the first
/// `=`. `None` on any other character.
pub(crate) fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits = 0u32;
    for &c in text {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn contains_ignore_case(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
}

/// A JWT's header (up to the first `.`) is base64url of a JSON object naming its algorithm.
fn jwt(token: &[u8]) -> bool {
    let header = token.split(|&b| b == b'.').next().unwrap_or_default();
    let Some(json) = base64_decode(header) else {
        return false;
    };
    json.trim_ascii_start().starts_with(b"{") && contains(&json, b"\"alg\"")
}

/// Docker's `auth` is base64 of `user:password`.
fn docker_auth(value: &[u8]) -> bool {
    let Some(plain) = base64_decode(value) else {
        return false;
    };
    match plain.iter().position(|&b| b == b':') {
        Some(colon) => colon > 0 && colon + 1 < plain.len(),
        None => false,
    }
}

/// Whether a private key is encrypted. `kind` is what stands between `BEGIN ` and
/// `PRIVATE KEY`, `headers` the PEM headers, `body` the base64 body (possibly with line breaks,
/// literal or escaped as `\n`).
fn private_key_encrypted(kind: &[u8], headers: &[u8], body: &[u8]) -> bool {
    if contains(kind, b"ENCRYPTED") || contains(headers, b"ENCRYPTED") {
        return true;
    }
    kind == b"OPENSSH " && openssh_cipher(body).is_some_and(|cipher| cipher != b"none")
}

/// The cipher name of an OpenSSH private key (`openssh-key-v1\0`, then a length-prefixed cipher
/// name), from the first characters of its base64 body.
fn openssh_cipher(body: &[u8]) -> Option<Vec<u8>> {
    const MAGIC: &[u8] = b"openssh-key-v1\0";
    let mut clean = Vec::with_capacity(64);
    let mut rest = body;
    while clean.len() < 64 {
        match rest {
            [b'\\', b'n' | b'r', tail @ ..] => rest = tail,
            [c, tail @ ..] => {
                if !c.is_ascii_whitespace() {
                    clean.push(*c);
                }
                rest = tail;
            }
            [] => break,
        }
    }
    clean.truncate(clean.len() / 4 * 4);
    let raw = base64_decode(&clean)?;
    let after = raw.strip_prefix(MAGIC)?;
    let len = usize::try_from(u32::from_be_bytes(after.get(..4)?.try_into().ok()?)).ok()?;
    after.get(4..4 + len).map(<[u8]>::to_vec)
}

/// Words that a password naming itself contains: `user:password@`, `user:pass@`.
const SELF_NAMING: &[&[u8]] = &[b"pass", b"pwd", b"secret", b"token"];

/// Domains reserved for documentation and testing (RFC 2606, RFC 6761), and the loopback host:
/// credentials for a service on `localhost` are development defaults far more often than not.
const RESERVED_DOMAINS: &[&[u8]] = &[
    b"localhost",
    b"127.0.0.1",
    b"example.com",
    b"example.org",
    b"example.net",
    b"example",
    b"test",
    b"invalid",
];

fn url_credentials(user: &[u8], password: &[u8], host: &[u8]) -> bool {
    let host = host.to_ascii_lowercase();
    let host = host.strip_suffix(b".").unwrap_or(&host);
    let reserved = RESERVED_DOMAINS.iter().any(|domain| {
        host == *domain
            || (host.ends_with(domain) && host[..host.len() - domain.len()].ends_with(b"."))
    });
    !reserved
        && !user.eq_ignore_ascii_case(password)
        && !SELF_NAMING
            .iter()
            .any(|word| contains_ignore_case(password, word))
}

/// Suffixes of names that hold something about a secret, not the secret: where it is
/// (`_FILE`, `_PATH`, `_URL`), who uses it (`_USER`), what kind it is (`_TYPE`), its limits.
const METADATA_SUFFIXES: &[&[u8]] = &[
    b"_file",
    b"_path",
    b"_dir",
    b"_url",
    b"_uri",
    b"_host",
    b"_port",
    b"_user",
    b"_username",
    b"_name",
    b"_length",
    b"_len",
    b"_size",
    b"_type",
    b"_mode",
    b"_method",
    b"_enabled",
    b"_provider",
    b"_endpoint",
    b"_header",
    b"_field",
    b"_policy",
    b"_format",
    b"_version",
    b"_expiry",
    b"_expires",
    b"_ttl",
    b"_timeout",
    b"_regex",
    b"_pattern",
    b"_prefix",
    b"_suffix",
    b"_count",
    b"_min",
    b"_max",
    b"_id",
    b"_env",
    b"_var",
    b"_algorithm",
    b"_hash",
    b"_command",
    b"_cmd",
    b"_encryption",
    b"_encoding",
    b"_scheme",
    b"_store",
    b"_backend",
    b"_strategy",
    b"_level",
    b"_option",
    b"_hint",
    b"_label",
    b"_prompt",
    b"_class",
];

/// Words that a value naming itself contains: `password=password123`, `token: my-token`. Such
/// values are overwhelmingly examples in documentation and tests; a real password that contains
/// the word "password" is missed, a trade the documentation states.
const VALUE_NAMING: &[&[u8]] = &[b"password", b"passwd", b"secret", b"token"];

/// An assignment `key = value` to a secret-looking `key` holds a secret when: the key is not
/// metadata (see [`METADATA_SUFFIXES`]); the value is not a path (`/…`, `./…`, `~/…`) or a URL
/// (URL credentials have their own rule) and does not name itself (see [`VALUE_NAMING`]). Where
/// the line may be code, an unquoted value must not look like an expression (`get_pw()`,
/// `self.password`, `args[1]`), any value must mix at least two of lower case, upper case,
/// digits and punctuation, and a value for a key that is not a password (`token`, `secret`,
/// `api_key`: machine-made) must be at least [`MACHINE_SECRET_LEN`] long with at least
/// [`MACHINE_SECRET_ENTROPY`] bits per character and a digit — made-up examples in docstrings
/// (`'access_token': 'sdlfkj452'`) are shorter or plainer than the real thing, and names
/// (`token: "string.quoted.double"`, a syntax highlighter's) have no digits, where a random
/// 20-character token lacks one 3% of the time.
fn assignment(key: &[u8], value: &[u8], quoted: bool, code: bool) -> bool {
    let key = key.to_ascii_lowercase();
    let key = key.trim_ascii_end();
    let key = key.strip_suffix(b"s").unwrap_or(key);
    if METADATA_SUFFIXES.iter().any(|suffix| key.ends_with(suffix)) {
        return false;
    }
    if value.starts_with(b"/")
        || value.starts_with(b"./")
        || value.starts_with(b"~/")
        || contains(value, b"://")
        || VALUE_NAMING
            .iter()
            .any(|word| contains_ignore_case(value, word))
    {
        return false;
    }
    if !code {
        return true;
    }
    // `key: :symbol` and `Kind::Variant` after a `:` read as an assignment.
    if value.starts_with(b":") || (!quoted && looks_like_code(value)) {
        return false;
    }
    let password = [&b"pass"[..], b"pwd"].iter().any(|w| contains(key, w));
    character_classes(value) >= 2
        && (password
            || (value.len() >= MACHINE_SECRET_LEN
                && shannon(value) >= MACHINE_SECRET_ENTROPY
                && value.iter().any(u8::is_ascii_digit)))
}

/// Least length of a generic token or key (not a password) in code.
const MACHINE_SECRET_LEN: usize = 20;
/// Least entropy, in bits per character, of a generic token or key (not a password) in code.
const MACHINE_SECRET_ENTROPY: f64 = 3.5;

/// An identifier, a dotted path of identifiers, a path with `::` (Rust, C++, Perl, Ruby), or
/// anything with brackets: code, not a value.
fn looks_like_code(value: &[u8]) -> bool {
    if value.iter().any(|b| b"()[]{}".contains(b)) || contains(value, b"::") {
        return true;
    }
    value.split(|&b| b == b'.').all(|part| {
        part.first()
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_')
            && part.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// How many of lower case, upper case, digits and other characters `value` uses.
fn character_classes(value: &[u8]) -> usize {
    let lower = value.iter().any(u8::is_ascii_lowercase);
    let upper = value.iter().any(u8::is_ascii_uppercase);
    let digit = value.iter().any(u8::is_ascii_digit);
    let other = value.iter().any(|b| !b.is_ascii_alphanumeric());
    [lower, upper, digit, other]
        .into_iter()
        .filter(|&c| c)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_both_alphabets() {
        assert_eq!(
            base64_decode(b"dXNlcjpwYXNz").as_deref(),
            Some(&b"user:pass"[..])
        );
        assert_eq!(base64_decode(b"dXNlcg==").as_deref(), Some(&b"user"[..]));
        assert_eq!(
            base64_decode(b"-_-_").as_deref(),
            Some(&[0xfb, 0xff, 0xbf][..])
        );
        assert_eq!(base64_decode(b"ab$c"), None);
    }

    #[test]
    fn docker_auth_needs_user_and_password() {
        assert!(docker_auth(b"dXNlcjpwYXNz")); // user:pass
        assert!(!docker_auth(b"dXNlcjo=")); // user:
        assert!(!docker_auth(b"OnBhc3M=")); // :pass
        assert!(!docker_auth(b"dXNlcg==")); // user
    }

    #[test]
    fn jwt_header_must_name_alg() {
        // {"alg":"HS256"} and {"typ":"JWT"}
        assert!(jwt(b"eyJhbGciOiJIUzI1NiJ9.e30.c2ln"));
        assert!(!jwt(b"eyJ0eXAiOiJKV1QifQ.e30.c2ln"));
        assert!(!jwt(b"eyJ!!!.e30.c2ln"));
    }

    #[test]
    fn openssh_cipher_name() {
        // openssh-key-v1\0, then a 4-byte length 4 and "none", then "abc" padding.
        let mut raw = b"openssh-key-v1\0\0\0\0\x04noneabc".to_vec();
        raw.extend_from_slice(&[0; 9]);
        let body = encode(&raw);
        assert_eq!(
            openssh_cipher(body.as_bytes()).as_deref(),
            Some(&b"none"[..])
        );
        assert!(!private_key_encrypted(b"OPENSSH ", b"", body.as_bytes()));
        let mut raw = b"openssh-key-v1\0\0\0\0\x0aaes256-ctr".to_vec();
        raw.extend_from_slice(&[0; 9]);
        let body = encode(&raw);
        assert!(private_key_encrypted(b"OPENSSH ", b"", body.as_bytes()));
        assert!(private_key_encrypted(b"ENCRYPTED ", b"", b""));
        assert!(private_key_encrypted(
            b"RSA ",
            b"Proc-Type: 4,ENCRYPTED\n",
            b""
        ));
        assert!(!private_key_encrypted(b"RSA ", b"", b"MIIE"));
    }

    fn encode(raw: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        raw.chunks(3)
            .flat_map(|c| {
                let n =
                    c.iter().fold(0u32, |acc, &b| (acc << 8) | u32::from(b)) << (8 * (3 - c.len()));
                (0..=c.len())
                    .map(move |i| char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]))
            })
            .collect()
    }

    #[test]
    fn assignments() {
        assert!(assignment(b"DB_PASSWORD", b"hunter2", false, false));
        assert!(!assignment(
            b"DB_PASSWORD_FILE",
            b"/run/secrets/db",
            false,
            false
        ));
        assert!(!assignment(b"password", b"password123", true, true));
        assert!(!assignment(b"password", b"get_password()", false, true));
        assert!(!assignment(b"password", b"options.pw", false, true));
        assert!(assignment(b"password", b"S3cure-Pw!", false, true));
        assert!(!assignment(b"access_token", b"askfjh234as9sd8", true, true));
        assert!(assignment(
            b"access_token",
            b"q8Fz2LmN0pXr7TbV4cYw",
            true,
            true
        ));
        assert!(!assignment(b"password", b"lowercaseonly", true, true));
        assert!(!assignment(
            b"TOKEN_URL",
            b"https://auth.internal/x",
            false,
            false
        ));
    }

    #[test]
    fn url_credentials_reject_defaults() {
        assert!(url_credentials(b"app", b"Zq8-r1x!", b"db.internal"));
        assert!(!url_credentials(b"guest", b"guest", b"rabbit"));
        assert!(!url_credentials(b"user", b"password", b"db"));
        assert!(!url_credentials(b"user", b"pass", b"db"));
        assert!(!url_credentials(b"app", b"Zq8-r1x!", b"example.com"));
        assert!(!url_credentials(b"app", b"Zq8-r1x!", b"db.EXAMPLE.org"));
        assert!(!url_credentials(b"app", b"Zq8-r1x!", b"db.test"));
        assert!(!url_credentials(b"app", b"Zq8-r1x!", b"localhost"));
        assert!(url_credentials(b"app", b"Zq8-r1x!", b"notexample.com"));
    }
}
