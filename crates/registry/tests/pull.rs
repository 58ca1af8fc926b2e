//! Pulls from a real registry (Debian's `docker-registry`, the CNCF distribution registry),
//! anonymously, with Basic auth (htpasswd) and with Docker Hub's Bearer token flow; images are
//! built in code and pushed with `skopeo`. What a pull yields must scan exactly as the image's
//! `docker save` archive does.

mod common;

use std::cell::Cell;
use std::path::Path;
use std::process::Command;

use base64::Engine as _;
use serde_json::{Value, json};
use stowaway_findings::ImageReport;
use stowaway_image::Platform;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, docker_save_classic, oci_layout, sha256,
};
use stowaway_registry::{PullOptions, Pulled, RegistryError, pull};
use stowaway_scan::analyzers::default_analyzers;
use stowaway_scan::{Input, Limits, NoProgress, ScanOptions};

use common::{Registry, TokenServer, have_tools};

/// The start of an x86-64 ELF executable: enough for the analyzers to call it one.
const ELF_STUB: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00";

const TOOLS: &[&str] = &["docker-registry", "skopeo"];

fn options(cache: &Path) -> PullOptions {
    let mut options = PullOptions::new(Platform::parse("linux/amd64").unwrap(), cache.into());
    // This machine's own docker config stays out of the tests.
    options.docker_config = Some(cache.join("no-docker-config.json"));
    options
}

