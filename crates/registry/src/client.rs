//! GET requests to one repository of a registry, authenticating as the registry asks.
//!
//! Every request goes out anonymously (or with the authorization an earlier request obtained).
//! On `401` the `WWW-Authenticate` challenges decide: `Bearer` fetches a token from the realm
//! (with the `service` and `scope` the challenge gives, and Basic credentials when there are
//! any) and retries with it; `Basic` retries with the credentials. A second `401` is an
//! authentication failure. Redirects (to blob storage) are followed without the
//! `Authorization` header. Plain http is used only for loopback registries and those listed as
//! insecure, and credentials are never sent to a plain-http token server that is not one of them.

use std::time::Duration;

use serde::Deserialize;
use ureq::http::Response;

use crate::challenge::{Challenge, parse_www_authenticate};
use crate::credentials::Credentials;
use crate::error::RegistryError;
use crate::reference::{Reference, is_loopback_host};

/// Manifests, indexes and token replies larger than this are refused.
pub const MAX_DOCUMENT_BYTES: u64 = 4 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a download may stall between two reads.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Registries redirect blob downloads to storage, sometimes through a CDN.
const MAX_REDIRECTS: u32 = 10;

/// A registry client for one reference.
pub struct Client<'a> {
    agent: ureq::Agent,
    reference: &'a Reference,
    /// The reference as shown in messages.
    shown: String,
    /// `http://host:port` or `https://host`.
    base: String,
    insecure: &'a [String],
    credentials: Option<Credentials>,
    /// The credential helper the docker config names for this registry (not run).
    helper: Option<String>,
    /// The `Authorization` header value obtained so far.
    authorization: Option<String>,
}

/// Whether `host` (`name[:port]`) may be reached over plain http.
fn plain_http_allowed(host: &str, loopback: bool, insecure: &[String]) -> bool {
    let name = host.rsplit_once(':').map_or(host, |(name, _)| name);
    loopback || insecure.iter().any(|entry| entry == host || entry == name)
}

impl<'a> Client<'a> {
    pub fn new(
        reference: &'a Reference,
        insecure: &'a [String],
        credentials: Option<Credentials>,
        helper: Option<String>,
    ) -> Client<'a> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .timeout_per_read(Some(READ_TIMEOUT))
            .max_redirects(MAX_REDIRECTS)
            .user_agent(concat!("stowaway/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let scheme = if plain_http_allowed(&reference.registry, reference.is_loopback(), insecure) {
            "http"
        } else {
            "https"
        };
        Client {
            agent,
            reference,
            shown: reference.to_string(),
            base: format!("{scheme}://{}", reference.api_host()),
            insecure,
            credentials,
            helper,
            authorization: None,
        }
    }

    /// The reference as shown in messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `GET {base}{path}`, authenticating when asked to; the response has status 200.
    pub fn get(
        &mut self,
        path: &str,
        accept: Option<&str>,
        what: &str,
    ) -> Result<Response<ureq::Body>, RegistryError> {
        let mut response = self.send(path, accept)?;
        if response.status() == 401 {
            let challenges: Vec<Challenge> = response
                .headers()
                .get_all("www-authenticate")
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(parse_www_authenticate)
                .collect();
            self.authenticate(path, &challenges)?;
            response = self.send(path, accept)?;
            if response.status() == 401 {
                return Err(self.unauthorized(path, "the registry refused the credentials"));
            }
        }
        match response.status().as_u16() {
            200 => Ok(response),
            status => Err(RegistryError::Status {
                reference: self.shown.clone(),
                what: what.to_string(),
                path: path.to_string(),
                status,
            }),
        }
    }

    fn send(
        &self,
        path: &str,
        accept: Option<&str>,
    ) -> Result<Response<ureq::Body>, RegistryError> {
        let url = format!("{}{path}", self.base);
        let mut request = self.agent.get(&url);
        if let Some(accept) = accept {
            request = request.header("Accept", accept);
        }
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        request.call().map_err(|error| self.transport(&url, &error))
    }

    pub fn transport(&self, url: &str, error: &dyn std::fmt::Display) -> RegistryError {
        RegistryError::Transport {
            reference: self.shown.clone(),
            url: url.to_string(),
            message: error.to_string(),
        }
    }

    /// The 401 error: `refusal` says who refused the credentials, when there were any.
    fn unauthorized(&self, path: &str, refusal: &str) -> RegistryError {
        let host = &self.reference.registry;
        let reason = match (&self.credentials, &self.helper) {
            (Some(_), _) => format!("{refusal} for {host}"),
            (None, Some(helper)) => format!(
                "{host} needs credentials; the docker config leaves them to the credential helper \
                 'docker-credential-{helper}', which is not supported: give them explicitly"
            ),
            (None, None) => format!(
                "{host} needs credentials, and none were given or found in the docker config"
            ),
        };
        RegistryError::Unauthorized {
            reference: self.shown.clone(),
            path: path.to_string(),
            reason,
        }
    }

