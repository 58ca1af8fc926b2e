//! The whole scan of an archive on disk: sniffing, the tar index (or the stream path, when the
//! input is gzip/zstd), manifests and configs, layer decoding, the walker and nested archives.
//! Any `Ok` or `Err` is fine; a panic, a hang or unbounded memory is a bug.

#![no_main]

use std::io::Write;

use libfuzzer_sys::fuzz_target;
use stowaway_image::Platform;
use stowaway_scan::{Input, Limits, NoProgress, ScanOptions};

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(data).and_then(|()| file.flush()).is_err() {
        return;
    }
    let options = ScanOptions {
        limits: Limits {
            max_layer_bytes: 64 << 20,
            max_member_bytes: 16 << 20,
            max_nested_bytes: 64 << 20,
            // Small, so that archives inside the image (jars, tarballs) larger than this take the
            // spool-to-a-temporary-file path, while smaller ones are opened in memory.
            max_in_memory: 4 << 10,
            ..Default::default()
        },
        platform: Platform::host(),
        image: None,
        progress: &NoProgress,
    };
    let analyzers = stowaway_scan::analyzers::default_analyzers();
    let input = Input::Path(file.path().to_path_buf());
    let _ = stowaway_scan::scan(&input, &analyzers, &options);
});
