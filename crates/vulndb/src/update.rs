//! `stowaway db update`: fetch each ecosystem's `all.zip` from osv.dev's bucket (or a mirror)
//! when it changed, and swap the new database in atomically.
//!
//! Every `{base}/{ecosystem}/all.zip` is requested with the `ETag` / `Last-Modified` the last
//! update stored for that URL (`downloads` table); a `304 Not Modified` leaves it alone. Changed
//! zips are streamed (bounded, with timeouts) to temporary files in the database directory and
//! checked to be zips; then a copy of the current database receives them and is renamed over
//! `osv.sqlite`. Any failure (network, HTTP status, truncated body, not a zip) is an error naming
//! the URL, the previous database stays as it was, and the temporary files are removed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::NamedTempFile;

use crate::store::{Database, DbError, DownloadState};

/// osv.dev's public bulk-download bucket.
pub const DEFAULT_BASE_URL: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// The ecosystems updated when none are given and the database has none yet.
pub const DEFAULT_ECOSYSTEMS: &[&str] = &[
    "PyPI",
    "npm",
    "Go",
    "crates.io",
    "Maven",
    "RubyGems",
    "Packagist",
    "NuGet",
    "Debian",
    "Alpine",
    "Ubuntu",
];

/// The largest `all.zip` accepted (the largest real one, Debian's, is a few hundred MB).
const MAX_DOWNLOAD_BYTES: u64 = 2 << 30;
/// Connecting, and waiting for the response head.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);
/// The longest a download may stall between two reads.
const READ_TIMEOUT: Duration = Duration::from_secs(60);
/// Temporary files in the database directory start with this.
const TEMP_PREFIX: &str = ".osv-update-";

/// What one update did, per ecosystem in the order asked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    pub ecosystems: Vec<EcosystemUpdate>,
    /// Documents of the downloads that are not OSV records, each with why.
    pub invalid: Vec<String>,
}

/// One ecosystem's `all.zip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcosystemUpdate {
    pub ecosystem: String,
    pub url: String,
    pub outcome: UpdateOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The server answered `304 Not Modified`.
    Unchanged,
    /// Downloaded and imported: its size and the records read from it.
    Downloaded { bytes: u64, records: usize },
}

/// A changed `all.zip`, downloaded to a temporary file.
struct Fetched {
    file: NamedTempFile,
    state: DownloadState,
    bytes: u64,
}

/// Updates the database of `dir` from `{base_url}/{ecosystem}/all.zip` for each of `ecosystems`
/// (none: those earlier updates fetched, else the ecosystems in the database, else
/// [`DEFAULT_ECOSYSTEMS`]). `now` (RFC 3339) is recorded as the update time when anything
/// changed. All or nothing: on any error the previous database is left as it was.
pub fn update(
    dir: &Path,
    base_url: &str,
    ecosystems: &[String],
    now: &str,
) -> Result<UpdateSummary, DbError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let target = Database::file(dir);
    let current = if target.exists() {
        Some(Database::open(dir)?)
    } else {
        None
    };
    let previous = match &current {
        Some(db) => db.downloads()?,
        None => Vec::new(),
    };
    let mut ecosystems = if ecosystems.is_empty() {
        default_ecosystems(current.as_ref(), &previous)?
    } else {
        ecosystems.to_vec()
    };
    let mut seen = std::collections::HashSet::new();
    ecosystems.retain(|ecosystem| seen.insert(ecosystem.clone()));

    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_recv_response(Some(RESPONSE_TIMEOUT))
        .timeout_per_read(Some(READ_TIMEOUT))
        .user_agent(concat!("stowaway/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let base = base_url.trim_end_matches('/');
    let mut summary = UpdateSummary::default();
    let mut fetched = Vec::new();
    for ecosystem in &ecosystems {
        let url = format!("{base}/{}/all.zip", encode_segment(ecosystem));
        let prior = previous.iter().find(|state| state.url == url);
        match fetch(&agent, dir, ecosystem, &url, prior, now)? {
            Some(download) => fetched.push(download),
            None => summary.ecosystems.push(EcosystemUpdate {
                ecosystem: ecosystem.clone(),
                url,
                outcome: UpdateOutcome::Unchanged,
            }),
        }
    }
    if fetched.is_empty() {
        return Ok(summary);
    }

    // The new database: a copy of the current one (or a new file) that receives the downloads
    // and is then renamed over `osv.sqlite`.
    let new = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".sqlite")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    match &current {
        Some(db) => db.copy_to(new.path())?,
        None => readable_by_all(new.path())?,
    }
    drop(current);
    let mut db = Database::create(new.path())?;
    for download in &fetched {
        let url = &download.state.url;
        let imported = db
            .import_labelled(&[(download.file.path().to_path_buf(), url.clone())], now)
            .map_err(|error| download_error(url, error.to_string()))?;
        db.set_download(&download.state)?;
        summary.invalid.extend(imported.invalid);
        summary.ecosystems.push(EcosystemUpdate {
            ecosystem: download.state.ecosystem.clone(),
            url: url.clone(),
            outcome: UpdateOutcome::Downloaded {
                bytes: download.bytes,
                records: imported.stored + imported.unchanged,
            },
        });
    }
    drop(db);
    new.as_file().sync_all().map_err(io(new.path()))?;
    new.persist(&target).map_err(|error| DbError::Io {
        path: target.clone(),
        source: error.error,
    })?;
    sync_dir(dir)?;
    // Keep the order asked for.
    summary.ecosystems.sort_by_key(|update| {
        ecosystems
            .iter()
            .position(|ecosystem| *ecosystem == update.ecosystem)
    });
    Ok(summary)
}