fn scan(path: &Path, platform: &str) -> ImageReport {
    let options = ScanOptions {
        limits: Limits::default(),
        platform: Platform::parse(platform).unwrap(),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let mut reports =
        stowaway_scan::scan(&Input::Path(path.into()), &default_analyzers(), &options).unwrap();
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

/// Three layers (gzip and plain): an OS, an executable where none belongs, a whiteout.
fn image(tag: &str) -> Image {
    let mut base = LayerBuilder::new();
    base.dir("etc")
        .file(
            "etc/os-release",
            b"ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
        )
        .file("etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n")
        .file_mode("bin/ls", ELF_STUB, 0o755)
        .file_mode("tmp/dropper", ELF_STUB, 0o755);
    let mut second = LayerBuilder::new();
    second
        .whiteout("tmp/dropper")
        .file("app/new.txt", b"new")
        .file_mode("root/.cache/kworker", ELF_STUB, 0o700);
    let mut third = LayerBuilder::new();
    third.file("srv/www/index.html", b"<h1>hello</h1>");
    Image::new(
        &[tag],
        vec![
            Layer::new(base.build(), Compression::Gzip, "ADD rootfs.tar /"),
            Layer::new(second.build(), Compression::None, "RUN install"),
            Layer::new(third.build(), Compression::Gzip, "COPY www /srv/www"),
        ],
    )
}

/// Writes `image`'s `docker save` archive into `dir` and pushes it as `dest`.
fn push_archive(registry: &Registry, dir: &Path, image: &Image, dest: &str, extra: &[&str]) {
    let archive = dir.join(format!("{}.tar", dest.replace(['/', ':'], "_")));
    std::fs::write(
        &archive,
        docker_save_classic(std::slice::from_ref(image)).to_tar(),
    )
    .unwrap();
    registry.push(
        &format!("docker-archive:{}", archive.display()),
        dest,
        extra,
    );
}

fn index_json(pulled: &Pulled) -> Value {
    serde_json::from_slice(&std::fs::read(pulled.layout.path().join("index.json")).unwrap())
        .unwrap()
}

#[test]
fn anonymous_pull_scans_like_the_archive() {
    if !have_tools(TOOLS) {
        return;
    }
    let registry = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let image = image("ns/app:1.0");
    push_archive(&registry, work.path(), &image, "ns/app:1.0", &[]);

    let cache = work.path().join("cache");
    let reference = format!("{}/ns/app:1.0", registry.host);
    let downloaded = Cell::new(0);
    let pulled = pull(&reference, &options(&cache), &|n| downloaded.set(n)).unwrap();
    assert_eq!(pulled.reference, reference);
    assert_eq!(pulled.index_digest, None);

    // skopeo pushed a Docker v2 schema 2 manifest; the layout keeps it as served.
    let index = index_json(&pulled);
    let entry = &index["manifests"][0];
    assert_eq!(
        entry["mediaType"],
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(entry["digest"], pulled.manifest_digest);
    assert_eq!(
        entry["annotations"]["org.opencontainers.image.ref.name"],
        reference
    );
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            pulled
                .layout
                .path()
                .join("blobs/sha256")
                .join(&pulled.manifest_digest["sha256:".len()..]),
        )
        .unwrap(),
    )
    .unwrap();
    let blob_bytes: u64 = std::iter::once(&manifest["config"])
        .chain(manifest["layers"].as_array().unwrap())
        .map(|d| d["size"].as_u64().unwrap())
        .sum();
    assert_eq!(
        downloaded.get(),
        blob_bytes,
        "progress reports every blob byte"
    );

    let pulled_report = scan(pulled.layout.path(), "linux/amd64");
    let archive = work.path().join("direct.tar");
    std::fs::write(&archive, docker_save_classic(&[image]).to_tar()).unwrap();
    let archive_report = scan(&archive, "linux/amd64");

    assert_eq!(pulled_report.name, reference);
    assert_eq!(pulled_report.tags, std::slice::from_ref(&reference));
    assert_eq!(
        pulled_report.manifest_digest.as_deref(),
        Some(pulled.manifest_digest.as_str())
    );
    assert_eq!(pulled_report.config_digest, archive_report.config_digest);
    let layers = |report: &ImageReport| {
        report
            .layers
            .iter()
            .map(|l| {
                (
                    l.diff_id.clone(),
                    l.uncompressed_size,
                    l.entries,
                    l.integrity,
                    l.created_by.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(layers(&pulled_report).len(), 3);
    assert_eq!(layers(&pulled_report), layers(&archive_report));
    assert_eq!(pulled_report.inventory, archive_report.inventory);
    assert_eq!(pulled_report.os, archive_report.os);
    assert!(
        !archive_report.findings.is_empty(),
        "the image has something to find"
    );
    assert_eq!(pulled_report.findings, archive_report.findings);

    // Pinned by digest: the same manifest.
    let pinned = format!("{}/ns/app@{}", registry.host, pulled.manifest_digest);
    let by_digest = pull(&pinned, &options(&cache), &|_| {}).unwrap();
    assert_eq!(by_digest.manifest_digest, pulled.manifest_digest);
    assert_eq!(by_digest.reference, pinned);

    // Errors name the reference, the request and the status.
    let missing = format!("{}/ns/app:nope", registry.host);
    let error = pull(&missing, &options(&cache), &|_| {}).unwrap_err();
    assert!(matches!(error, RegistryError::Status { status: 404, .. }));
    assert_eq!(
        error.to_string(),
        format!("pulling {missing}: manifest not found (404, GET /v2/ns/app/manifests/nope)")
    );
    let unknown = format!("{}/ns/app@sha256:{}", registry.host, "0".repeat(64));
    let error = pull(&unknown, &options(&cache), &|_| {}).unwrap_err();
    assert!(
        error.to_string().contains("manifest not found (404"),
        "{error}"
    );
}

/// An OCI layout whose `index.json` names one image index (`ref.name` = `multi`) of the images,
/// one per platform: what `skopeo copy --all` pushes as a multi-platform image.
fn write_multi_platform_layout(dir: &Path, images: &[Image]) {
    let mut members = oci_layout(images, true);
    let position = members
        .files
        .iter()
        .position(|(name, _)| name == "index.json")
        .unwrap();
    let (_, flat) = members.files.remove(position);
    let mut flat: Value = serde_json::from_slice(&flat).unwrap();
    let mut manifests = flat["manifests"].take();
    for descriptor in manifests.as_array_mut().unwrap() {
        descriptor.as_object_mut().unwrap().remove("annotations");
    }
    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    }))
    .unwrap();
    let top = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": sha256(&index),
            "size": index.len(),
            "annotations": {"org.opencontainers.image.ref.name": "multi"},
        }],
    });
    members.files.push((
        format!("blobs/sha256/{}", &sha256(&index)["sha256:".len()..]),
        index,
    ));
    members
        .files
        .push(("index.json".into(), serde_json::to_vec(&top).unwrap()));
    members.write_dir(dir).unwrap();
}

