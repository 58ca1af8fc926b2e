//! Real archives, randomly damaged, scanned end to end: the reader must never panic, and when it
//! refuses an input its message is one line that starts with the input's path.
//!
//! The archives are built with `stowaway-imagebuilder` in every layout the reader handles (classic
//! `docker save`, Docker 25+, OCI layout tar) with plain, gzip and zstd layers, nested archives,
//! links and whiteouts. Each case damages one of them (flipped bits, a truncation, a range
//! overwritten, bytes inserted — aimed at tar headers, JSON documents or layer data, or anywhere)
//! and scans it twice: as a file (indexed and read at random) and gzip-compressed (read once as a
//! stream). When the damage only changed bytes inside a layer blob whose digest the image
//! declares and the scan still succeeds, the scan must report the layer as not matching it.

use std::cell::Cell;
use std::io::Read;
use std::path::Path;
use std::sync::Once;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use proptest::sample::Index;
use stowaway_findings::Integrity;
use stowaway_image::Platform;
use stowaway_imagebuilder::{
    Compression, Image, Layer, LayerBuilder, Members, docker_save_classic, docker_save_oci, gzip,
    oci_layout, zip_of,
};
use stowaway_scan::{ImageReport, Input, Limits, NoProgress, ScanError, ScanOptions};

const ELF: &[u8] =
    b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00";

/// A byte range of an archive.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    len: usize,
}

/// A well-formed archive and where its parts are.
struct Fixture {
    name: &'static str,
    bytes: Vec<u8>,
    /// Layers of its (single) image.
    layers: usize,
    /// Whether the image names each layer blob by its digest (so a changed blob must be caught).
    declares_blob_digests: bool,
    headers: Vec<Span>,
    json: Vec<Span>,
    blobs: Vec<Span>,
}

fn base_layer(compression: Compression) -> Layer {
    let mut tar = LayerBuilder::new();
    tar.dir("etc")
        .file(
            "etc/os-release",
            b"NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n",
        )
        .dir("usr/bin")
        .file_mode("usr/bin/app", ELF, 0o755)
        .symlink("usr/bin/sh", "/bin/dash")
        .hardlink("usr/bin/app2", "usr/bin/app")
        .char_device("dev/null", 1, 3)
        .file_mode("tmp/dropper", ELF, 0o755);
    Layer::new(
        tar.build(),
        compression,
        "/bin/sh -c #(nop) ADD file:base in /",
    )
}

fn app_layer(compression: Compression) -> Layer {
    let mut bundle = LayerBuilder::new();
    bundle
        .file("payload/readme.txt", b"hello")
        .file_mode("payload/miner", ELF, 0o755);
    let jar = zip_of(&[
        ("META-INF/MANIFEST.MF", b"Manifest-Version: 1.0\n"),
        ("app/Main.class", b"\xca\xfe\xba\xbe"),
    ]);
    let mut tar = LayerBuilder::new();
    tar.file("opt/app/app.jar", &jar)
        .file("opt/app/bundle.tar.gz", &gzip(&bundle.build()))
        .file(
            "opt/app/notes.txt.zst",
            &Compression::Zstd.compress(b"notes"),
        )
        .whiteout("tmp/dropper")
        .opaque("var/cache");
    Layer::new(tar.build(), compression, "/bin/sh -c make install")
}

fn config_layer(compression: Compression) -> Layer {
    let mut tar = LayerBuilder::new();
    tar.file("etc/app.conf", b"debug = false\n")
        .file("root/.profile", b"export PATH\n");
    Layer::new(tar.build(), compression, "/bin/sh -c configure")
}

/// Finds the tar headers, JSON members and layer blobs of an archive.
fn locate(bytes: &[u8]) -> (Vec<Span>, Vec<Span>, Vec<Span>) {
    let (mut headers, mut json, mut blobs) = (Vec::new(), Vec::new(), Vec::new());
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().expect("a fixture is a tar") {
        let mut entry = entry.expect("a fixture is a tar");
        let start = entry.raw_file_position() as usize;
        headers.push(Span {
            start: start - 512,
            len: 512,
        });
        let len = entry.size() as usize;
        if len == 0 {
            continue;
        }
        let mut head = Vec::new();
        (&mut entry)
            .take(512)
            .read_to_end(&mut head)
            .expect("in memory");
        let span = Span { start, len };
        if head.starts_with(b"{") || head.starts_with(b"[") {
            json.push(span);
        } else if stowaway_image::layer::Compression::sniff(&head).is_some() {
            blobs.push(span);
        }
    }
    (headers, json, blobs)
}

