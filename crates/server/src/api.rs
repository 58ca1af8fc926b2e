//! The HTTP side: routes, API keys and rate limits, uploads streamed to disk, JSON
//! submissions of registry references, statuses, reports, pages and key administration. Every
//! database call and every report rendering runs on a blocking thread, off the async workers.

use std::collections::BTreeMap;
use std::path::Path;

use axum::body::Body;
use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use stowaway_findings::Report;
use tokio::io::AsyncWriteExt;

use crate::store::{KeyRow, Store, StoreResult};
use crate::{AppState, ScanId, random_hex, status_json};

/// The routes over `state`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/scans", post(submit))
        .route("/api/v1/scans/{id}", get(scan_status))
        .route("/api/v1/scans/{id}/{file}", get(scan_report))
        .route("/api/v1/hash/{digest}", get(hash))
        .route("/api/v1/engines", get(engines))
        .route("/api/v1/admin/keys", get(list_keys).post(add_key))
        .route("/api/v1/admin/keys/{name}", delete(delete_key))
        .route("/", get(index))
        .route("/scans/{id}", get(scan_page))
        .layer(middleware::from_fn_with_state(state.clone(), authorize))
        .with_state(state)
}

/// Who sent a request: the key's record, or None when keys are not required.
#[derive(Clone)]
struct Caller(Option<KeyRow>);

fn error(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(json!({ "error": message }))).into_response()
}

fn internal(what: &str, e: impl std::fmt::Display) -> Response {
    eprintln!("stowaway serve: {what}: {e}");
    error(StatusCode::INTERNAL_SERVER_ERROR, what)
}

fn retry_after(mut response: Response, seconds: u64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// Runs `f` on a blocking thread: database calls and rendering.
async fn blocking(
    state: &AppState,
    f: impl FnOnce(&AppState) -> Response + Send + 'static,
) -> Response {
    let state = state.clone();
    tokio::task::spawn_blocking(move || f(&state))
        .await
        .unwrap_or_else(|e| internal("answering", e))
}

/// One database call on a blocking thread; a failure is a 500 naming `what`.
async fn db<T: Send + 'static>(
    state: &AppState,
    what: &'static str,
    f: impl FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
) -> Result<T, Response> {
    let state = state.clone();
    match tokio::task::spawn_blocking(move || f(state.inner.store.as_ref())).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(internal(what, e)),
        Err(e) => Err(internal(what, e)),
    }
}

/// The key of a request: `Authorization: Bearer KEY` or `apikey: KEY`.
fn request_key(headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get("apikey").and_then(|v| v.to_str().ok()) {
        return Some(value.trim().to_string());
    }
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, key) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| key.trim().to_string())
}

async fn authorize(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let shared = &state.inner;
    let page = request.uri().path().starts_with("/scans/");
    let mut caller = Caller(None);
    if shared.api_keys_required && !(page && shared.public_pages) {
        let Some(key) = request_key(request.headers()) else {
            return error(
                StatusCode::UNAUTHORIZED,
                "an API key is required: Authorization: Bearer KEY, or apikey: KEY",
            );
        };
        let record = match db(&state, "checking the API key", move |s| s.key(&key)).await {
            Ok(Some(record)) => record,
            Ok(None) => return error(StatusCode::FORBIDDEN, "unknown API key"),
            Err(response) => return response,
        };
        if let Err(wait) = shared.rate_limit.take(&record.name) {
            return retry_after(
                error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "this API key's request rate is exceeded; retry later",
                ),
                wait.as_secs_f64().ceil() as u64,
            );
        }
        caller = Caller(Some(record));
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// A submission of a registry reference, as a JSON body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReferenceRequest {
    reference: String,
    name: Option<String>,
    fail_on: Option<String>,
    policy: Option<String>,
    callback_url: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// The largest JSON submission read.
const MAX_JSON_BYTES: usize = 64 << 10;

/// Whether `url` is an absolute http(s) URL with a host: the only callbacks accepted.
fn valid_callback(url: &str) -> bool {
    url.parse::<axum::http::Uri>()
        .is_ok_and(|uri| matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some())
}

/// The `202` of a queued scan.
fn accepted(id: &str) -> Response {
    let body = json!({
        "id": id,
        "status_url": format!("/api/v1/scans/{id}"),
        "report_url": format!("/api/v1/scans/{id}/report.json"),
        "page_url": format!("/scans/{id}"),
    });
    (StatusCode::ACCEPTED, axum::Json(body)).into_response()
}

/// The request's `Idempotency-Key`, scoped to its API key: Ok(None) when there is none.
fn idempotency(headers: &HeaderMap, caller: &Caller) -> Result<Option<String>, Response> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=128).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            let owner = caller.0.as_ref().map_or("", |k| k.name.as_str());
            Ok(Some(format!("{owner}:{key}")))
        }
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key: 1 to 128 visible ASCII characters",
        )),
    }
}

