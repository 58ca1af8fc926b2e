//! `stowaway serve` end to end over HTTP on 127.0.0.1: submit built image archives, poll, fetch
//! every report format; keys, size and queue limits; a restart with a scan still queued.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use stowaway_findings::{Report, SCHEMA_VERSION, Tool, VulnerabilityDatabase};
use stowaway_image::Platform;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, docker_save_oci, gzip, zip_of,
};
use stowaway_lint::{Accounts, Enabled, Names, check_image, secret_env_values};
use stowaway_malware::{Heuristics, YaraEngine};
use stowaway_policy::{CliSettings, Date, Policy};
use stowaway_scan::{Input, Limits, NoProgress, ScanOptions, analyzers::default_analyzers};
use stowaway_secrets::{SecretScanner, SecretsAnalyzer};
use stowaway_server::{Server, ServerConfig, ServerHandle, create_key};

const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// EICAR as a plain file, inside a zip inside a tar.gz, and in a file a later layer deletes.
fn eicar_archive() -> Vec<u8> {
    let mut inner = LayerBuilder::new();
    inner.file("bin/payload.zip", &zip_of(&[("eicar.com", EICAR)]));
    let mut base = LayerBuilder::new();
    base.file("srv/eicar.com", EICAR)
        .file("opt/bundle.tar.gz", &gzip(&inner.build()))
        .file("tmp/dropped", EICAR);
    let mut cleanup = LayerBuilder::new();
    cleanup.whiteout("tmp/dropped");
    let image = Image::new(
        &["eicar:1"],
        vec![
            Layer::new(base.build(), Compression::Gzip, "COPY . /"),
            Layer::new(cleanup.build(), Compression::Gzip, "RUN rm /tmp/dropped"),
        ],
    );
    docker_save_oci(&[image]).to_tar()
}

