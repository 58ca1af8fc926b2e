//! The Go build info reader (`stowaway_gobuildinfo`): the input as a whole executable (the header
//! scan, ELF/PE/Mach-O parsing and the pre-1.18 pointer form through the segments), as the
//! strings after an inline-form header (varints, sentinels, modinfo lines and Go unquoting), and
//! as modinfo text. Any `Ok` or `Err` is fine; a panic is a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stowaway_gobuildinfo::{MAGIC, parse_modinfo, read};

fuzz_target!(|data: &[u8]| {
    let _ = read(data);

    // The same bytes behind a valid inline-form header (pointer size 8, strings inline), so that
    // every input gets past the header to the string and modinfo decoding.
    let mut blob = MAGIC.to_vec();
    blob.extend_from_slice(&[8, 2]);
    blob.resize(32, 0);
    blob.extend_from_slice(data);
    let _ = read(&blob);

    let _ = parse_modinfo(&String::from_utf8_lossy(data));
});
