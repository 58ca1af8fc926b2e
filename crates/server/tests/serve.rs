//! `stowaway serve` end to end over HTTP on 127.0.0.1: submit built image archives, poll, fetch
//! every report format; keys, size and queue limits; a restart with a scan still queued.

use std::io::{BufRead, Read, Write};
use std::time::Duration;

use serde_json::Value;
use stowaway_findings::{Report, SCHEMA_VERSION, Tool, VulnerabilityDatabase};
use stowaway_image::Platform;
use stowaway_imagebuilder::browser::{chromium, dump_dom};
use stowaway_imagebuilder::docker_save_classic;
use stowaway_imagebuilder::registry::{Registry, have_tools};
use stowaway_lint::{Accounts, Enabled, Names, check_image, secret_env_values};
use stowaway_malware::{Heuristics, YaraEngine};
use stowaway_policy::{CliSettings, Date, Policy};
use stowaway_scan::{Input, Limits, NoProgress, ScanOptions, analyzers::default_analyzers};
use stowaway_secrets::{SecretScanner, SecretsAnalyzer};
use stowaway_server::{Server, create_key};

mod common;

use common::*;

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
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
        cache: None,
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
    let key = create_key(dir.path(), None, "ci", false).unwrap();
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
    let secrets = secrets_archive();
    let (status, ticket) = submit(&server, key, "", &secrets);
    assert_eq!(status, 202, "{ticket}");
    let secrets_scan = wait(&server, key, ticket["id"].as_str().unwrap());
    assert_eq!(secrets_scan["verdict"], "blocked", "{secrets_scan}");
    assert!(
        secrets_scan["summary"].as_str().unwrap().contains("secret"),
        "{secrets_scan}"
    );
    // The key itself is never stored: findings quote it masked.
    assert!(!secrets_scan.to_string().contains(GITHUB_TOKEN));

    // The stored findings are exactly a local library scan's.
    for (scan, archive) in [
        (&clean_scan, &clean),
        (&eicar_scan, &eicar),
        (&secrets_scan, &secrets),
    ] {
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

    // Digests lead to the latest scan that saw them: a file, a layer, the archive itself.
    let file_digest = stored.images[0]
        .inventory
        .iter()
        .find(|e| e.path == "srv/eicar.com")
        .and_then(|e| e.sha256)
        .unwrap()
        .to_string();
    let layer_digest = stored.images[0].layers[0].diff_id.clone().unwrap();
    let archive_digest = hex_sha256(&eicar);
    for digest in [
        file_digest.as_str(),
        &layer_digest,
        &archive_digest,
        &archive_digest[7..],
    ] {
        let (status, _, body) = get(&server, key, &format!("/api/v1/hash/{digest}"));
        assert_eq!(status, 200, "{digest}: {body}");
        let found: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(found["scan"]["id"], eicar_id, "{digest}");
        assert_eq!(found["scan"]["verdict"], "blocked");
    }
    let (status, _, _) = get(
        &server,
        key,
        &format!("/api/v1/hash/sha256:{}", "0".repeat(64)),
    );
    assert_eq!(status, 404);
    let (status, _, _) = get(&server, key, "/api/v1/hash/..%2Fetc");
    assert_eq!(status, 400);

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
    let key = create_key(dir.path(), None, "ci", false).unwrap();
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
    // An upload declaring more than the limit gets 413 before its body is sent: the client asks
    // with `Expect: 100-continue` and the server answers from Content-Length alone.
    let mut stream = std::net::TcpStream::connect(server.addr().unwrap()).unwrap();
    write!(
        stream,
        "POST /api/v1/scans HTTP/1.1\r\nHost: localhost\r\napikey: {key_text}\r\n\
         Content-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        (1 << 20) + 1
    )
    .unwrap();
    let mut answer = String::new();
    std::io::BufReader::new(&stream)
        .read_line(&mut answer)
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
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

    // A third start reruns nothing: the scan stays as it finished, claimed once.
    let server = Server::start(config(dir.path(), 2, 10, false)).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let (_, _, body) = get(&server, None, &format!("/api/v1/scans/{id}"));
    let scan: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(scan["status"], "done");
    assert_eq!(scan["finished"], finished);
    assert_eq!(scan["attempts"], 1);
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
    let (_, _, body) = get(
        &server,
        None,
        &format!("/api/v1/scans/{}", ticket["id"].as_str().unwrap()),
    );
    assert!(body.contains("\"queued\""), "{body}");
    assert_eq!(
        std::fs::read_dir(dir.path().join("uploads"))
            .unwrap()
            .count(),
        1
    );
    server.stop();
}

