//! What the service's tests share: images to submit, a server configuration on a free loopback
//! port, and HTTP calls (submit, get, wait for a scan to end).

#![allow(dead_code)] // Each test file uses its own part.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, docker_save_oci, gzip, zip_of,
};
use stowaway_server::{ServerConfig, ServerHandle};

pub const EICAR: &[u8] = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

/// EICAR as a plain file, inside a zip inside a tar.gz, and in a file a later layer deletes.
pub fn eicar_archive() -> Vec<u8> {
    docker_save_oci(&[eicar_image()]).to_tar()
}

/// The image of [`eicar_archive`].
pub fn eicar_image() -> Image {
    let mut inner = LayerBuilder::new();
    inner.file("bin/payload.zip", &zip_of(&[("eicar.com", EICAR)]));
    let mut base = LayerBuilder::new();
    base.file("srv/eicar.com", EICAR)
        .file("opt/bundle.tar.gz", &gzip(&inner.build()))
        .file("tmp/dropped", EICAR);
    let mut cleanup = LayerBuilder::new();
    cleanup.whiteout("tmp/dropped");
    Image::new(
        &["eicar:1"],
        vec![
            Layer::new(base.build(), Compression::Gzip, "COPY . /"),
            Layer::new(cleanup.build(), Compression::Gzip, "RUN rm /tmp/dropped"),
        ],
    )
}

/// A token of GitHub's format (not a real one), split so this file holds none.
pub const GITHUB_TOKEN: &str = concat!("ghp_", "R8fK2mQ9vXw4LpT7nYb3HcJ6dSa1EuZ0gVx5");

/// A token in a file of the app and in the image's environment.
pub fn secrets_archive() -> Vec<u8> {
    let mut layer = LayerBuilder::new();
    layer.file(
        "srv/app/.env",
        format!("DEBUG=0\nGITHUB_TOKEN={GITHUB_TOKEN}\n").as_bytes(),
    );
    let mut image = Image::new(
        &["secrets:1"],
        vec![Layer::new(
            layer.build(),
            Compression::Gzip,
            "COPY app /srv/app",
        )],
    );
    image.settings["User"] = "1000:1000".into();
    image.settings["Env"] = serde_json::json!([format!("GH_TOKEN={GITHUB_TOKEN}")]);
    docker_save_oci(&[image]).to_tar()
}

pub fn clean_archive() -> Vec<u8> {
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

pub fn config(dir: &Path, workers: usize, queue_limit: usize, keys: bool) -> ServerConfig {
    let mut config = ServerConfig::new(dir);
    config.listen = Some("127.0.0.1:0".parse().unwrap());
    config.workers = workers;
    config.queue_limit = queue_limit;
    config.api_keys_required = keys;
    config.max_upload_bytes = 1 << 20;
    config
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub fn url(server: &ServerHandle, path: &str) -> String {
    format!("http://{}{path}", server.addr().unwrap())
}

/// POSTs `body` to /api/v1/scans`query`; the status and the JSON (or text) answer.
pub fn submit(server: &ServerHandle, key: Option<&str>, query: &str, body: &[u8]) -> (u16, Value) {
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

pub fn get(server: &ServerHandle, key: Option<&str>, path: &str) -> (u16, String, String) {
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
pub fn wait(server: &ServerHandle, key: Option<&str>, id: &str) -> Value {
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

/// Sends `method path` with a JSON `body` (or none); the status and the JSON (or text) answer.
pub fn call(
    server: &ServerHandle,
    key: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url(server, path))
        .header("content-type", "application/json");
    let request = match key {
        Some(key) => request.header("authorization", format!("Bearer {key}")),
        None => request,
    };
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut response = agent().run(request.body(body).unwrap()).unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}