fn platform_image(architecture: &str) -> Image {
    let mut layer = LayerBuilder::new();
    layer
        .file("etc/os-release", b"ID=alpine\nVERSION_ID=3.19.1\n")
        .file(&format!("arch/{architecture}"), architecture.as_bytes());
    Image::new(
        &["ns/multi:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "ADD rootfs /")],
    )
    .with_platform("linux", architecture)
}

#[test]
fn multi_platform_index_selects_the_platform() {
    if !have_tools(TOOLS) {
        return;
    }
    let registry = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    let layout = work.path().join("layout");
    write_multi_platform_layout(&layout, &[platform_image("amd64"), platform_image("arm64")]);
    registry.push(
        &format!("oci:{}:multi", layout.display()),
        "ns/multi:1",
        &["--all"],
    );
    let reference = format!("{}/ns/multi:1", registry.host);
    let cache = work.path().join("cache");
    let mut pulled_digests = Vec::new();
    for architecture in ["amd64", "arm64"] {
        let platform = format!("linux/{architecture}");
        let mut options = options(&cache);
        options.platform = Platform::parse(&platform).unwrap();
        let pulled = pull(&reference, &options, &|_| {}).unwrap();
        assert!(pulled.index_digest.is_some());
        let report = scan(pulled.layout.path(), &platform);
        assert_eq!(report.platform.as_deref(), Some(platform.as_str()));
        assert_eq!(report.name, reference);
        let paths: Vec<&str> = report.inventory.iter().map(|e| e.path.as_str()).collect();
        assert!(
            paths.contains(&format!("arch/{architecture}").as_str()),
            "{paths:?}"
        );
        pulled_digests.push((pulled.index_digest.clone(), pulled.manifest_digest.clone()));
    }
    assert_eq!(pulled_digests[0].0, pulled_digests[1].0, "one index");
    assert_ne!(pulled_digests[0].1, pulled_digests[1].1, "two manifests");

    // The index pinned by digest selects the same way.
    let index_digest = pulled_digests[1].0.clone().unwrap();
    let mut arm = options(&cache);
    arm.platform = Platform::parse("linux/arm64/v8").unwrap();
    let pinned = pull(
        &format!("{}/ns/multi@{index_digest}", registry.host),
        &arm,
        &|_| {},
    )
    .unwrap();
    assert_eq!(pinned.manifest_digest, pulled_digests[1].1);

    let mut s390x = options(&cache);
    s390x.platform = Platform::parse("linux/s390x").unwrap();
    let error = pull(&reference, &s390x, &|_| {}).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!(
            "pulling {reference}: no image for platform linux/s390x (available: linux/amd64, \
             linux/arm64); choose one with --platform"
        )
    );
}

