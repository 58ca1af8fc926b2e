//! The `WWW-Authenticate` parser (`stowaway_registry::parse_www_authenticate`), which reads what
//! any registry a user pulls from sends with a 401: quoted values, escapes, several challenges,
//! junk. It must never panic, must terminate, and every challenge it returns has a scheme.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stowaway_registry::parse_www_authenticate;

fuzz_target!(|data: &[u8]| {
    let header = String::from_utf8_lossy(data);
    for challenge in parse_www_authenticate(&header) {
        assert!(!challenge.scheme.is_empty());
        for (name, _) in &challenge.params {
            assert!(!name.is_empty());
        }
        let _ = challenge.param("realm");
    }
});