#[test]
fn the_result_page_opens_in_headless_chromium_from_its_link_alone() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), None, "ci", false).unwrap();
    let server = Server::start(config(dir.path(), 1, 10, true)).unwrap();
    let (status, ticket) = submit(&server, Some(&key), "", &eicar_archive());
    assert_eq!(status, 202, "{ticket}");
    let id = ticket["id"].as_str().unwrap();
    let page_url = url(&server, ticket["page_url"].as_str().unwrap());
    assert!(page_url.ends_with(&format!("/scans/{id}")));
    wait(&server, Some(&key), id);
    // The index and the API still need a key; the result page is a capability URL.
    assert_eq!(get(&server, None, "/").0, 401);
    assert_eq!(get(&server, None, &format!("/api/v1/scans/{id}")).0, 401);
    assert_eq!(get(&server, None, &format!("/scans/{id}")).0, 200);
    match chromium() {
        Some(chromium) => {
            let profile = tempfile::tempdir().unwrap();
            let (dom, log) = dump_dom(chromium, &page_url, profile.path());
            assert!(dom.contains("srv/eicar.com"), "{log}");
            assert!(dom.contains("opt/bundle.tar.gz"), "{log}");
            assert!(
                dom.contains("tmp/dropped"),
                "the deleted file is listed: {log}"
            );
            assert!(!log.contains("Content Security Policy"), "{log}");
        }
        None => {
            assert!(
                std::env::var_os("STOWAWAY_SBOM_VALIDATORS").is_none(),
                "chromium is missing but STOWAWAY_SBOM_VALIDATORS is set (scripts/with-test-deps installs it)"
            );
            eprintln!("skipped: chromium not found (apt-get install chromium)");
        }
    }
    server.stop();

    // Private pages: the same link then needs a key too.
    let mut private = config(dir.path(), 0, 10, true);
    private.public_pages = false;
    let server = Server::start(private).unwrap();
    assert_eq!(get(&server, None, &format!("/scans/{id}")).0, 401);
    assert_eq!(get(&server, Some(&key), &format!("/scans/{id}")).0, 200);
    server.stop();
}

#[test]
fn keys_are_managed_over_the_admin_api_and_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let admin = create_key(dir.path(), None, "admin", true).unwrap();
    let plain = create_key(dir.path(), None, "plain", false).unwrap();
    let server = Server::start(config(dir.path(), 0, 10, true)).unwrap();
    let keys = "/api/v1/admin/keys";

    let (status, body) = call(&server, Some(&plain), "GET", keys, None);
    assert_eq!(status, 403, "{body}");
    let (status, body) = call(
        &server,
        Some(&plain),
        "POST",
        keys,
        Some(&serde_json::json!({"name": "x"})),
    );
    assert_eq!(status, 403, "{body}");

    let (status, created) = call(
        &server,
        Some(&admin),
        "POST",
        keys,
        Some(&serde_json::json!({"name": "jenkins"})),
    );
    assert_eq!(status, 201, "{created}");
    let jenkins = created["key"].as_str().unwrap().to_string();
    assert_eq!(jenkins.len(), 64);
    assert_eq!(created["admin"], false);
    let (status, _) = call(
        &server,
        Some(&admin),
        "POST",
        keys,
        Some(&serde_json::json!({"name": "jenkins"})),
    );
    assert_eq!(status, 409);
    let (status, _) = call(
        &server,
        Some(&admin),
        "POST",
        keys,
        Some(&serde_json::json!({"name": "../x"})),
    );
    assert_eq!(status, 400);
    let (status, _) = call(
        &server,
        Some(&admin),
        "POST",
        keys,
        Some(&serde_json::json!({"nom": "y"})),
    );
    assert_eq!(status, 400);

    assert_eq!(get(&server, Some(&jenkins), "/api/v1/engines").0, 200);
    let (status, listed) = call(&server, Some(&admin), "GET", keys, None);
    assert_eq!(status, 200);
    let names: Vec<&str> = listed["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["admin", "jenkins", "plain"]);
    assert!(
        !listed.to_string().contains(&jenkins),
        "keys are never shown again"
    );

    let (status, _) = call(
        &server,
        Some(&admin),
        "DELETE",
        &format!("{keys}/jenkins"),
        None,
    );
    assert_eq!(status, 204);
    assert_eq!(get(&server, Some(&jenkins), "/api/v1/engines").0, 403);
    let (status, _) = call(
        &server,
        Some(&admin),
        "DELETE",
        &format!("{keys}/jenkins"),
        None,
    );
    assert_eq!(status, 404);
    server.stop();

    // Three requests a minute per key: the fourth waits, with Retry-After; other keys do not.
    let mut limited = config(dir.path(), 0, 10, true);
    limited.rate_limit_per_minute = 3;
    let server = Server::start(limited).unwrap();
    for _ in 0..3 {
        assert_eq!(get(&server, Some(&plain), "/api/v1/engines").0, 200);
    }
    let response = agent()
        .get(url(&server, "/api/v1/engines"))
        .header("apikey", &plain)
        .call()
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    let wait: u64 = response
        .headers()
        .get("retry-after")
        .unwrap()
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    assert_eq!(get(&server, Some(&admin), "/api/v1/engines").0, 200);
    server.stop();
}