async fn submit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(mut metadata): Query<BTreeMap<String, String>>,
    request: Request,
) -> Response {
    let shared = &state.inner;
    // A retried submission (its 202 was lost) gets the scan the first one queued.
    let idempotency = match idempotency(request.headers(), &caller) {
        Ok(key) => key,
        Err(response) => return response,
    };
    if let Some(key) = idempotency.clone() {
        match db(&state, "looking up the submission", move |s| {
            s.scan_with_idempotency(&key)
        })
        .await
        {
            Ok(Some(id)) => return accepted(&id),
            Ok(None) => {}
            Err(response) => return response,
        }
    }
    let json_body = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let (request, reference) = if json_body {
        let bytes = match axum::body::to_bytes(request.into_body(), MAX_JSON_BYTES).await {
            Ok(bytes) => bytes,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!("reading the JSON body: {e}"),
                );
            }
        };
        let body: ReferenceRequest = match serde_json::from_slice(&bytes) {
            Ok(body) => body,
            Err(e) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "the JSON body: {e} (expected {{\"reference\": \"registry/repository:tag\", \"name\", \"fail_on\", \"policy\", \"callback_url\", \"metadata\": {{…}}}})"
                    ),
                );
            }
        };
        if let Err(e) = stowaway_registry::parse_reference(&body.reference) {
            return error(StatusCode::BAD_REQUEST, &format!("reference: {e}"));
        }
        metadata.extend(body.metadata);
        for (key, value) in [
            ("name", body.name),
            ("fail_on", body.fail_on),
            ("policy", body.policy),
            ("callback_url", body.callback_url),
        ] {
            metadata.extend(value.map(|v| (key.to_string(), v)));
        }
        (None, Some(body.reference))
    } else {
        if declared.is_some_and(|n| n > shared.max_upload_bytes) {
            return too_large(shared.max_upload_bytes);
        }
        (Some(request), None)
    };
    if let Err(e) = shared.engines.policy(&metadata) {
        return error(StatusCode::BAD_REQUEST, &format!("the policy: {e}"));
    }
    if let Some(url) = metadata.get("callback_url")
        && !valid_callback(url)
    {
        return error(
            StatusCode::BAD_REQUEST,
            "callback_url: an absolute http:// or https:// URL is expected",
        );
    }
    let waiting = match db(&state, "counting the queue", |s| s.queued()).await {
        Ok(n) => n,
        Err(response) => return response,
    };
    let Some(reservation) = shared.queue.reserve(waiting) else {
        return retry_after(
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "the scan queue is full; retry later",
            ),
            30,
        );
    };
    let id = match random_hex::<16>() {
        Ok(id) => ScanId(id),
        Err(e) => return internal("making a scan id", e),
    };
    let path = state.upload_path(&id);
    if let Some(request) = request {
        match receive(request.into_body(), &path, shared.max_upload_bytes).await {
            Ok(digest) => {
                metadata.insert("archive_sha256".into(), format!("sha256:{digest}"));
            }
            Err(response) => {
                let _ = tokio::fs::remove_file(&path).await;
                return response;
            }
        }
    }
    let metadata_json = match serde_json::to_string(&metadata) {
        Ok(json) => json,
        Err(e) => return internal("storing the metadata", e),
    };
    let scan = id.0.clone();
    match db(&state, "storing the scan", move |s| {
        s.insert_scan(
            &scan,
            &metadata_json,
            reference.as_deref(),
            idempotency.as_deref(),
        )
    })
    .await
    {
        Ok(None) => {
            reservation.pushed();
            accepted(&id.0)
        }
        // The same submission arrived twice at once: the other one's scan stands.
        Ok(Some(existing)) => {
            let _ = tokio::fs::remove_file(&path).await;
            accepted(&existing)
        }
        Err(response) => {
            let _ = tokio::fs::remove_file(&path).await;
            response
        }
    }
}

