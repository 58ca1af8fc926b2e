//! `WWW-Authenticate` headers (RFC 7235): the challenges a registry answers 401 with, such as
//! `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="…"` or
//! `Basic realm="Registry"`.
//!
//! The header is untrusted input: the parser is total (any bytes give some list of challenges,
//! never a panic), linear in the header's length, and reads quoted values with their `\`
//! escapes, so a comma inside quotes stays in the value. Unquoted values run to the next comma
//! or space (servers send URLs unquoted, which the RFC does not allow).

/// One challenge: an auth scheme and its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// As sent (`Bearer`, `basic`); compare with [`Challenge::is`].
    pub scheme: String,
    /// `(name, value)` in order; names lowercased, values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Whether the scheme is `scheme`, ignoring case.
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    /// The first parameter called `name` (lowercase).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// RFC 7230's `tchar`: the characters of a token.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A cursor over the header's bytes. Tokens are ASCII, so slicing at their ends is always at a
/// character boundary; quoted values are collected byte by byte and decoded lossily.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn skip_spaces_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.at += 1;
        }
    }

    fn token(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned()
    }

    /// An unquoted value: a token by the RFC, but servers also send URLs bare, so it runs to the
    /// next comma or space.
    fn bare(&mut self) -> String {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|b| !matches!(b, b' ' | b'\t' | b','))
        {
            self.at += 1;
        }
        String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned()
    }

    /// A quoted string, the cursor on its opening quote. An unterminated one runs to the end.
    fn quoted(&mut self) -> String {
        self.at += 1;
        let mut value = Vec::new();
        while let Some(b) = self.peek() {
            self.at += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(escaped) = self.peek() {
                        value.push(escaped);
                        self.at += 1;
                    }
                }
                _ => value.push(b),
            }
        }
        String::from_utf8_lossy(&value).into_owned()
    }

    /// Skips what is neither a token nor a separator (and a token68's trailing `=`s).
    fn skip_junk(&mut self) {
        while self
            .peek()
            .is_some_and(|b| !is_tchar(b) && !matches!(b, b' ' | b'\t' | b','))
        {
            self.at += 1;
        }
    }
}

/// Every challenge in a `WWW-Authenticate` header value, in order. Malformed parts are skipped.
pub fn parse_www_authenticate(header: &str) -> Vec<Challenge> {
    let mut cursor = Cursor {
        bytes: header.as_bytes(),
        at: 0,
    };
    let mut challenges = Vec::new();
    loop {
        cursor.skip_spaces_and_commas();
        if cursor.peek().is_none() {
            break;
        }
        let scheme = cursor.token();
        if scheme.is_empty() {
            cursor.at += 1;
            continue;
        }
        let mut challenge = Challenge {
            scheme,
            params: Vec::new(),
        };
        // Parameters: `name = value` separated by commas, until a token that is not followed by
        // `=`, which starts the next challenge.
        loop {
            cursor.skip_spaces_and_commas();
            let start = cursor.at;
            let name = cursor.token();
            if name.is_empty() {
                cursor.skip_junk();
                if cursor.at == start {
                    break;
                }
                continue;
            }
            cursor.skip_spaces();
            if cursor.peek() != Some(b'=') {
                cursor.at = start;
                break;
            }
            cursor.at += 1;
            cursor.skip_spaces();
            let value = if cursor.peek() == Some(b'"') {
                cursor.quoted()
            } else {
                cursor.bare()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
        }
        challenges.push(challenge);
    }
    challenges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(challenge: &Challenge) -> Vec<(&str, &str)> {
        challenge
            .params
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect()
    }

    #[test]
    fn docker_hub_bearer() {
        let challenges = parse_www_authenticate(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull""#,
        );
        assert_eq!(challenges.len(), 1);
        assert!(challenges[0].is("bearer"));
        assert_eq!(
            params(&challenges[0]),
            [
                ("realm", "https://auth.docker.io/token"),
                ("service", "registry.docker.io"),
                ("scope", "repository:library/alpine:pull"),
            ]
        );
    }

    #[test]
    fn quoted_commas_escapes_and_spacing() {
        let challenges = parse_www_authenticate(
            "Bearer  Realm = \"https://a.example/t?x=1,2\" , scope=\"repository:a/b:pull,push\",error=\"say \\\"no\\\" \\\\ ok\"",
        );
        assert_eq!(
            params(&challenges[0]),
            [
                ("realm", "https://a.example/t?x=1,2"),
                ("scope", "repository:a/b:pull,push"),
                ("error", "say \"no\" \\ ok"),
            ]
        );
        assert_eq!(
            challenges[0].param("scope"),
            Some("repository:a/b:pull,push")
        );
        assert_eq!(challenges[0].param("service"), None);
    }

    #[test]
    fn several_challenges_tokens_and_token68() {
        let challenges = parse_www_authenticate(
            r#"Negotiate abc123==, Basic realm="Registry Realm", Bearer realm=https://t.example/token,service=reg"#,
        );
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["Negotiate", "Basic", "Bearer"]);
        assert_eq!(challenges[1].param("realm"), Some("Registry Realm"));
        assert_eq!(
            params(&challenges[2]),
            [("realm", "https://t.example/token"), ("service", "reg")]
        );
        // A bare scheme.
        assert_eq!(
            parse_www_authenticate("Basic"),
            [Challenge {
                scheme: "Basic".into(),
                params: vec![]
            }]
        );
    }

    #[test]
    fn malformed_headers_do_not_panic() {
        for header in [
            "",
            ",,, ,",
            "=",
            "Bearer realm=",
            "Bearer realm=\"unterminated",
            "Bearer realm=\"ends with backslash\\",
            "Bearer ==== \"\" ,=,",
            "Bearer réalm=\"ü\", \u{1F600}=x",
            "\"quoted\" Bearer realm=x",
        ] {
            let _ = parse_www_authenticate(header);
        }
        assert_eq!(
            parse_www_authenticate("Bearer realm=\"unterminated")[0].param("realm"),
            Some("unterminated")
        );
        let odd = parse_www_authenticate("\"quoted\" Bearer realm=x");
        assert!(
            odd.iter()
                .any(|c| c.is("bearer") && c.param("realm") == Some("x"))
        );
    }
}