/// Accepts one HTTP request on `listener`, answers 200, and returns its body.
fn receive_one(listener: std::net::TcpListener) -> String {
    let (stream, _) = listener.accept().unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    reader
        .get_mut()
        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        .unwrap();
    String::from_utf8(body).unwrap()
}

#[test]
fn the_callback_url_is_told_when_the_scan_ends() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    let received = std::thread::spawn(move || receive_one(listener));
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(dir.path(), 1, 10, false)).unwrap();
    let (status, body) = submit(
        &server,
        None,
        "?callback_url=file:///etc/passwd",
        &clean_archive(),
    );
    assert_eq!(status, 400, "{body}");
    let (status, ticket) = submit(
        &server,
        None,
        &format!("?callback_url={hook}&fail_on=malware"),
        &eicar_archive(),
    );
    assert_eq!(status, 202, "{ticket}");
    let event: Value = serde_json::from_str(&received.join().unwrap()).unwrap();
    assert_eq!(event["event"], "scan.finished");
    assert_eq!(event["scan"]["id"], ticket["id"]);
    assert_eq!(event["scan"]["status"], "done");
    assert_eq!(event["scan"]["verdict"], "blocked");
    assert_eq!(event["scan"]["page_url"], ticket["page_url"]);
    server.stop();
}

#[test]
fn a_registry_reference_is_pulled_and_scanned_like_its_archive() {
    if !have_tools(&["docker-registry", "skopeo"]) {
        return;
    }
    let registry = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let archive = work.path().join("eicar.tar");
    std::fs::write(&archive, docker_save_classic(&[eicar_image()]).to_tar()).unwrap();
    registry.push(
        &format!("docker-archive:{}", archive.display()),
        "shop/eicar:1",
        &[],
    );

    let dir = tempfile::tempdir().unwrap();
    let mut settings = config(dir.path(), 1, 10, false);
    settings.insecure_registries = vec![registry.host.clone()];
    let server = Server::start(settings).unwrap();
    let reference = format!("{}/shop/eicar:1", registry.host);
    for (bad, why) in [
        (
            serde_json::json!({"reference": "UPPER/Case:!"}),
            "reference",
        ),
        (serde_json::json!({"image": "x"}), "unknown field"),
        (
            serde_json::json!({"reference": reference, "callback_url": "ftp://x/"}),
            "callback_url",
        ),
    ] {
        let (status, body) = call(&server, None, "POST", "/api/v1/scans", Some(&bad));
        assert_eq!(status, 400, "{body}");
        assert!(body.to_string().contains(why), "{body}");
    }
    let (status, ticket) = call(
        &server,
        None,
        "POST",
        "/api/v1/scans",
        Some(
            &serde_json::json!({"reference": reference, "fail_on": "malware", "metadata": {"job": "7"}}),
        ),
    );
    assert_eq!(status, 202, "{ticket}");
    let pulled = wait(&server, None, ticket["id"].as_str().unwrap());
    assert_eq!(pulled["status"], "done", "{pulled}");
    assert_eq!(pulled["verdict"], "blocked");
    assert_eq!(pulled["reference"], reference);
    assert_eq!(pulled["metadata"]["job"], "7");
    let (status, ticket) = submit(
        &server,
        None,
        "?fail_on=malware",
        &std::fs::read(&archive).unwrap(),
    );
    assert_eq!(status, 202);
    let uploaded = wait(&server, None, ticket["id"].as_str().unwrap());
    let findings = |scan: &Value| {
        let report: Report = serde_json::from_value(scan["report"].clone()).unwrap();
        report.images[0].findings.clone()
    };
    assert_eq!(findings(&pulled), findings(&uploaded));
    assert!(!findings(&pulled).is_empty());
    server.stop();
}