fn clean_archive() -> Vec<u8> {
    let mut layer = LayerBuilder::new();
    layer
        .file("etc/motd", b"welcome\n")
        .file("app/readme.txt", b"nothing to see here\n");
    let mut image = Image::new(
        &["clean:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "COPY . /")],
    );
    image.settings["User"] = "1000:1000".into();
    docker_save_oci(&[image]).to_tar()
}

fn config(dir: &Path, workers: usize, queue_limit: usize, keys: bool) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.workers = workers;
    config.queue_limit = queue_limit;
    config.api_keys_required = keys;
    config.max_upload_bytes = 1 << 20;
    config
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn url(server: &ServerHandle, path: &str) -> String {
    format!("http://{}{path}", server.addr())
}

/// POSTs `body` to /api/v1/scans`query`; the status and the JSON (or text) answer.
fn submit(server: &ServerHandle, key: Option<&str>, query: &str, body: &[u8]) -> (u16, Value) {
    let mut request = agent().post(url(server, &format!("/api/v1/scans{query}")));
    if let Some(key) = key {
        request = request.header("apikey", key);
    }
    let mut response = request.send(body).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn get(server: &ServerHandle, key: Option<&str>, path: &str) -> (u16, String, String) {
    let mut request = agent().get(url(server, path));
    if let Some(key) = key {
        request = request.header("Authorization", &format!("Bearer {key}"));
    }
    let mut response = request.call().unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_string()
        .unwrap();
    (status, content_type, body)
}

/// Polls the scan until it is done or failed.
fn wait(server: &ServerHandle, key: Option<&str>, id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(50);
    loop {
        let (status, _, body) = get(server, key, &format!("/api/v1/scans/{id}"));
        assert_eq!(status, 200, "{body}");
        let scan: Value = serde_json::from_str(&body).unwrap();
        if scan["status"] == "done" || scan["status"] == "failed" {
            return scan;
        }
        assert!(
            Instant::now() < deadline,
            "scan {id} never finished: {scan}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The report of a local library scan composed as `stowaway scan` composes it.
fn local_scan(archive: &[u8]) -> Report {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("image.tar");
    std::fs::write(&path, archive).unwrap();
    let enabled = Enabled::skipping(&[]).unwrap();
    let names = Names::bundled(None);
    let secrets = std::sync::Arc::new(SecretScanner::builtin());
    let mut analyzers = default_analyzers();
    analyzers.extend(stowaway_sbom::catalogers());
    analyzers.push(Box::new(Accounts::new(enabled.clone())));
    analyzers.push(Box::new(SecretsAnalyzer::new(secrets.clone(), false)));
    analyzers.push(Box::new(
        YaraEngine::compile(true, &[], true, None).unwrap().0,
    ));
    analyzers.push(Box::new(Heuristics));
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse("linux/amd64").unwrap(),
        image: None,
        progress: &NoProgress,
    };
    let images = stowaway_scan::scan(&Input::Path(path), &analyzers, &options).unwrap();
    let mut report = Report {
        schema_version: SCHEMA_VERSION.to_string(),
        tool: Tool {
            name: "stowaway".into(),
            version: "test".into(),
        },
        input: "local".into(),
        analyzers: Vec::new(),
        vulnerability_database: VulnerabilityDatabase {
            checked: false,
            path: None,
            updated: None,
            age_days: None,
            records: 0,
            note: None,
        },
        images,
        policy: None,
    };
    for image in &mut report.images {
        let mut findings = check_image(image, &enabled, &names);
        let mut values = image
            .config
            .as_ref()
            .map(secret_env_values)
            .unwrap_or_default();
        let (found, more) = stowaway_secrets::scan_config(&secrets, image);
        findings.extend(found);
        values.extend(more);
        image.add_findings(findings);
        stowaway_secrets::redact_report(image, &values);
    }
    let policy = Policy::load(None, &CliSettings::default(), &[], dir.path()).unwrap();
    policy.apply(&mut report, Date::today());
    report
}

#[test]
fn clean_is_allowed_eicar_is_blocked_and_every_format_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "ci").unwrap();
    assert_eq!(key.len(), 64);
    let server = Server::start(config(dir.path(), 2, 10, true)).unwrap();
    let key = Some(key.as_str());

    let clean = clean_archive();
    let eicar = eicar_archive();
    let (status, clean_ticket) = submit(&server, key, "?ci_url=https://ci.example/job/1", &clean);
    assert_eq!(status, 202, "{clean_ticket}");
    let (status, eicar_ticket) = submit(&server, key, "", &eicar);
    assert_eq!(status, 202, "{eicar_ticket}");
    let clean_id = clean_ticket["id"].as_str().unwrap();
    let eicar_id = eicar_ticket["id"].as_str().unwrap();
    assert_eq!(
        eicar_ticket["status_url"],
        format!("/api/v1/scans/{eicar_id}")
    );

    let clean_scan = wait(&server, key, clean_id);
    let eicar_scan = wait(&server, key, eicar_id);
    assert_eq!(clean_scan["status"], "done", "{clean_scan}");
    assert_eq!(
        clean_scan["verdict"], "allowed",
        "{}",
        clean_scan["summary"]
    );
    assert_eq!(clean_scan["metadata"]["ci_url"], "https://ci.example/job/1");
    assert_eq!(
        eicar_scan["verdict"], "blocked",
        "{}",
        eicar_scan["summary"]
    );
    assert!(eicar_scan["summary"].as_str().unwrap().contains("malware"));

    // The stored findings are exactly a local library scan's.
    for (scan, archive) in [(&clean_scan, &clean), (&eicar_scan, &eicar)] {
        let stored: Report = serde_json::from_value(scan["report"].clone()).unwrap();
        let local = local_scan(archive);
        assert_eq!(stored.images.len(), 1);
        assert_eq!(stored.images[0].findings, local.images[0].findings);
        assert_eq!(
            stored.policy.as_ref().unwrap().blocked,
            local.policy.unwrap().blocked
        );
    }
    let stored: Report = serde_json::from_value(eicar_scan["report"].clone()).unwrap();
    let malware = stored.images[0]
        .findings
        .iter()
        .filter(|f| f.kind == stowaway_findings::Kind::Malware)
        .count();
    assert!(malware >= 3, "EICAR found {malware} times");

    // The uploads are deleted once scanned.
    assert_eq!(
        std::fs::read_dir(dir.path().join("uploads"))
            .unwrap()
            .count(),
        0
    );

    for (format, content_type, needle) in [
        ("json", "application/json", "\"schema_version\""),
        ("sarif", "application/sarif+json", "\"2.1.0\""),
        ("junit", "application/xml", "<testsuite"),
        ("html", "text/html", "<html"),
        (
            "cyclonedx",
            "application/vnd.cyclonedx+json",
            "\"CycloneDX\"",
        ),
    ] {
        let (status, got_type, body) = get(
            &server,
            key,
            &format!("/api/v1/scans/{eicar_id}/report.{format}"),
        );
        assert_eq!(status, 200, "{format}: {body}");
        assert!(got_type.starts_with(content_type), "{format}: {got_type}");
        assert!(body.contains(needle), "{format} lacks {needle}");
        // CycloneDX's VEX document lists packages and vulnerabilities, not malware.
        if format != "cyclonedx" {
            assert!(
                body.contains("srv/eicar.com"),
                "{format} does not name the file"
            );
        }
    }
    let (status, _, _) = get(
        &server,
        key,
        &format!("/api/v1/scans/{eicar_id}/report.exe"),
    );
    assert_eq!(status, 404);

    let (status, _, body) = get(&server, key, "/api/v1/engines");
    assert_eq!(status, 200);
    let engines: Value = serde_json::from_str(&body).unwrap();
    let ids: Vec<&str> = engines["engines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert!(ids.contains(&"yara-x"), "{ids:?}");
    assert!(ids.contains(&"heuristics"), "{ids:?}");

    let (status, _, page) = get(&server, key, "/");
    assert_eq!(status, 200);
    assert!(page.contains(&format!("href=\"/scans/{eicar_id}\"")));
    assert!(page.contains("blocked") && page.contains("allowed"));
    let (status, content_type, page) = get(&server, key, &format!("/scans/{eicar_id}"));
    assert_eq!(status, 200);
    assert!(content_type.starts_with("text/html"));
    assert!(page.contains("srv/eicar.com"));
    server.stop();
}

#[test]
fn keys_upload_size_and_malformed_archives() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "ci").unwrap();
    let server = Server::start(config(dir.path(), 1, 10, true)).unwrap();

    let (status, body) = submit(&server, None, "", b"x");
    assert_eq!(status, 401, "{body}");
    let (status, _, _) = get(&server, None, "/api/v1/engines");
    assert_eq!(status, 401);
    let wrong = "0".repeat(64);
    let (status, body) = submit(&server, Some(&wrong), "", b"x");
    assert_eq!(status, 403, "{body}");
    let (status, _, _) = get(&server, Some(&wrong), "/api/v1/engines");
    assert_eq!(status, 403);
    // The key is stored only as its SHA-256.
    let db = std::fs::read(dir.path().join("stowaway.sqlite")).unwrap();
    assert!(!db.windows(key.len()).any(|w| w == key.as_bytes()));

    let key_text = key.clone();
    let key = Some(key.as_str());
    // The server answers 413 from Content-Length without reading the body, and may close the
    // connection while the client still sends: a reset is a refusal too (nothing is stored: checked below).
    let oversize = vec![0u8; (1 << 20) + 1];
    let statuses: Vec<Option<u16>> = (0..5)
        .map(|_| {
            agent()
                .post(url(&server, "/api/v1/scans"))
                .header("apikey", &key_text)
                .send(&oversize[..])
                .ok()
                .map(|r| r.status().as_u16())
        })
        .collect();
    assert!(
        statuses.iter().all(|s| s.is_none() || *s == Some(413)),
        "{statuses:?}"
    );
    let (status, body) = submit(&server, key, "?fail_on=nonsense", b"x");
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("uploads"))
            .unwrap()
            .count(),
        0
    );

    let (status, ticket) = submit(&server, key, "", b"this is not a tar archive at all");
    assert_eq!(status, 202, "{ticket}");
    let scan = wait(&server, key, ticket["id"].as_str().unwrap());
    assert_eq!(scan["status"], "failed", "{scan}");
    assert!(!scan["error"].as_str().unwrap().is_empty(), "{scan}");
    assert_eq!(scan["verdict"], Value::Null);
    assert_eq!(scan["report"], Value::Null);

    // Still serving, and a good scan after it succeeds.
    let (status, ticket) = submit(&server, key, "", &clean_archive());
    assert_eq!(status, 202, "{ticket}");
    let scan = wait(&server, key, ticket["id"].as_str().unwrap());
    assert_eq!(scan["verdict"], "allowed", "{scan}");

    // Ids are checked before any lookup.
    let (status, _, _) = get(&server, key, "/api/v1/scans/..%2F..%2Fetc%2Fpasswd");
    assert_eq!(status, 400);
    let (status, _, _) = get(&server, key, &format!("/api/v1/scans/{}", "A".repeat(32)));
    assert_eq!(status, 400);
    let (status, _, _) = get(&server, key, &format!("/api/v1/scans/{}", "a".repeat(32)));
    assert_eq!(status, 404);
    server.stop();
}