    /// Answers the challenges of a 401: sets `self.authorization` or fails.
    fn authenticate(&mut self, path: &str, challenges: &[Challenge]) -> Result<(), RegistryError> {
        if let Some(bearer) = challenges.iter().find(|c| c.is("bearer")) {
            let token = self.fetch_token(path, bearer)?;
            self.authorization = Some(format!("Bearer {token}"));
            return Ok(());
        }
        if challenges.iter().any(|c| c.is("basic")) {
            return match &self.credentials {
                Some(credentials) => {
                    self.authorization = Some(credentials.basic_header());
                    Ok(())
                }
                None => Err(self.unauthorized(path, "the registry refused the credentials")),
            };
        }
        let schemes: Vec<&str> = challenges.iter().map(|c| c.scheme.as_str()).collect();
        Err(RegistryError::Unauthorized {
            reference: self.shown.clone(),
            path: path.to_string(),
            reason: if schemes.is_empty() {
                "the registry asks for authentication without saying how (no WWW-Authenticate)"
                    .to_string()
            } else {
                format!(
                    "the registry asks for authentication by {}, which is not supported (only Bearer and Basic are)",
                    schemes.join(", ")
                )
            },
        })
    }

    /// The token server's answer to a Bearer challenge.
    fn fetch_token(&self, path: &str, challenge: &Challenge) -> Result<String, RegistryError> {
        let invalid = |message: String| RegistryError::Invalid {
            reference: self.shown.clone(),
            message,
        };
        let realm = challenge
            .param("realm")
            .filter(|r| !r.is_empty())
            .ok_or_else(|| invalid("the registry's Bearer challenge has no realm".into()))?;
        let realm_host = realm
            .strip_prefix("https://")
            .map(|rest| (rest, true))
            .or_else(|| realm.strip_prefix("http://").map(|rest| (rest, false)));
        let Some((rest, https)) = realm_host else {
            return Err(invalid(format!(
                "the registry's token server '{realm}' is not an http(s) URL"
            )));
        };
        let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
        let mut request = self.agent.get(realm);
        if let Some(service) = challenge.param("service") {
            request = request.query("service", service);
        }
        let default_scope = format!("repository:{}:pull", self.reference.repository);
        request = request.query("scope", challenge.param("scope").unwrap_or(&default_scope));
        if let Some(credentials) = &self.credentials {
            if !https && !plain_http_allowed(host, is_loopback_host(host), self.insecure) {
                return Err(invalid(format!(
                    "not sending credentials to the plain-http token server {realm} (allow its host as an insecure registry to do so)"
                )));
            }
            request = request.header("Authorization", credentials.basic_header());
        }
        let response = request
            .call()
            .map_err(|error| self.transport(realm, &error))?;
        match response.status().as_u16() {
            200 => {}
            401 | 403 => {
                return Err(self.unauthorized(
                    path,
                    &format!(
                        "the token server {realm} refused the credentials ({})",
                        response.status().as_u16()
                    ),
                ));
            }
            status => {
                return Err(invalid(format!(
                    "the token server {realm} answered HTTP {status}"
                )));
            }
        }
        let bytes = read_document(response, realm, self)?;
        token_from_reply(&bytes)
            .ok_or_else(|| invalid(format!("the token server {realm} answered without a token")))
    }
}

/// Reads a JSON document's body, refusing one larger than [`MAX_DOCUMENT_BYTES`].
pub fn read_document(
    response: Response<ureq::Body>,
    url: &str,
    client: &Client,
) -> Result<Vec<u8>, RegistryError> {
    let result = response
        .into_body()
        .into_with_config()
        .limit(MAX_DOCUMENT_BYTES)
        .read_to_vec();
    match result {
        Ok(bytes) => Ok(bytes),
        Err(ureq::Error::BodyExceedsLimit(_)) => Err(RegistryError::Invalid {
            reference: client.shown.clone(),
            message: format!("{url}: the document is larger than {MAX_DOCUMENT_BYTES} bytes"),
        }),
        Err(error) => Err(client.transport(url, &error)),
    }
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// `token`, else `access_token` (OAuth2's name), from a token server's JSON reply.
fn token_from_reply(bytes: &[u8]) -> Option<String> {
    let reply: TokenReply = serde_json::from_slice(bytes).ok()?;
    [reply.token, reply.access_token]
        .into_iter()
        .flatten()
        .find(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_replies() {
        assert_eq!(
            token_from_reply(br#"{"token":"abc","expires_in":300}"#).as_deref(),
            Some("abc")
        );
        assert_eq!(
            token_from_reply(br#"{"access_token":"xyz"}"#).as_deref(),
            Some("xyz")
        );
        assert_eq!(
            token_from_reply(br#"{"token":"","access_token":"xyz"}"#).as_deref(),
            Some("xyz")
        );
        // A token that cannot be a header value is no token.
        assert_eq!(token_from_reply(b"{\"token\":\"a\\r\\nX: y\"}"), None);
        assert_eq!(token_from_reply(br#"{"other":1}"#), None);
        assert_eq!(token_from_reply(b"not json"), None);
    }

    #[test]
    fn plain_http_only_for_loopback_and_insecure_hosts() {
        let insecure = vec!["reg.lan:5000".to_string(), "other.lan".to_string()];
        assert!(plain_http_allowed("127.0.0.1:5000", true, &[]));
        assert!(plain_http_allowed("reg.lan:5000", false, &insecure));
        assert!(!plain_http_allowed("reg.lan:5001", false, &insecure));
        assert!(plain_http_allowed("other.lan:443", false, &insecure));
        assert!(!plain_http_allowed("ghcr.io", false, &insecure));
    }
}