#[test]
fn fifty_scans_from_ten_clients_all_end_and_a_full_queue_answers_503() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(config(dir.path(), 2, 8, false)).unwrap();
    let base = url(&server, "/api/v1/scans");
    let archives = std::sync::Arc::new([clean_archive(), eicar_archive()]);
    let clients: Vec<_> = (0..10)
        .map(|client| {
            let (base, archives) = (base.clone(), archives.clone());
            std::thread::spawn(move || {
                let mut refused = 0;
                let mut ids = Vec::new();
                for n in 0..5 {
                    let expected = if (client + n) % 2 == 0 {
                        "allowed"
                    } else {
                        "blocked"
                    };
                    let archive = &archives[(client + n) % 2];
                    loop {
                        let mut response = agent().post(&base).send(&archive[..]).unwrap();
                        match response.status().as_u16() {
                            202 => {
                                let ticket: Value = serde_json::from_str(
                                    &response.body_mut().read_to_string().unwrap(),
                                )
                                .unwrap();
                                ids.push((ticket["id"].as_str().unwrap().to_string(), expected));
                                break;
                            }
                            503 => {
                                assert!(response.headers().get("retry-after").is_some());
                                refused += 1;
                                std::thread::sleep(Duration::from_millis(50));
                            }
                            other => panic!("submission answered {other}"),
                        }
                    }
                }
                (ids, refused)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut refused = 0;
    for client in clients {
        let (ids, n) = client.join().unwrap();
        all.extend(ids);
        refused += n;
    }
    assert_eq!(all.len(), 50);
    assert!(refused > 0, "the queue of 8 never filled");
    for (id, expected) in &all {
        let scan = wait(&server, None, id);
        assert_eq!(scan["verdict"], *expected, "{scan}");
        assert_eq!(scan["attempts"], 1);
    }
    let mut unique: Vec<&String> = all.iter().map(|(id, _)| id).collect();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 50);
    let (_, _, index) = get(&server, None, "/");
    assert_eq!(index.matches("<tr><td>").count(), 50);
    server.stop();
}

#[test]
fn a_repeated_submission_with_the_same_idempotency_key_gets_the_first_scan() {
    let dir = tempfile::tempdir().unwrap();
    let first_key = create_key(dir.path(), None, "ci", false).unwrap();
    let other_key = create_key(dir.path(), None, "other", false).unwrap();
    let server = Server::start(config(dir.path(), 0, 10, true)).unwrap();
    let archive = clean_archive();
    let post = |key: &str, idempotency: Option<&str>| {
        let mut request = agent()
            .post(url(&server, "/api/v1/scans"))
            .header("apikey", key);
        if let Some(idempotency) = idempotency {
            request = request.header("Idempotency-Key", idempotency);
        }
        let mut response = request.send(&archive[..]).unwrap();
        let status = response.status().as_u16();
        let body: Value =
            serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
        (status, body["id"].as_str().unwrap_or_default().to_string())
    };
    let (status, first) = post(&first_key, Some("job-17-attempt"));
    assert_eq!(status, 202);
    assert_eq!(
        post(&first_key, Some("job-17-attempt")),
        (202, first.clone())
    );
    let (_, another) = post(&first_key, Some("job-18-attempt"));
    let (_, other_keys) = post(&other_key, Some("job-17-attempt"));
    let (_, without) = post(&first_key, None);
    let mut ids = vec![first, another, other_keys, without];
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        ids.len(),
        4,
        "idempotency keys are per API key and per submission"
    );
    assert_eq!(post(&first_key, Some("bad key with spaces")).0, 400);
    assert_eq!(
        std::fs::read_dir(dir.path().join("uploads"))
            .unwrap()
            .count(),
        4
    );
    server.stop();
}

#[test]
fn a_named_policy_from_the_data_directory_decides_the_verdict() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    // Blocks what the default lets through: the clean image's low configuration findings.
    std::fs::write(
        dir.path().join("policies/strict.yaml"),
        "fail-on: config:low\n",
    )
    .unwrap();
    let server = Server::start(config(dir.path(), 1, 10, false)).unwrap();
    let scan = |query: &str| {
        let (status, ticket) = submit(&server, None, query, &clean_archive());
        assert_eq!(status, 202, "{query}: {ticket}");
        wait(&server, None, ticket["id"].as_str().unwrap())
    };
    assert_eq!(scan("")["verdict"], "allowed");
    let strict = scan("?policy=strict");
    assert_eq!(strict["verdict"], "blocked", "{strict}");
    // fail_on still overrides the named policy's.
    assert_eq!(scan("?policy=strict&fail_on=malware")["verdict"], "allowed");
    for bad in [
        "?policy=lenient",
        "?policy=..%2Fstowaway",
        "?fail_on=nonsense",
    ] {
        let (status, body) = submit(&server, None, bad, &clean_archive());
        assert_eq!(status, 400, "{bad}: {body}");
    }
    server.stop();
}
