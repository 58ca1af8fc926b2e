//! Registry credentials: given explicitly, or read from the `auths` of Docker's `config.json`
//! (what `docker login` writes). Credential helpers (`credsStore`, `credHelpers`) are not run;
//! when one is configured for the registry, that is said in the authentication error.
//!
//! Credentials never appear in `Debug` output or in error messages, and the config file's
//! content is never quoted in an error.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::error::RegistryError;
use crate::reference::DOCKER_HUB;

/// A docker config larger than this is refused.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// The key `docker login` uses for Docker Hub.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A user name and password (or token used as a password).
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Credentials {
    /// The value of an `Authorization: Basic` header.
    pub fn basic_header(&self) -> String {
        format!(
            "Basic {}",
            STANDARD.encode(format!("{}:{}", self.username, self.password))
        )
    }
}

/// What the docker config says about one registry.
#[derive(Debug, Default)]
pub struct Found {
    pub credentials: Option<Credentials>,
    /// The credential helper the config names for the registry, which is not run.
    pub helper: Option<String>,
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// `$DOCKER_CONFIG/config.json`, else `$HOME/.docker/config.json`.
pub fn default_docker_config() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".docker").join("config.json"))
}

/// The host a config key names: `https://index.docker.io/v1/` → `index.docker.io`.
fn key_host(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    key.split('/').next().unwrap_or(key)
}

fn matches_registry(key: &str, registry: &str) -> bool {
    let host = key_host(key);
    if registry == DOCKER_HUB {
        matches!(
            host,
            "index.docker.io" | "docker.io" | "registry-1.docker.io"
        )
    } else {
        host == registry
    }
}

/// Looks `registry` up in the docker config at `path`. A missing file is no credentials; an
/// unreadable or malformed one is an error.
pub fn from_docker_config(path: &Path, registry: &str) -> Result<Found, RegistryError> {
    let error = |message: String| RegistryError::DockerConfig {
        path: path.to_path_buf(),
        message,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::default()),
        Err(e) => return Err(error(e.to_string())),
    };
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(e.to_string()))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(error(format!("larger than {MAX_CONFIG_BYTES} bytes")));
    }
    // serde_json's messages can quote values (passwords): only the position is reported.
    let config: DockerConfig = serde_json::from_slice(&bytes).map_err(|e| {
        error(format!(
            "not a valid docker config (at line {}, column {})",
            e.line(),
            e.column()
        ))
    })?;
    let helper = config
        .cred_helpers
        .iter()
        .find(|(key, _)| matches_registry(key, registry))
        .map(|(_, helper)| helper.clone())
        .or(config.creds_store);
    // The exact key `docker login` writes first, then any other spelling of the same host.
    let preferred = if registry == DOCKER_HUB {
        DOCKER_HUB_KEY
    } else {
        registry
    };
    let entry = config.auths.get(preferred).or_else(|| {
        config
            .auths
            .iter()
            .find(|(key, _)| matches_registry(key, registry))
            .map(|(_, entry)| entry)
    });
    let credentials = match entry {
        Some(entry) => entry_credentials(entry)
            .map_err(|m| error(format!("the entry for {registry} in `auths`: {m}")))?,
        None => None,
    };
    Ok(Found {
        credentials,
        helper,
    })
}

fn entry_credentials(entry: &AuthEntry) -> Result<Option<Credentials>, &'static str> {
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = STANDARD
            .decode(auth.trim())
            .map_err(|_| "`auth` is not base64")?;
        let decoded = String::from_utf8(decoded).map_err(|_| "`auth` is not UTF-8")?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or("`auth` is not base64 of user:password")?;
        return Ok(Some(Credentials {
            username: username.to_string(),
            password: password.to_string(),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) if !username.is_empty() => Ok(Some(Credentials {
            username: username.clone(),
            password: password.clone(),
        })),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(json: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.json");
        std::fs::write(&path, json).unwrap();
        (dir, path)
    }

    fn creds(user: &str, pass: &str) -> Option<Credentials> {
        Some(Credentials {
            username: user.into(),
            password: pass.into(),
        })
    }

    #[test]
    fn auth_field_and_username_password() {
        let auth = STANDARD.encode("alice:s3cr:et");
        let (_dir, path) = write(&format!(
            r#"{{"auths": {{
                "https://index.docker.io/v1/": {{"auth": "{auth}"}},
                "localhost:5000": {{"username": "bob", "password": "pw"}},
                "https://ghcr.io": {{"auth": "{auth}"}}
            }}}}"#
        ));
        let hub = from_docker_config(&path, "docker.io").unwrap();
        assert_eq!(hub.credentials, creds("alice", "s3cr:et"));
        assert_eq!(hub.helper, None);
        assert_eq!(
            from_docker_config(&path, "localhost:5000")
                .unwrap()
                .credentials,
            creds("bob", "pw")
        );
        assert_eq!(
            from_docker_config(&path, "ghcr.io").unwrap().credentials,
            creds("alice", "s3cr:et")
        );
        assert_eq!(
            from_docker_config(&path, "quay.io").unwrap().credentials,
            None
        );
    }

    #[test]
    fn helpers_are_reported_not_run() {
        let (_dir, path) = write(
            r#"{"auths": {"quay.io": {}}, "credsStore": "desktop", "credHelpers": {"gcr.io": "gcloud"}}"#,
        );
        let quay = from_docker_config(&path, "quay.io").unwrap();
        assert_eq!(quay.credentials, None);
        assert_eq!(quay.helper.as_deref(), Some("desktop"));
        assert_eq!(
            from_docker_config(&path, "gcr.io")
                .unwrap()
                .helper
                .as_deref(),
            Some("gcloud")
        );
    }

    #[test]
    fn missing_malformed_and_secrets_kept_out_of_errors() {
        let dir = tempfile::tempdir().unwrap();
        let missing = from_docker_config(&dir.path().join("none.json"), "docker.io").unwrap();
        assert!(missing.credentials.is_none());
        let (_dir, path) = write(r#"{"auths": {"r.io": {"auth": 12345678}}, "x": "hunter2"#);
        let message = from_docker_config(&path, "r.io").unwrap_err().to_string();
        assert!(message.contains("not a valid docker config"), "{message}");
        assert!(!message.contains("12345678") && !message.contains("hunter2"));
        let (_dir, path) = write(r#"{"auths": {"r.io": {"auth": "!!hunter2!!"}}}"#);
        let message = from_docker_config(&path, "r.io").unwrap_err().to_string();
        assert!(message.contains("not base64"), "{message}");
        assert!(!message.contains("hunter2"));
        let debug = format!("{:?}", creds("u", "hunter2"));
        assert!(!debug.contains("hunter2"));
    }
}