fn fixture(
    name: &'static str,
    members: Members,
    layers: usize,
    declares_blob_digests: bool,
) -> Fixture {
    let bytes = members.to_tar();
    let (headers, json, blobs) = locate(&bytes);
    assert_eq!(blobs.len(), layers, "{name}: every layer blob is located");
    Fixture {
        name,
        bytes,
        layers,
        declares_blob_digests,
        headers,
        json,
        blobs,
    }
}

fn fixtures() -> &'static [Fixture] {
    static FIXTURES: OnceLock<Vec<Fixture>> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let image = |tag: &str, layers: Vec<Layer>| Image::new(&[tag], layers);
        vec![
            fixture(
                "classic docker save, plain + gzip + zstd layers",
                docker_save_classic(&[image(
                    "test/classic:1",
                    vec![
                        base_layer(Compression::None),
                        app_layer(Compression::Gzip),
                        config_layer(Compression::Zstd),
                    ],
                )]),
                3,
                false,
            ),
            fixture(
                "Docker 25+ docker save, gzip + zstd layers",
                docker_save_oci(&[image(
                    "test/docker25:1",
                    vec![base_layer(Compression::Gzip), app_layer(Compression::Zstd)],
                )]),
                2,
                true,
            ),
            fixture(
                "OCI layout tar, zstd + plain + gzip layers",
                oci_layout(
                    &[image(
                        "test/oci:1",
                        vec![
                            base_layer(Compression::Zstd),
                            app_layer(Compression::None),
                            config_layer(Compression::Gzip),
                        ],
                    )],
                    true,
                ),
                3,
                true,
            ),
        ]
    })
}

/// Counts panics on the scanner's own threads (rayon's, and the layer-reading thread of a
/// compressed layer, whose panic surfaces as an error rather than as a panic of the caller). A
/// panic on a test's thread is not counted: it fails that test by itself, and must not be taken
/// for a scanner panic by a test running beside it.
static PANICS: AtomicUsize = AtomicUsize::new(0);