fn too_large(limit: u64) -> Response {
    error(
        StatusCode::PAYLOAD_TOO_LARGE,
        &format!("the upload is larger than {limit} bytes"),
    )
}

/// Streams `body` to `path`, at most `limit` bytes; the hex SHA-256 of what was written.
async fn receive(body: Body, path: &Path, limit: u64) -> Result<String, Response> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(|e| internal("storing the upload", e))?;
    let mut stream = body.into_data_stream();
    let mut written: u64 = 0;
    let mut digest = Sha256::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| error(StatusCode::BAD_REQUEST, &format!("reading the upload: {e}")))?;
        written += chunk.len() as u64;
        if written > limit {
            return Err(too_large(limit));
        }
        digest.update(&chunk);
        file.write_all(&chunk)
            .await
            .map_err(|e| internal("storing the upload", e))?;
    }
    if written == 0 {
        return Err(error(StatusCode::BAD_REQUEST, "the upload is empty"));
    }
    file.sync_all()
        .await
        .map_err(|e| internal("storing the upload", e))?;
    Ok(hex::encode(digest.finalize()))
}

fn parse_id(text: &str) -> Result<ScanId, Response> {
    ScanId::parse(text).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "a scan id is 32 lowercase hex digits",
        )
    })
}

fn stored_report(state: &AppState, id: &ScanId) -> Result<Option<Report>, Response> {
    let json = state
        .inner
        .store
        .report_json(&id.0)
        .map_err(|e| internal("reading the report", e))?;
    json.map(|json| serde_json::from_str(&json).map_err(|e| internal("reading the report", e)))
        .transpose()
}

async fn scan_status(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    blocking(&state, move |state| {
        let store = &state.inner.store;
        let row = match store.scan(&id.0) {
            Ok(Some(row)) => row,
            Ok(None) => return error(StatusCode::NOT_FOUND, "no such scan"),
            Err(e) => return internal("reading the scan", e),
        };
        let report = match store.report_json(&id.0) {
            Ok(Some(json)) => match serde_json::from_str::<Value>(&json) {
                Ok(value) => value,
                Err(e) => return internal("reading the report", e),
            },
            Ok(None) => Value::Null,
            Err(e) => return internal("reading the report", e),
        };
        axum::Json(status_json(&row, report)).into_response()
    })
    .await
}

/// Renders `report` as `format` (json, sarif, junit, html, cyclonedx).
fn render(
    report: &Report,
    format: &str,
    time: &str,
) -> Option<std::io::Result<(Vec<u8>, &'static str)>> {
    let mut out = Vec::new();
    let (written, content_type) = match format {
        "json" => (
            stowaway_report::write_json(report, &mut out),
            "application/json",
        ),
        "sarif" => (
            stowaway_report::write_sarif(report, &mut out),
            "application/sarif+json",
        ),
        "junit" => (
            stowaway_report::write_junit(report, &mut out),
            "application/xml",
        ),
        "html" => (
            stowaway_report::write_html(report, &mut out),
            "text/html; charset=utf-8",
        ),
        "cyclonedx" => (
            match report.images.as_slice() {
                [image] => {
                    stowaway_report::write_cyclonedx_vex(image, &report.tool, time, &mut out)
                }
                images => Err(std::io::Error::other(format!(
                    "the archive holds {} images; a CycloneDX document describes one",
                    images.len()
                ))),
            },
            "application/vnd.cyclonedx+json",
        ),
        _ => return None,
    };
    Some(written.map(|()| (out, content_type)))
}

