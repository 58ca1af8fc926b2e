//! Archives with several images, indexes with several platforms, and images whose bytes do not
//! match their own digests.

mod common;

use common::*;
use stowaway_findings::{Integrity, Kind, Severity};
use stowaway_image::Platform;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, docker_save_classic, docker_save_oci, oci_layout,
};

fn two_images() -> Vec<Image> {
    let base = fixture_layers(Compression::Gzip).remove(0);
    let mut web = LayerBuilder::new();
    web.file("srv/www/index.html", b"<h1>hi</h1>");
    let mut worker = LayerBuilder::new();
    worker.file_mode("tmp/worker", ELF, 0o755);
    vec![
        Image::new(
            &["web:1", "web:latest"],
            vec![
                base.clone(),
                Layer::new(web.build(), Compression::Gzip, "COPY www"),
            ],
        ),
        Image::new(
            &["registry.local/worker:2"],
            vec![
                base,
                Layer::new(worker.build(), Compression::Gzip, "COPY worker"),
            ],
        ),
    ]
}

#[test]
fn every_image_of_a_multi_image_archive_is_scanned() {
    for members in [
        docker_save_classic(&two_images()),
        docker_save_oci(&two_images()),
    ] {
        // The shared base layer is stored once (classic: linked), and scanned for both images.
        let reports = scan_bytes(&members.to_tar()).unwrap();
        let names: Vec<&str> = reports.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["web:1", "registry.local/worker:2"]);
        assert_eq!(reports[0].tags, vec!["web:1", "web:latest"]);
        assert_eq!(reports[0].layers[0].diff_id, reports[1].layers[0].diff_id);
        assert!(
            reports[1]
                .findings
                .iter()
                .any(|f| f.location.as_ref().unwrap().path == "tmp/worker")
        );
        assert!(
            !reports[0]
                .findings
                .iter()
                .any(|f| f.location.as_ref().unwrap().path == "tmp/worker")
        );
    }
}

#[test]
fn image_flag_selects_one_by_tag() {
    let archive = docker_save_classic(&two_images()).to_tar();
    let mut options = options();
    options.image = Some("web".into()); // means web:latest
    let reports = scan_bytes_with(&archive, &options).unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].name, "web:1");

    options.image = Some("registry.local/worker:2".into());
    assert_eq!(
        scan_bytes_with(&archive, &options).unwrap()[0].name,
        "registry.local/worker:2"
    );

    options.image = Some("nope:1".into());
    let error = scan_bytes_with(&archive, &options).unwrap_err().to_string();
    assert!(
        error.contains("no image tagged 'nope:1'") && error.contains("web:latest"),
        "{error}"
    );
}

fn multi_platform() -> Vec<Image> {
    let mut amd = LayerBuilder::new();
    amd.file("arch", b"amd64");
    let mut arm = LayerBuilder::new();
    arm.file("arch", b"arm64");
    vec![
        Image::new(
            &["tool:1"],
            vec![Layer::new(amd.build(), Compression::Gzip, "amd")],
        ),
        Image::new(
            &["tool:1"],
            vec![Layer::new(arm.build(), Compression::Gzip, "arm")],
        )
        .with_platform("linux", "arm64"),
    ]
}