thread_local! {
    static TEST_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// Installs the counting hook (once) and marks the calling thread as a test's thread.
fn count_panics() {
    static HOOK: Once = Once::new();
    TEST_THREAD.with(|t| t.set(true));
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !TEST_THREAD.with(Cell::get) {
                PANICS.fetch_add(1, Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

fn scan_file(path: &Path) -> Result<Vec<ImageReport>, ScanError> {
    let options = ScanOptions {
        limits: Limits {
            max_layer_bytes: 64 << 20,
            max_member_bytes: 16 << 20,
            max_nested_bytes: 64 << 20,
            ..Default::default()
        },
        platform: Platform::parse("linux/amd64").expect("a platform"),
        image: None,
        progress: &NoProgress,
        cache: None,
    };
    let analyzers = stowaway_scan::analyzers::default_analyzers();
    stowaway_scan::scan(&Input::Path(path.to_path_buf()), &analyzers, &options)
}

/// Scans `bytes` written to `path`: no panic on any thread, and an error is one line that starts
/// with the path.
fn scan_checked(path: &Path, bytes: &[u8]) -> Result<Vec<ImageReport>, String> {
    std::fs::write(path, bytes).expect("writing the archive");
    let panics = PANICS.load(Ordering::SeqCst);
    let result = scan_file(path);
    assert_eq!(
        PANICS.load(Ordering::SeqCst),
        panics,
        "scanning {} panicked on one of its threads (see the message above)",
        path.display()
    );
    match result {
        Ok(reports) => {
            assert!(!reports.is_empty(), "Ok with no image at all");
            Ok(reports)
        }
        Err(e) => {
            let message = e.to_string();
            let prefix = format!("{}: ", path.display());
            assert!(
                message.starts_with(&prefix),
                "the error does not start with the input's path: {message:?}"
            );
            assert!(
                !message.contains(['\n', '\r']),
                "the error is not one line: {message:?}"
            );
            assert!(
                !message.contains("panicked"),
                "a reading thread panicked: {message:?}"
            );
            Err(message)
        }
    }
}

/// Where in the archive an edit lands.
#[derive(Debug, Clone)]
enum Target {
    Anywhere,
    Header(Index),
    Json(Index),
    Blob(Index),
}

/// What an edit does.
#[derive(Debug, Clone)]
enum Edit {
    Flip { at: Index, mask: u8 },
    Overwrite { at: Index, bytes: Vec<u8> },
    Truncate { at: Index },
    Insert { at: Index, bytes: Vec<u8> },
}

impl Edit {
    fn keeps_length(&self) -> bool {
        matches!(self, Edit::Flip { .. } | Edit::Overwrite { .. })
    }
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        1 => Just(Target::Anywhere),
        2 => any::<Index>().prop_map(Target::Header),
        2 => any::<Index>().prop_map(Target::Json),
        2 => any::<Index>().prop_map(Target::Blob),
    ]
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        4 => (any::<Index>(), 1..=255u8).prop_map(|(at, mask)| Edit::Flip { at, mask }),
        2 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..48))
            .prop_map(|(at, bytes)| Edit::Overwrite { at, bytes }),
        1 => any::<Index>().prop_map(|at| Edit::Truncate { at }),
        1 => (any::<Index>(), prop::collection::vec(any::<u8>(), 1..48))
            .prop_map(|(at, bytes)| Edit::Insert { at, bytes }),
    ]
}

/// The region a target names (the whole archive when the fixture has no such part).
fn region(fixture: &Fixture, target: &Target) -> Span {
    let pick = |spans: &[Span], index: &Index| {
        if spans.is_empty() {
            None
        } else {
            Some(spans[index.index(spans.len())])
        }
    };
    let whole = Span {
        start: 0,
        len: fixture.bytes.len(),
    };
    match target {
        Target::Anywhere => Some(whole),
        Target::Header(i) => pick(&fixture.headers, i),
        Target::Json(i) => pick(&fixture.json, i),
        Target::Blob(i) => pick(&fixture.blobs, i),
    }
    .unwrap_or(whole)
}

/// Applies the edits inside `span`. Offsets are taken in the original layout; after a length
/// change they are only approximate, which is fine for damage.
fn apply(bytes: &mut Vec<u8>, span: Span, edits: &[Edit]) {
    for edit in edits {
        if bytes.is_empty() {
            return;
        }
        let at = |index: &Index, len: usize| {
            (span.start + index.index(span.len.max(1))).min(len.saturating_sub(1))
        };
        match edit {
            Edit::Flip { at: i, mask } => {
                let at = at(i, bytes.len());
                bytes[at] ^= mask;
            }
            Edit::Overwrite { at: i, bytes: new } => {
                let at = at(i, bytes.len());
                // Stay inside the span, so that "only a blob changed" holds.
                let end = (at + new.len()).min(span.start + span.len).min(bytes.len());
                bytes[at..end].copy_from_slice(&new[..end - at]);
            }
            Edit::Truncate { at: i } => {
                let at = at(i, bytes.len());
                bytes.truncate(at);
            }
            Edit::Insert { at: i, bytes: new } => {
                let at = at(i, bytes.len());
                bytes.splice(at..at, new.iter().copied());
            }
        }
    }
}