async fn scan_report(
    State(state): State<AppState>,
    UrlPath((id, file)): UrlPath<(String, String)>,
) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let Some(format) = file.strip_prefix("report.").map(str::to_string) else {
        return error(StatusCode::NOT_FOUND, "no such file");
    };
    blocking(&state, move |state| report_response(state, &id, &format)).await
}
fn report_response(state: &AppState, id: &ScanId, format: &str) -> Response {
    let report = match stored_report(state, id) {
        Ok(Some(report)) => report,
        Ok(None) => {
            return match state.inner.store.scan(&id.0) {
                Ok(Some(row)) => error(
                    StatusCode::CONFLICT,
                    &format!("the scan is {}; no report", row.status),
                ),
                Ok(None) => error(StatusCode::NOT_FOUND, "no such scan"),
                Err(e) => internal("reading the scan", e),
            };
        }
        Err(response) => return response,
    };
    let time = state
        .inner
        .store
        .scan(&id.0)
        .ok()
        .flatten()
        .and_then(|row| row.finished)
        .unwrap_or_default();
    // RFC 3339 seconds, as the CLI dates documents.
    let time = time.get(..19).map(|t| format!("{t}Z")).unwrap_or_default();
    match render(&report, format, &time) {
        None => error(
            StatusCode::NOT_FOUND,
            "reports are report.json, report.sarif, report.junit, report.html, report.cyclonedx",
        ),
        Some(Err(e)) => error(StatusCode::UNPROCESSABLE_ENTITY, &e.to_string()),
        Some(Ok((bytes, content_type))) => {
            ([(header::CONTENT_TYPE, content_type)], bytes).into_response()
        }
    }
}

async fn engines(State(state): State<AppState>) -> Response {
    axum::Json(json!({ "engines": state.inner.engines.info() })).into_response()
}

/// `sha256:<hex>` from `sha256:<hex>` or `<hex>` (64 hex digits, any case).
fn parse_digest(text: &str) -> Option<String> {
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// The latest finished scan that saw an image, layer, archive or file with this digest.
async fn hash(State(state): State<AppState>, UrlPath(digest): UrlPath<String>) -> Response {
    let Some(digest) = parse_digest(&digest) else {
        return error(
            StatusCode::BAD_REQUEST,
            "a digest is 64 hex digits, optionally after sha256:",
        );
    };
    let wanted = digest.clone();
    match db(&state, "looking up the digest", move |s| {
        s.latest_with_digest(&wanted)
    })
    .await
    {
        Ok(Some(row)) => axum::Json(json!({
            "digest": digest,
            "scan": status_json(&row, Value::Null),
        }))
        .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no finished scan saw this digest"),
        Err(response) => response,
    }
}

/// 403 unless the caller may manage keys (an admin key, or keys not required).
fn require_admin(caller: &Caller) -> Result<(), Response> {
    match &caller.0 {
        Some(key) if !key.admin => Err(error(
            StatusCode::FORBIDDEN,
            "managing keys needs an admin key (stowaway serve --create-key NAME --admin)",
        )),
        _ => Ok(()),
    }
}

fn key_json(key: &KeyRow) -> Value {
    json!({ "name": key.name, "admin": key.admin, "created": key.created })
}

async fn list_keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Response {
    if let Err(response) = require_admin(&caller) {
        return response;
    }
    match db(&state, "listing the keys", |s| s.keys()).await {
        Ok(keys) => axum::Json(json!({ "keys": keys.iter().map(key_json).collect::<Vec<_>>() }))
            .into_response(),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKey {
    name: String,
    #[serde(default)]
    admin: bool,
}

/// Whether `name` may name a key: 1 to 64 of `A-Z a-z 0-9 . _ -`.
fn valid_key_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

async fn add_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Result<axum::Json<NewKey>, axum::extract::rejection::JsonRejection>,
) -> Response {
    if let Err(response) = require_admin(&caller) {
        return response;
    }
    let new = match body {
        Ok(axum::Json(new)) => new,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("{e} (expected {{\"name\": \"…\", \"admin\": false}})"),
            );
        }
    };
    if !valid_key_name(&new.name) {
        return error(
            StatusCode::BAD_REQUEST,
            "a key name is 1 to 64 letters, digits, '.', '_' or '-'",
        );
    }
    let key = match random_hex::<32>() {
        Ok(key) => key,
        Err(e) => return internal("making a key", e),
    };
    let (name, admin, secret) = (new.name.clone(), new.admin, key.clone());
    let added = db(&state, "adding the key", move |s| {
        if s.keys()?.iter().any(|k| k.name == name) {
            return Ok(false);
        }
        s.add_key(&name, &secret, admin).map(|()| true)
    })
    .await;
    match added {
        Ok(true) => (
            StatusCode::CREATED,
            axum::Json(json!({ "name": new.name, "admin": new.admin, "key": key })),
        )
            .into_response(),
        Ok(false) => error(StatusCode::CONFLICT, "a key with this name exists"),
        Err(response) => response,
    }
}

