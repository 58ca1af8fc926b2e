//! The service on PostgreSQL: an API node and worker nodes sharing one database and one data
//! directory, as on several machines. Workers claim scans with `FOR UPDATE SKIP LOCKED`; a dead
//! worker's scan is taken again when its lease runs out, a live one's never.
//!
//! These tests need a PostgreSQL server: they run when `DATABASE_URL` is set (`.ci/run` sets it)
//! and say they are skipped when it is not. Each works in a schema of its own, dropped at the end.

mod common;

use std::time::Duration;

use common::*;
use r2d2_postgres::postgres::{Client, NoTls};
use serde_json::Value;
use stowaway_server::{Server, ServerConfig, create_key};

/// A fresh schema in `$DATABASE_URL`'s database, dropped when this is dropped.
struct Schema {
    admin: Client,
    name: String,
    /// `$DATABASE_URL` with this schema first on the search path.
    url: String,
}

impl Schema {
    fn new() -> Option<Schema> {
        let Ok(base) = std::env::var("DATABASE_URL") else {
            eprintln!(
                "skipped: DATABASE_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)"
            );
            return None;
        };
        let mut admin = Client::connect(&base, NoTls)
            .unwrap_or_else(|e| panic!("DATABASE_URL is set but PostgreSQL is not reachable: {e}"));
        let mut random = [0u8; 6];
        getrandom::fill(&mut random).unwrap();
        let name = format!("stowaway_test_{}", hex::encode(random));
        admin
            .batch_execute(&format!("CREATE SCHEMA {name}"))
            .unwrap();
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-csearch_path%3D{name}");
        Some(Schema { admin, name, url })
    }

    /// `(id, attempts, endings, worker)` of every scan.
    fn scans(&mut self) -> Vec<(String, i64, i64, Option<String>)> {
        self.admin
            .query(
                &format!(
                    "SELECT id, attempts, endings, worker FROM {}.scans ORDER BY seq",
                    self.name
                ),
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
            .collect()
    }

    fn execute(&mut self, sql: &str) {
        self.admin
            .batch_execute(&format!("SET search_path TO {}; {sql}", self.name))
            .unwrap();
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let _ = self
            .admin
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.name));
    }
}

fn node(dir: &std::path::Path, url: &str, workers: usize, http: bool) -> ServerConfig {
    let mut config = config(dir, workers, 100, false);
    config.database = Some(url.to_string());
    config.poll = Duration::from_millis(50);
    config.lease = Duration::from_secs(4);
    if !http {
        config.listen = None;
    }
    config
}

#[test]
fn two_worker_nodes_on_postgres_never_run_the_same_scan_twice() {
    let Some(mut schema) = Schema::new() else {
        return;
    };
    let shared = tempfile::tempdir().unwrap();
    let key = create_key(shared.path(), Some(&schema.url), "ci", false).unwrap();
    let mut api = node(shared.path(), &schema.url, 0, true);
    api.api_keys_required = true;
    let api = Server::start(api).unwrap();
    let (clean, eicar) = (clean_archive(), eicar_archive());
    let mut ids = Vec::new();
    for n in 0..12 {
        let (status, ticket) = submit(
            &api,
            Some(&key),
            "?fail_on=malware",
            if n % 3 == 0 { &eicar } else { &clean },
        );
        assert_eq!(status, 202, "{ticket}");
        ids.push(ticket["id"].as_str().unwrap().to_string());
    }
    // Two worker nodes start together on the queued scans.
    let starts: Vec<_> = (0..2)
        .map(|_| {
            let config = node(shared.path(), &schema.url, 2, false);
            std::thread::spawn(move || Server::start(config).unwrap())
        })
        .collect();
    let workers: Vec<_> = starts.into_iter().map(|s| s.join().unwrap()).collect();
    for (n, id) in ids.iter().enumerate() {
        let scan: Value = wait(&api, Some(&key), id);
        assert_eq!(scan["status"], "done", "{scan}");
        let expected = if n % 3 == 0 { "blocked" } else { "allowed" };
        assert_eq!(scan["verdict"], expected, "{scan}");
    }
    let scans = schema.scans();
    assert_eq!(scans.len(), 12);
    for (id, attempts, endings, _) in &scans {
        assert_eq!((*attempts, *endings), (1, 1), "scan {id}");
    }
    let mut threads: Vec<&str> = scans.iter().filter_map(|s| s.3.as_deref()).collect();
    threads.sort_unstable();
    threads.dedup();
    assert!(
        threads.len() >= 2,
        "one worker took every scan: {threads:?}"
    );
    // The uploads, in the shared directory, are gone.
    assert_eq!(
        std::fs::read_dir(shared.path().join("uploads"))
            .unwrap()
            .count(),
        0
    );
    for worker in workers {
        worker.stop();
    }
    api.stop();
}

#[test]
fn a_dead_workers_scan_is_taken_again_when_its_lease_ends_and_a_live_ones_never() {
    let Some(mut schema) = Schema::new() else {
        return;
    };
    let shared = tempfile::tempdir().unwrap();
    let api = Server::start(node(shared.path(), &schema.url, 0, true)).unwrap();
    let (_, dead) = submit(&api, None, "?fail_on=malware", &eicar_archive());
    let (_, alive) = submit(&api, None, "", &clean_archive());
    let (dead, alive) = (dead["id"].as_str().unwrap(), alive["id"].as_str().unwrap());
    // What a worker killed mid-scan leaves: scanning, its lease in the past; and a scan another
    // machine's worker holds with a lease an hour ahead.
    let now_ms = "(extract(epoch from now()) * 1000)::bigint";
    schema.execute(&format!(
        "UPDATE scans SET status = 'scanning', worker = 'killed', attempts = 1, lease_until = {now_ms} - 1000 WHERE id = '{dead}';
         UPDATE scans SET status = 'scanning', worker = 'elsewhere', attempts = 1, lease_until = {now_ms} + 3600000 WHERE id = '{alive}';"
    ));
    let worker = Server::start(node(shared.path(), &schema.url, 1, false)).unwrap();
    let scan = wait(&api, None, dead);
    assert_eq!(scan["verdict"], "blocked", "{scan}");
    assert_eq!(scan["attempts"], 2);
    std::thread::sleep(Duration::from_millis(500));
    let (_, _, body) = get(&api, None, &format!("/api/v1/scans/{alive}"));
    let held: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(held["status"], "scanning", "{held}");
    assert_eq!(held["attempts"], 1);
    let scans = schema.scans();
    let ended: Vec<i64> = scans.iter().map(|s| s.2).collect();
    assert_eq!(ended, [1, 0]);
    worker.stop();
    api.stop();
}
