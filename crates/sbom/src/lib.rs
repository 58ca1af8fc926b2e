//! Package catalogers, one module per ecosystem in the manner of Syft's catalogers: each is an
//! [`Analyzer`] that asks the walker for the files its ecosystem records packages in (a dpkg
//! status database, a `package.json`, a jar's `pom.properties`, a Go binary's build info) and
//! reports every package it finds as an [`Output::Package`](stowaway_scan::Output::Package).
//!
//! Catalogers only parse. Where a package was found, which layer introduced it, whether a later
//! layer removed it, and its PURL for the image's distribution are worked out by the assembly in
//! `stowaway-scan`, from every layer's copy of each file.

mod apk;
mod dotnet;
mod dpkg;
mod go_binary;
mod java;
mod npm;
mod npm_lock;
mod paragraphs;
mod php;
mod pnpm_lock;
mod python;
mod rpm;
mod ruby;
mod rust;
mod yarn_lock;

pub use apk::Apk;
pub use dotnet::Dotnet;
pub use dpkg::Dpkg;
pub use go_binary::GoBinary;
pub use java::Java;
pub use npm::Npm;
pub use php::Php;
pub use python::Python;
pub use rpm::Rpm;
pub use ruby::Ruby;
pub use rust::{CargoLock, RustBinary};

use stowaway_scan::Analyzer;

/// The largest package database a cataloger reads (a dpkg status of a few thousand packages is
/// a few MB).
pub(crate) const MAX_DATABASE_BYTES: u64 = 64 << 20;

/// Every cataloger.
pub fn catalogers() -> Vec<Box<dyn Analyzer>> {
    vec![
        Box::new(Dpkg),
        Box::new(Apk),
        Box::new(Rpm),
        Box::new(Python),
        Box::new(Npm),
        Box::new(GoBinary),
        Box::new(RustBinary),
        Box::new(CargoLock),
        Box::new(Java),
        Box::new(Ruby),
        Box::new(Php),
        Box::new(Dotnet),
    ]
}