async fn delete_key(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    if let Err(response) = require_admin(&caller) {
        return response;
    }
    match db(&state, "deleting the key", move |s| s.delete_key(&name)).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => error(StatusCode::NOT_FOUND, "no key has this name"),
        Err(response) => response,
    }
}

async fn scan_page(State(state): State<AppState>, UrlPath(id): UrlPath<String>) -> Response {
    let id = match parse_id(&id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    blocking(&state, move |state| match state.inner.store.scan(&id.0) {
        Ok(Some(row)) if row.status == "done" => report_response(state, &id, "html"),
        Ok(Some(row)) => Html(format!(
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=5><title>scan {id}</title><p>Scan {id} is {status}{progress}{reason}.</p>",
            id = row.id,
            status = escape(&row.status),
            progress = row
                .progress
                .filter(|_| row.status == "scanning")
                .map(|p| format!(" ({p}%)"))
                .unwrap_or_default(),
            reason = row
                .error
                .map(|e| format!(": {}", escape(&e)))
                .unwrap_or_default()
        ))
        .into_response(),
        Ok(None) => error(StatusCode::NOT_FOUND, "no such scan"),
        Err(e) => internal("reading the scan", e),
    })
    .await
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

async fn index(State(state): State<AppState>) -> Response {
    blocking(&state, |state| {
        let rows = match state.inner.store.recent(100) {
            Ok(rows) => rows,
            Err(e) => return internal("listing the scans", e),
        };
        let mut html = String::from(
            "<!doctype html><meta charset=utf-8><title>stowaway scans</title><h1>Recent scans</h1>\n<table><tr><th>scan</th><th>created</th><th>status</th><th>verdict</th><th>summary</th></tr>\n",
        );
        for row in rows {
            let verdict = match (row.status.as_str(), row.blocked) {
                ("done", Some(true)) => "blocked",
                ("done", Some(false)) => "allowed",
                _ => "",
            };
            let summary = row.summary.or(row.error).unwrap_or_default();
            html.push_str(&format!(
                "<tr><td><a href=\"/scans/{id}\">{id}</a></td><td>{created}</td><td>{status}</td><td>{verdict}</td><td>{summary}</td></tr>\n",
                id = row.id,
                created = escape(&row.created),
                status = escape(&row.status),
                summary = escape(&summary),
            ));
        }
        html.push_str("</table>\n");
        Html(html).into_response()
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_callbacks_and_key_names_are_checked() {
        let hex = "AB".repeat(32);
        assert_eq!(
            parse_digest(&hex),
            Some(format!("sha256:{}", "ab".repeat(32)))
        );
        assert_eq!(parse_digest(&format!("sha256:{hex}")), parse_digest(&hex));
        assert_eq!(parse_digest("sha256:../../etc/passwd"), None);
        assert_eq!(parse_digest(&"a".repeat(63)), None);
        assert!(valid_callback("https://ci.example/hook?x=1"));
        assert!(valid_callback("http://127.0.0.1:8080/"));
        for bad in ["file:///etc/passwd", "/relative", "ftp://host/", "http://"] {
            assert!(!valid_callback(bad), "{bad}");
        }
        assert!(valid_key_name("ci-jenkins_1.2"));
        for bad in ["", "a b", "../x", &"x".repeat(65)] {
            assert!(!valid_key_name(bad), "{bad:?}");
        }
    }
}
