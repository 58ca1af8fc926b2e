//! Every package cataloger on untrusted file content: the input is handed, as a whole file, to
//! each cataloger that wants it under one of the paths its ecosystem records packages in (dpkg
//! and apk databases, rpm databases, Python metadata, npm manifests and lockfiles, Go and Rust
//! binaries, Cargo.lock, jars, gemspecs, Composer and .NET files). Any result is fine; a panic is
//! a bug.

#![no_main]

use libfuzzer_sys::fuzz_target;
use stowaway_scan::{FileMeta, HEAD_BYTES};

const PATHS: [&str; 20] = [
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/base",
    "var/lib/dpkg/info/libc6:amd64.list",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/lib/sysimage/rpm/Packages.db",
    "usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA",
    "usr/lib/python3/dist-packages/six.egg-info",
    "srv/app/node_modules/left-pad/package.json",
    "srv/app/package-lock.json",
    "srv/app/yarn.lock",
    "srv/app/pnpm-lock.yaml",
    "usr/local/bin/app",
    "srv/app/Cargo.lock",
    "opt/app/app.jar",
    "usr/share/rubygems-integration/all/specifications/rack-2.2.4.gemspec",
    "srv/app/Gemfile.lock",
    "srv/app/vendor/composer/installed.json",
    "srv/app/App.deps.json",
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the path; the rest is the file.
    let Some((&pick, content)) = data.split_first() else {
        return;
    };
    let file = FileMeta {
        path: PATHS[usize::from(pick) % PATHS.len()],
        member: None,
        size: content.len() as u64,
        mode: 0o644,
        head: &content[..content.len().min(HEAD_BYTES)],
    };
    let mut out = Vec::new();
    for cataloger in stowaway_sbom::catalogers() {
        if cataloger.wants(&file) {
            cataloger.analyze(&file, content, true, &mut out);
        }
    }
});
