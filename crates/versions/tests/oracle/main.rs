//! Each version ordering against its ecosystem's reference implementation, in property tests:
//! proptest generates versions from each grammar (and near misses of it), and one oracle process
//! per ecosystem parses and compares them in batches. An oracle whose tool is missing prints
//! `skipped: …`; scripts/with-test-deps installs them all.

mod apk;
mod common;
mod dpkg;
mod gem;
mod go;
mod maven;
mod nuget;
mod pep440;
mod robustness;
mod rpm;
mod semver;