#[test]
fn basic_auth_with_explicit_and_docker_config_credentials() {
    if !have_tools(&["docker-registry", "skopeo", "htpasswd"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let htpasswd = work.path().join("htpasswd");
    // The registry accepts only bcrypt entries.
    let output = Command::new("htpasswd")
        .args(["-Bbn", "alice", "wonder land"])
        .output()
        .unwrap();
    assert!(output.status.success());
    std::fs::write(&htpasswd, &output.stdout).unwrap();
    let registry = Registry::start(&format!(
        "  htpasswd:\n    realm: stowaway-test\n    path: {}\n",
        htpasswd.display()
    ));
    push_archive(
        &registry,
        work.path(),
        &image("private/app:2"),
        "private/app:2",
        &["--dest-creds", "alice:wonder land"],
    );
    let reference = format!("{}/private/app:2", registry.host);
    let cache = work.path().join("cache");

    let error = pull(&reference, &options(&cache), &|_| {}).unwrap_err();
    assert!(
        matches!(error, RegistryError::Unauthorized { .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        format!(
            "pulling {reference}: authentication failed (401, GET /v2/private/app/manifests/2): \
             {} needs credentials, and none were given or found in the docker config",
            registry.host
        )
    );

    let mut explicit = options(&cache);
    explicit.credentials = Some(("alice".into(), "wonder land".into()));
    let pulled = pull(&reference, &explicit, &|_| {}).unwrap();
    assert_eq!(scan(pulled.layout.path(), "linux/amd64").name, reference);

    explicit.credentials = Some(("alice".into(), "wrong password".into()));
    let error = pull(&reference, &explicit, &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("authentication failed (401")
            && error.contains("the registry refused the credentials"),
        "{error}"
    );
    assert!(!error.contains("wrong password"));

    // `docker login`'s config: `auth` is base64 of user:password.
    let config = work.path().join("docker-config.json");
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:wonder land");
    std::fs::write(
        &config,
        json!({"auths": {(registry.host.clone()): {"auth": auth}}}).to_string(),
    )
    .unwrap();
    let mut from_config = options(&cache);
    from_config.docker_config = Some(config);
    let pulled = pull(&reference, &from_config, &|_| {}).unwrap();
    assert_eq!(scan(pulled.layout.path(), "linux/amd64").name, reference);
}

#[test]
fn bearer_token_auth_like_docker_hub() {
    if !have_tools(&["docker-registry", "skopeo", "openssl"]) {
        return;
    }
    let tokens = TokenServer::start("bob", "hunter2");
    let registry = Registry::start(&tokens.registry_auth());
    let work = tempfile::tempdir().unwrap();
    push_archive(
        &registry,
        work.path(),
        &image("team/svc:3"),
        "team/svc:3",
        &["--dest-creds", "bob:hunter2"],
    );
    let reference = format!("{}/team/svc:3", registry.host);
    let cache = work.path().join("cache");

    let before = tokens.requests.load(std::sync::atomic::Ordering::SeqCst);
    let mut with_credentials = options(&cache);
    with_credentials.credentials = Some(("bob".into(), "hunter2".into()));
    let pulled = pull(&reference, &with_credentials, &|_| {}).unwrap();
    let report = scan(pulled.layout.path(), "linux/amd64");
    assert_eq!(report.name, reference);
    assert_eq!(report.layers.len(), 3);
    let after = tokens.requests.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        after - before,
        1,
        "one token serves the manifest and every blob"
    );

    with_credentials.credentials = Some(("bob".into(), "hunter3".into()));
    let error = pull(&reference, &with_credentials, &|_| {})
        .unwrap_err()
        .to_string();
    assert_eq!(
        error,
        format!(
            "pulling {reference}: authentication failed (401, GET /v2/team/svc/manifests/3): \
             the token server {} refused the credentials (401) for {}",
            tokens.realm, registry.host
        )
    );
    assert!(!error.contains("hunter"));

    let error = pull(&reference, &options(&cache), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(error.contains("needs credentials"), "{error}");
}

#[test]
fn blob_cache_skips_verified_blobs_and_replaces_corrupt_ones() {
    if !have_tools(TOOLS) {
        return;
    }
    let registry = Registry::start("");
    let work = tempfile::tempdir().unwrap();
    push_archive(
        &registry,
        work.path(),
        &image("ns/cached:1"),
        "ns/cached:1",
        &[],
    );
    let reference = format!("{}/ns/cached:1", registry.host);
    let cache = work.path().join("cache");

    let first = pull(&reference, &options(&cache), &|_| {}).unwrap();
    assert_eq!(registry.blob_downloads(), 4, "config and three layers");
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(
            first
                .layout
                .path()
                .join("blobs/sha256")
                .join(&first.manifest_digest["sha256:".len()..]),
        )
        .unwrap(),
    )
    .unwrap();
    let layer_digest = manifest["layers"][0]["digest"]
        .as_str()
        .unwrap()
        .to_string();
    let cached_layer = cache
        .join("blobs/sha256")
        .join(&layer_digest["sha256:".len()..]);
    let original = std::fs::read(&cached_layer).unwrap();
    drop(first);

    // Everything cached: the second pull asks the registry for the manifest only.
    let downloaded = Cell::new(0);
    let second = pull(&reference, &options(&cache), &|n| downloaded.set(n)).unwrap();
    assert_eq!(registry.blob_downloads(), 4);
    assert_eq!(downloaded.get(), 0);
    scan(second.layout.path(), "linux/amd64");
    drop(second);

    // A cached blob damaged in place (same size) is found and downloaded again.
    let mut damaged = original.clone();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    std::fs::remove_file(&cached_layer).unwrap();
    std::fs::write(&cached_layer, &damaged).unwrap();
    let third = pull(&reference, &options(&cache), &|_| {}).unwrap();
    assert_eq!(registry.blob_downloads(), 5, "only the damaged blob");
    assert_eq!(std::fs::read(&cached_layer).unwrap(), original);
    assert_eq!(scan(third.layout.path(), "linux/amd64").layers.len(), 3);

    // The registry serving other bytes than the digest names: an error, and nothing cached.
    let manifest_digest = third.manifest_digest.clone();
    let stored = registry.stored_blob(&layer_digest);
    std::fs::write(&stored, &damaged).unwrap();
    let fresh = work.path().join("fresh-cache");
    let error = pull(&reference, &options(&fresh), &|_| {}).unwrap_err();
    assert!(matches!(error, RegistryError::Invalid { .. }), "{error}");
    assert_eq!(
        error.to_string(),
        format!(
            "pulling {reference}: blob {layer_digest} does not match its digest (the registry sent {})",
            sha256(&damaged)
        )
    );
    let left: Vec<String> = std::fs::read_dir(fresh.join("blobs/sha256"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        !left
            .iter()
            .any(|name| *name == layer_digest["sha256:".len()..] || name.starts_with(".partial")),
        "{left:?}"
    );
    // …or another size.
    let mut longer = original.clone();
    longer.extend_from_slice(b"trailing");
    std::fs::write(&stored, &longer).unwrap();
    let error = pull(&reference, &options(&fresh), &|_| {})
        .unwrap_err()
        .to_string();
    assert!(
        error.contains(&format!(
            "blob {layer_digest} is {} bytes, the manifest says {}",
            longer.len(),
            original.len()
        )),
        "{error}"
    );

    // A manifest that is not the one its digest names (still valid JSON: a space added).
    let stored_manifest = registry.stored_blob(&manifest_digest);
    let mut altered = std::fs::read(&stored_manifest).unwrap();
    altered.push(b' ');
    std::fs::write(&stored_manifest, &altered).unwrap();
    let pinned = format!("{}/ns/cached@{manifest_digest}", registry.host);
    let error = pull(&pinned, &options(&fresh), &|_| {}).unwrap_err();
    assert!(matches!(error, RegistryError::Invalid { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("its content's is {}", sha256(&altered))),
        "{error}"
    );
}