#[test]
fn unmutated_archives_scan_with_every_layer_verified() {
    count_panics();
    let dir = tempfile::tempdir().expect("a temp dir");
    for fixture in fixtures() {
        for (path, bytes) in [
            (dir.path().join("image.tar"), fixture.bytes.clone()),
            (dir.path().join("image.tar.gz"), gzip(&fixture.bytes)),
        ] {
            let reports =
                scan_checked(&path, &bytes).unwrap_or_else(|e| panic!("{}: {e}", fixture.name));
            assert_eq!(reports.len(), 1, "{}", fixture.name);
            let report = &reports[0];
            assert_eq!(report.layers.len(), fixture.layers, "{}", fixture.name);
            assert!(
                report
                    .layers
                    .iter()
                    .all(|l| l.integrity == Integrity::Verified),
                "{}: {:?}",
                fixture.name,
                report.layers
            );
            assert!(
                report.layers.iter().all(|l| l.entries > 0),
                "{}: every layer has entries",
                fixture.name
            );
            assert_eq!(
                report.os.as_ref().map(|os| os.id.as_str()),
                Some("debian"),
                "{}",
                fixture.name
            );
        }
    }
}

#[test]
fn a_changed_blob_byte_is_a_digest_mismatch() {
    // The property below only checks this when a random edit happens to leave the blob readable;
    // here it is certain: flip a bit in a gzip header's mtime field, which no decoder looks at.
    count_panics();
    let dir = tempfile::tempdir().expect("a temp dir");
    let fixture = &fixtures()[1];
    let gzip_blob = fixture
        .blobs
        .iter()
        .find(|b| fixture.bytes[b.start..].starts_with(&[0x1f, 0x8b]))
        .expect("the Docker 25+ fixture has a gzip layer");
    let mut bytes = fixture.bytes.clone();
    bytes[gzip_blob.start + 4] ^= 0x01;
    let reports = scan_checked(&dir.path().join("image.tar"), &bytes).expect("still readable");
    assert!(
        reports[0]
            .layers
            .iter()
            .any(|l| l.integrity == Integrity::Mismatch),
        "{:?}",
        reports[0].layers
    );
}

#[test]
fn errors_quoting_untrusted_bytes_are_one_line() {
    // What the property finds by chance, made certain: a message that quotes a header field or a
    // name from the input must not carry its line breaks or terminal escapes along.
    count_panics();
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("image.tar");

    // A tar header whose checksum field is text, but not a number.
    let mut bytes = fixtures()[0].bytes.clone();
    bytes[148..156].copy_from_slice(b"1\r\n\x1b[2J\0");
    assert!(scan_checked(&path, &bytes).is_err());

    // An archive member with an absolute name.
    let mut members = Members::default();
    members.files.push(("/x\ny".into(), b"{}".to_vec()));
    assert!(scan_checked(&path, &members.to_tar()).is_err());

    // A layer entry that climbs out of the root.
    let mut layer = LayerBuilder::new();
    layer.file("a\n\x1b[2J/../../../etc/x", b"");
    let image = Image::new(
        &["test/names:1"],
        vec![Layer::new(layer.build(), Compression::Gzip, "x")],
    );
    assert!(scan_checked(&path, &docker_save_oci(&[image]).to_tar()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        max_shrink_iters: 2048,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn damaged_archives_never_panic_and_errors_name_the_input(
        which in any::<Index>(),
        target in target(),
        edits in prop::collection::vec(edit(), 1..4),
    ) {
        count_panics();
        let fixture = &fixtures()[which.index(fixtures().len())];
        let span = region(fixture, &target);
        let mut bytes = fixture.bytes.clone();
        apply(&mut bytes, span, &edits);

        let dir = tempfile::tempdir().expect("a temp dir");
        let as_file = scan_checked(&dir.path().join("damaged.tar"), &bytes);
        let as_stream = scan_checked(&dir.path().join("damaged.tar.gz"), &gzip(&bytes));

        let only_a_blob_changed = matches!(target, Target::Blob(_))
            && !fixture.blobs.is_empty()
            && fixture.declares_blob_digests
            && edits.iter().all(Edit::keeps_length)
            && bytes != fixture.bytes;
        if only_a_blob_changed {
            for reports in [as_file, as_stream].into_iter().flatten() {
                prop_assert!(
                    reports.iter().any(|r| r
                        .layers
                        .iter()
                        .any(|l| l.integrity == Integrity::Mismatch)),
                    "{}: a changed layer blob scanned without a digest mismatch",
                    fixture.name
                );
            }
        }
    }
}
