//! The streaming reader: an archive read once front to back (`read_stream`), every layer-looking
//! member decoded (`layer::decode`) and walked as `scan_layer` does, then the images resolved from
//! what the stream left behind. Any `Ok` or `Err` is fine; a panic is a bug.

#![no_main]

use std::sync::atomic::AtomicU64;

use libfuzzer_sys::fuzz_target;
use stowaway_image::{ImageError, Platform, layer, read_stream, resolve_images};
use stowaway_scan::Limits;
use stowaway_scan::walk::Walker;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_layer_bytes: 64 << 20,
        max_member_bytes: 16 << 20,
        max_nested_bytes: 64 << 20,
        max_in_memory: 1 << 20,
        ..Default::default()
    };
    let analyzers = stowaway_scan::analyzers::default_analyzers();
    let nested_budget = AtomicU64::new(0);
    let mut walked = 0usize;
    let store = read_stream("fuzz-input", data, |_name, blob| {
        let decoded = layer::decode(blob, limits.layer(), |tar| {
            let mut walker = Walker::new(&analyzers, &limits, &nested_budget);
            walker.walk_layer_tar(tar)?;
            Ok(walker.finish())
        });
        if let Ok((walk, _digests)) = decoded {
            walked += walk.entries.len();
        }
        // A bad layer is not fatal here, so the stream (and the manifests after it) are read on.
        Ok::<(), ImageError>(())
    });
    if let Ok(store) = store {
        let _ = resolve_images(&store, &Platform::host());
    }
    std::hint::black_box(walked);
});