/// Those earlier updates fetched, else the database's ecosystems, else the default list.
fn default_ecosystems(
    current: Option<&Database>,
    previous: &[DownloadState],
) -> Result<Vec<String>, DbError> {
    let mut ecosystems: Vec<String> = Vec::new();
    for state in previous {
        if !ecosystems.contains(&state.ecosystem) {
            ecosystems.push(state.ecosystem.clone());
        }
    }
    if ecosystems.is_empty()
        && let Some(db) = current
    {
        ecosystems = db
            .info()?
            .ecosystems
            .into_iter()
            .map(|e| e.ecosystem)
            .collect();
    }
    if ecosystems.is_empty() {
        ecosystems = DEFAULT_ECOSYSTEMS.iter().map(|e| e.to_string()).collect();
    }
    Ok(ecosystems)
}

/// GETs `url`, conditionally on what `prior` stored; `None` when the server says it has not
/// changed, else the body in a temporary file in `dir`, checked to be a zip.
fn fetch(
    agent: &ureq::Agent,
    dir: &Path,
    ecosystem: &str,
    url: &str,
    prior: Option<&DownloadState>,
    now: &str,
) -> Result<Option<Fetched>, DbError> {
    let mut request = agent.get(url);
    if let Some(etag) = prior.and_then(|p| p.etag.as_deref()) {
        request = request.header("If-None-Match", etag);
    }
    if let Some(modified) = prior.and_then(|p| p.last_modified.as_deref()) {
        request = request.header("If-Modified-Since", modified);
    }
    let response = request
        .call()
        .map_err(|error| download_error(url, error.to_string()))?;
    let status = response.status();
    if status == 304 && prior.is_some() {
        return Ok(None);
    }
    if status != 200 {
        return Err(download_error(url, format!("HTTP status {status}")));
    }
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string)
    };
    let state = DownloadState {
        url: url.to_string(),
        ecosystem: ecosystem.to_string(),
        etag: header("etag"),
        last_modified: header("last-modified"),
        fetched_at: now.to_string(),
    };
    let mut file = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".zip")
        .tempfile_in(dir)
        .map_err(io(dir))?;
    // The reader fails when the connection closes before `Content-Length` bytes, or before the
    // last chunk; the limit fails a body larger than it.
    let mut body = response
        .into_body()
        .into_with_config()
        .limit(MAX_DOWNLOAD_BYTES)
        .reader();
    let bytes = std::io::copy(&mut body, file.as_file_mut())
        .map_err(|error| download_error(url, format!("reading the body: {error}")))?;
    let reopened = file.reopen().map_err(io(file.path()))?;
    zip::ZipArchive::new(reopened).map_err(|error| {
        download_error(url, format!("not a zip ({bytes} bytes received): {error}"))
    })?;
    Ok(Some(Fetched { file, state, bytes }))
}

/// The ecosystem as one URL path segment: `Rocky Linux` → `Rocky%20Linux`; `Debian:12` stays.
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~:@!$&'()*+,;=".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn download_error(url: &str, reason: String) -> DbError {
    DbError::Download {
        url: url.to_string(),
        reason,
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DbError {
    let path: PathBuf = path.to_path_buf();
    move |source| DbError::Io { path, source }
}

/// A new database file gets the permissions `Connection::open` would give it (temporary files
/// are private to their owner), so that other users can scan with it.
fn readable_by_all(path: &Path) -> Result<(), DbError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(io(path))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Makes the rename durable: the directory entry is synced too (POSIX only; elsewhere the rename
/// is as durable as the file system makes it).
fn sync_dir(dir: &Path) -> Result<(), DbError> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io(dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::encode_segment;

    #[test]
    fn ecosystems_are_one_path_segment() {
        assert_eq!(encode_segment("crates.io"), "crates.io");
        assert_eq!(encode_segment("Debian:12"), "Debian:12");
        assert_eq!(encode_segment("Rocky Linux"), "Rocky%20Linux");
        assert_eq!(encode_segment("../x/y"), "..%2Fx%2Fy");
    }
}
