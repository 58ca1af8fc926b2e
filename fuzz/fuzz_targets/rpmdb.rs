//! The rpm database readers: the input as a whole database (`stowaway_rpmdb::read`, which tells
//! sqlite, Berkeley DB and NDB apart by their magic and parses every header blob it finds), and
//! as one header blob (`header::parse`). The Berkeley DB and NDB readers are also run on the
//! input whatever its magic says, so that mutations of one format's pages reach its reader.
//! Any `Ok` or `Err` is fine; a panic is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stowaway_rpmdb::{bdb, header, ndb};

fuzz_target!(|data: &[u8]| {
    let mut parsed = 0usize;
    if let Ok(packages) = stowaway_rpmdb::read(data) {
        parsed += packages.packages.len() + packages.errors.len();
    }
    let mut each = |_instance: u32, blob: &[u8]| {
        parsed += usize::from(header::parse(blob).is_ok());
    };
    let _ = bdb::for_each_blob(data, &mut each);
    let _ = ndb::for_each_blob(data, &mut each);
    if let Ok(package) = header::parse(data) {
        parsed += package.files.len();
    }
    std::hint::black_box(parsed);
});