#[test]
fn platform_is_chosen_from_a_multi_platform_index() {
    let archive = oci_layout(&multi_platform(), true).to_tar();
    let amd = only(scan_bytes(&archive).unwrap());
    assert_eq!(amd.platform.as_deref(), Some("linux/amd64"));
    assert_eq!(amd.layers[0].created_by.as_deref(), Some("amd"));

    let mut options = options();
    options.platform = Platform::parse("linux/arm64").unwrap();
    let arm = only(scan_bytes_with(&archive, &options).unwrap());
    assert_eq!(arm.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(
        arm.inventory[0].sha256.map(|d| d.to_string()).as_deref(),
        Some(stowaway_imagebuilder::sha256(b"arm64").as_str())
    );

    options.platform = Platform::parse("linux/s390x").unwrap();
    let error = scan_bytes_with(&archive, &options).unwrap_err().to_string();
    assert!(
        error.contains("no image for platform linux/s390x (available: linux/amd64, linux/arm64)"),
        "{error}"
    );
}

#[test]
fn a_layer_that_does_not_match_its_digests_is_an_integrity_finding() {
    let image = fixture_image(Compression::None);
    let mut replacement = LayerBuilder::new();
    replacement.file("etc/passwd", b"evil::0:0::/:/bin/sh\n");
    let replacement = replacement.build();

    // Classic: only the config's diff id can be checked.
    let mut classic = docker_save_classic(std::slice::from_ref(&image));
    let layer = classic
        .files
        .iter_mut()
        .find(|(n, _)| n.ends_with("/layer.tar"))
        .unwrap();
    layer.1 = replacement.clone();
    let report = only(scan_bytes(&classic.to_tar()).unwrap());
    let tampered: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Integrity)
        .collect();
    assert_eq!(tampered.len(), 1);
    assert_eq!(tampered[0].severity, Severity::Critical);
    assert!(
        tampered[0]
            .title
            .starts_with("layer 0: content does not match the diff id")
    );
    assert_eq!(report.layers[0].integrity, Integrity::Mismatch);
    assert_eq!(report.layers[1].integrity, Integrity::Verified);

    // OCI: the blob no longer matches the manifest either. The blob keeps its old name.
    let mut oci = oci_layout(std::slice::from_ref(&image), false);
    let original = stowaway_imagebuilder::sha256(&image.layers[0].tar);
    let blob = oci
        .files
        .iter_mut()
        .find(|(n, _)| n.ends_with(&original["sha256:".len()..]))
        .unwrap();
    blob.1 = replacement;
    let report = only(scan_bytes(&oci.to_tar()).unwrap());
    let evidence: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.kind == Kind::Integrity)
        .map(|f| f.title.clone())
        .collect();
    assert_eq!(evidence.len(), 2, "{evidence:?}");
    assert!(evidence[0].contains("blob digest") && evidence[1].contains("diff id"));
}

#[test]
fn a_stream_fails_only_on_the_layers_its_images_use() {
    let images = multi_platform();
    let mut layout = oci_layout(&images, true);
    // The arm64 layer is gzip but not a tar: only an arm64 scan may fail on it.
    let arm_blob =
        stowaway_imagebuilder::sha256(&Compression::Gzip.compress(&images[1].layers[0].tar));
    let member = layout
        .files
        .iter_mut()
        .find(|(n, _)| n.ends_with(&arm_blob["sha256:".len()..]))
        .unwrap();
    member.1 = stowaway_imagebuilder::gzip(b"not a tar");
    let plain = layout.to_tar();
    let streamed = stowaway_imagebuilder::gzip(&plain);
    for archive in [&plain, &streamed] {
        let amd = only(scan_bytes(archive).unwrap());
        assert_eq!(amd.platform.as_deref(), Some("linux/amd64"));
        let mut options = options();
        options.platform = Platform::parse("linux/arm64").unwrap();
        let error = scan_bytes_with(archive, &options).unwrap_err().to_string();
        assert!(error.contains("layer 0"), "{error}");
    }
}

#[test]
fn a_layer_whose_first_entry_looks_like_json_is_still_a_layer() {
    let mut layer = LayerBuilder::new();
    layer.file("[", b"{}").file("etc/hostname", b"box");
    let image = Image::new(
        &["odd:1"],
        vec![Layer::new(layer.build(), Compression::None, "odd")],
    );
    let archive = docker_save_classic(&[image]).to_tar();
    let from_file = only(scan_bytes(&archive).unwrap());
    let from_stream = only(scan_bytes(&stowaway_imagebuilder::gzip(&archive)).unwrap());
    assert_eq!(from_file, from_stream);
    assert_eq!(from_stream.inventory.len(), 2);
}

/// What `docker save` with the containerd image store writes for a multi-platform image: the
/// top-level index points to an image index, which lists the per-platform manifests.
#[test]
fn nested_indexes_are_followed() {
    let mut layout = oci_layout(&multi_platform(), true);
    let index_at = layout
        .files
        .iter()
        .position(|(n, _)| n == "index.json")
        .unwrap();
    let inner = layout.files[index_at].1.clone();
    let digest = stowaway_imagebuilder::sha256(&inner);
    layout.files.push((
        format!("blobs/sha256/{}", &digest["sha256:".len()..]),
        inner.clone(),
    ));
    let outer = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest,
            "size": inner.len(),
            "annotations": {"io.containerd.image.name": "docker.io/library/tool:1"},
        }],
    });
    layout.files[index_at].1 = serde_json::to_vec(&outer).unwrap();
    let mut options = options();
    options.platform = Platform::parse("linux/arm64").unwrap();
    let report = only(scan_bytes_with(&layout.to_tar(), &options).unwrap());
    assert_eq!(report.platform.as_deref(), Some("linux/arm64"));
    assert_eq!(report.layers[0].created_by.as_deref(), Some("arm"));
    // The inner descriptors' names win over the outer one's.
    assert_eq!(report.name, "tool:1");
}