#[test]
fn a_queued_scan_survives_a_restart_and_finishes_once() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(dir.path(), 0, 10, false)).unwrap();
    let (status, ticket) = submit(&server, None, "?fail_on=malware", &eicar_archive());
    assert_eq!(status, 202, "{ticket}");
    let id = ticket["id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_millis(200));
    let (_, _, body) = get(&server, None, &format!("/api/v1/scans/{id}"));
    assert!(body.contains("\"queued\""), "{body}");
    server.stop();

    let server = Server::start(config(dir.path(), 2, 10, false)).unwrap();
    let scan = wait(&server, None, &id);
    assert_eq!(scan["verdict"], "blocked", "{scan}");
    let finished = scan["finished"].clone();
    server.stop();

    // A third start reruns nothing: the scan stays as it finished.
    let server = Server::start(config(dir.path(), 2, 10, false)).unwrap();
    assert_eq!(server.state().queued(), 0);
    std::thread::sleep(Duration::from_millis(300));
    let (_, _, body) = get(&server, None, &format!("/api/v1/scans/{id}"));
    let scan: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(scan["status"], "done");
    assert_eq!(scan["finished"], finished);
    server.stop();
}

#[test]
fn a_full_queue_answers_503_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(dir.path(), 0, 1, false)).unwrap();
    let (status, ticket) = submit(&server, None, "", &clean_archive());
    assert_eq!(status, 202, "{ticket}");
    let response = agent()
        .post(url(&server, "/api/v1/scans"))
        .send(&clean_archive()[..])
        .unwrap();
    assert_eq!(response.status().as_u16(), 503);
    let retry = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(retry.parse::<u64>().unwrap() > 0);
    assert_eq!(server.state().queued(), 1);
    assert_eq!(
        std::fs::read_dir(dir.path().join("uploads"))
            .unwrap()
            .count(),
        1
    );
    server.stop();
}
