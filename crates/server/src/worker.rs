//! What a worker does with a claimed scan: fetch its input (the upload, or a pull of its
//! registry reference), scan it while renewing its lease and recording progress, store the
//! outcome with the digests it saw, delete the upload, and notify the scan's callback URL.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use stowaway_findings::Report;
use stowaway_registry::{PullOptions, pull};
use stowaway_scan::Progress;

use crate::engine::{error_chain, platform};
use crate::store::Outcome;
use crate::{AppState, ScanId, status_json};

/// Progress of one scan, read by its lease-renewing thread.
#[derive(Default)]
struct Percent {
    total: AtomicU64,
    read: AtomicU64,
    layers: AtomicUsize,
    layers_done: AtomicUsize,
}

impl Progress for Percent {
    fn start(&self, bytes: Option<u64>, layers: usize) {
        self.total.store(bytes.unwrap_or(0), Ordering::Relaxed);
        self.layers.store(layers, Ordering::Relaxed);
    }
    fn advance(&self, bytes: u64) {
        self.read.fetch_add(bytes, Ordering::Relaxed);
    }
    fn layer_done(&self) {
        self.layers_done.fetch_add(1, Ordering::Relaxed);
    }
}

impl Percent {
    /// 0–99: 100 is for a stored outcome.
    fn get(&self) -> i64 {
        let (total, read) = (
            self.total.load(Ordering::Relaxed),
            self.read.load(Ordering::Relaxed),
        );
        let (layers, done) = (
            self.layers.load(Ordering::Relaxed),
            self.layers_done.load(Ordering::Relaxed),
        );
        let fraction = if total > 0 {
            read as f64 / total as f64
        } else if layers > 0 {
            done as f64 / layers as f64
        } else {
            0.0
        };
        ((fraction * 100.0) as i64).clamp(0, 99)
    }
}

/// Every `sha256:` digest in `report` a later `/api/v1/hash` may ask for: the images' ids and
/// manifests, the layers, the files and the archive members.
fn digests(report: &Report, archive: Option<&str>) -> Vec<String> {
    let mut digests: Vec<String> = archive.map(str::to_string).into_iter().collect();
    for image in &report.images {
        digests.extend(image.config_digest.clone());
        digests.extend(image.manifest_digest.clone());
        for layer in &image.layers {
            digests.extend(layer.diff_id.clone());
            digests.extend(layer.blob_digest.clone());
        }
        digests.extend(
            image
                .inventory
                .iter()
                .filter_map(|e| e.sha256.map(|d| d.to_string())),
        );
        digests.extend(image.archive_members.iter().map(|m| m.sha256.to_string()));
    }
    digests.sort_unstable();
    digests.dedup();
    digests
}

impl AppState {
    /// Claims and runs scans until the queue closes; what a worker thread does.
    pub fn work(&self, worker: &str) {
        let shared = &self.inner;
        while !shared.queue.closed() {
            match shared.store.claim(worker, shared.lease) {
                Ok(Some(id)) => self.run_scan(&id, worker),
                Ok(None) => {
                    shared.queue.wait(shared.poll);
                }
                Err(error) => {
                    eprintln!("stowaway: worker {worker}: taking a scan: {error}");
                    shared.queue.wait(shared.poll);
                }
            }
        }
    }

    fn run_scan(&self, id: &str, worker: &str) {
        let Some(id) = ScanId::parse(id) else { return };
        let shared = &self.inner;
        let row = match shared.store.scan(&id.0) {
            Ok(Some(row)) => row,
            Ok(None) => return,
            Err(error) => {
                eprintln!("stowaway: scan {}: {error}", id.0);
                return;
            }
        };
        let metadata: BTreeMap<String, String> =
            serde_json::from_str(&row.metadata_json).unwrap_or_default();
        let progress = Percent::default();
        let (done, stop) = mpsc::channel::<()>();
        let outcome = std::thread::scope(|scope| {
            let (id, progress) = (&id, &progress);
            scope.spawn(move || {
                // Renews the lease a few times per lease, whatever the scan is doing, and at least
                // every second, for the progress the status shows.
                let every = (shared.lease / 4).min(Duration::from_secs(1));
                while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(every) {
                    if let Err(error) =
                        shared
                            .store
                            .renew(&id.0, worker, shared.lease, progress.get())
                    {
                        eprintln!("stowaway: scan {}: renewing the lease: {error}", id.0);
                    }
                }
            });
            let outcome = self.scan_input(id, row.reference.as_deref(), &metadata, progress);
            drop(done);
            outcome
        });
        let stored = match outcome {
            Ok(scanned) => match serde_json::to_string(&scanned.report) {
                Ok(json) => shared.store.finish(
                    &id.0,
                    worker,
                    &Outcome {
                        report_json: &json,
                        blocked: scanned.blocked,
                        summary: &scanned.summary,
                        digests: &digests(
                            &scanned.report,
                            metadata.get("archive_sha256").map(String::as_str),
                        ),
                    },
                ),
                Err(error) => {
                    shared
                        .store
                        .fail(&id.0, worker, &format!("serialising the report: {error}"))
                }
            },
            Err(reason) => shared.store.fail(&id.0, worker, &reason),
        };
        match stored {
            // Only once the outcome is stored: a crash before re-runs the scan from its upload.
            Ok(true) => {
                if !shared.retain_uploads {
                    let _ = std::fs::remove_file(self.upload_path(&id));
                }
                if let Some(url) = metadata.get("callback_url") {
                    self.notify(&id, url.clone());
                }
            }
            Ok(false) => eprintln!(
                "stowaway: scan {}: another worker took it over (this worker's lease ran out); its outcome is dropped",
                id.0
            ),
            Err(error) => eprintln!("stowaway: storing scan {}: {error}", id.0),
        }
    }

    /// Scans the upload of `id`, or pulls and scans `reference`.
    fn scan_input(
        &self,
        id: &ScanId,
        reference: Option<&str>,
        metadata: &BTreeMap<String, String>,
        progress: &Percent,
    ) -> Result<crate::engine::Scanned, String> {
        let shared = &self.inner;
        match reference {
            Some(reference) => {
                let mut options = PullOptions::new(platform(), shared.data_dir.join("registry"));
                options.insecure = shared.insecure_registries.clone();
                let pulled = pull(reference, &options, &|_| {})
                    .map_err(|e| format!("pulling {reference}: {}", error_chain(&e)))?;
                let name = metadata.get("name").map_or(reference, String::as_str);
                shared
                    .engines
                    .scan(pulled.layout.path(), name, metadata, progress)
            }
            None => {
                let upload: PathBuf = self.upload_path(id);
                if !upload.is_file() {
                    return Err(
                        "the uploaded archive is gone (deleted before it was scanned)".into(),
                    );
                }
                let fallback = format!("upload {}", id.0);
                let name = metadata.get("name").unwrap_or(&fallback);
                shared.engines.scan(&upload, name, metadata, progress)
            }
        }
    }

    /// POSTs the scan's status (without the report) to `url`, on a thread of its own: three
    /// tries, 1 s then 4 s apart; a callback that never answers does not hold a worker.
    fn notify(&self, id: &ScanId, url: String) {
        let body = match self.inner.store.scan(&id.0) {
            Ok(Some(row)) => status_json(&row, serde_json::Value::Null),
            _ => return,
        };
        let id = id.0.clone();
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .into();
            let body = json!({ "event": "scan.finished", "scan": body }).to_string();
            for (attempt, pause) in [1u64, 4, 0].into_iter().enumerate() {
                match agent
                    .post(&url)
                    .header("content-type", "application/json")
                    .send(&body)
                {
                    Ok(_) => return,
                    Err(error) if pause == 0 => eprintln!(
                        "stowaway: scan {id}: callback failed after {} tries: {error}",
                        attempt + 1
                    ),
                    Err(_) => std::thread::sleep(Duration::from_secs(pause)),
                }
            }
        });
    }
}
