//! The ruby, php and dotnet catalogers on a built image: Debian's real `ruby-rack` and
//! `ruby-tilt` packages (their installed gemspecs under `rubygems-integration`), and real-format
//! fixtures beside this file — a Bundler `Gemfile.lock` with `GIT`, `PATH` and `GEM` sections, a
//! Composer 2 `installed.json`, a `composer.lock` with development packages, and the
//! `.deps.json` of a `dotnet publish -r linux-x64`. Copies of the same files inside an archive
//! are decoys: only files in the image count. The report's package list is asserted exactly.
//!
//! The gemspec part needs `STOWAWAY_RUBY_DEBS` (a directory holding the `ruby-rack` and
//! `ruby-tilt` `.deb` files), which `scripts/with-test-deps` fills; without it the image has the fixtures
//! only and the gems of the Debian packages are not expected.

mod common;

use common::*;

use std::path::PathBuf;

use stowaway_findings::FileStatus;
use stowaway_imagebuilder::debian::deb_layer;
use stowaway_imagebuilder::{Compression, Image, Layer, LayerBuilder, gzip};
use stowaway_sbom::{Dotnet, Php, Ruby};

const GEMFILE_LOCK: &[u8] = include_bytes!("fixtures/ruby/Gemfile.lock");
const INSTALLED_JSON: &[u8] = include_bytes!("fixtures/php/installed.json");
const COMPOSER_LOCK: &[u8] = include_bytes!("fixtures/php/composer.lock");
const DEPS_JSON: &[u8] = include_bytes!("fixtures/dotnet/MyApp.deps.json");

/// One package as asserted: purl, licenses, and where it was found (layer, path).
type Found = (String, Vec<String>, usize, String);

fn found(purl: &str, licenses: &[&str], layer: usize, path: &str) -> Found {
    (
        purl.into(),
        licenses.iter().map(|l| l.to_string()).collect(),
        layer,
        path.into(),
    )
}

#[test]
fn gems_composer_and_nuget_packages() {
    let debs = match std::env::var_os("STOWAWAY_RUBY_DEBS") {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            vec![deb(&dir, "ruby-rack"), deb(&dir, "ruby-tilt")]
        }
        None => {
            eprintln!(
                "gemspecs skipped: set STOWAWAY_RUBY_DEBS to a directory of .deb files (scripts/with-test-deps does)"
            );
            Vec::new()
        }
    };
    let mut layers: Vec<Layer> = debs
        .iter()
        .map(|deb| deb_layer(deb, Compression::Gzip))
        .collect();
    let app_layer = layers.len();
    // The same files in a tarball (say, a cached gem's or a source release): not installed.
    let mut bundle = LayerBuilder::new();
    bundle
        .file("rack-9.9.9/Gemfile.lock", GEMFILE_LOCK)
        .file("rack-9.9.9/composer.lock", COMPOSER_LOCK)
        .file("rack-9.9.9/Other.deps.json", DEPS_JSON)
        .file(
            "rack-9.9.9/specifications/rack-9.9.9.gemspec",
            b"s.name = \"rack\"\ns.version = \"9.9.9\"\n",
        );
    let mut app = LayerBuilder::new();
    app.file("srv/app/Gemfile.lock", GEMFILE_LOCK)
        .file(
            "srv/app/vendor/cache/rack-9.9.9.tar.gz",
            &gzip(&bundle.build()),
        )
        .file("var/www/vendor/composer/installed.json", INSTALLED_JSON)
        .file("var/www/composer.lock", COMPOSER_LOCK)
        .file(
            "var/www/composer.json",
            b"{\"require\": {\"monolog/monolog\": \"^3.5\"}}",
        )
        .file("app/MyApp.deps.json", DEPS_JSON)
        .file("app/MyApp.runtimeconfig.json", b"{\"runtimeOptions\": {}}");
    layers.push(Layer::new(app.build(), Compression::Gzip, "COPY . /"));
    let image = Image::new(&["polyglot:1"], layers);
    let report = scan_images(&[image], &[Box::new(Ruby), Box::new(Php), Box::new(Dotnet)]);

    let mut actual: Vec<Found> = report
        .packages
        .iter()
        .map(|p| {
            let l = p.location.as_ref().unwrap();
            assert_eq!(l.status, FileStatus::Present, "{p:?}");
            assert_eq!(l.member, None, "{p:?}");
            (p.purl.clone(), p.licenses.clone(), l.layer, l.path.clone())
        })
        .collect();
    let lock = "srv/app/Gemfile.lock";
    let mut expected: Vec<Found> = [
        ("actionpack", "7.0.8"),
        ("actionview", "7.0.8"),
        ("activesupport", "7.0.8"),
        ("builder", "3.2.4"),
        ("concurrent-ruby", "1.2.2"),
        ("crass", "1.0.6"),
        ("erubi", "1.12.0"),
        ("i18n", "1.14.1"),
        ("loofah", "2.21.4"),
        ("minitest", "5.20.0"),
        ("nio4r", "2.5.9"),
        ("nokogiri", "1.15.4"),
        ("pg", "1.5.4"),
        ("puma", "6.4.0"),
        ("racc", "1.7.1"),
        ("rack", "2.2.8"),
        ("rack-test", "2.1.0"),
        ("rails-dom-testing", "2.2.0"),
        ("rails-html-sanitizer", "1.6.0"),
        ("tzinfo", "2.0.6"),
    ]
    .iter()
    .map(|(name, version)| found(&format!("pkg:gem/{name}@{version}"), &[], app_layer, lock))
    .collect();
    for (layer, (deb, gem)) in debs.iter().zip(["rack", "tilt"]).enumerate() {
        let version = upstream_version(deb);
        expected.push(found(
            &format!("pkg:gem/{gem}@{version}"),
            &["MIT"],
            layer,
            &format!("usr/share/rubygems-integration/all/specifications/{gem}-{version}.gemspec"),
        ));
    }
    let installed = "var/www/vendor/composer/installed.json";
    let composer_lock = "var/www/composer.lock";
    let deps = "app/MyApp.deps.json";
    expected.extend([
        found(
            "pkg:composer/monolog/monolog@3.5.0",
            &["MIT"],
            app_layer,
            installed,
        ),
        found("pkg:composer/psr/log@3.0.0", &["MIT"], app_layer, installed),
        found(
            "pkg:composer/symfony/polyfill-mbstring@v1.28.0",
            &["MIT"],
            app_layer,
            installed,
        ),
        found(
            "pkg:composer/phpunit/php-timer@6.0.0",
            &["BSD-3-Clause"],
            app_layer,
            installed,
        ),
        found(
            "pkg:composer/guzzlehttp/guzzle@7.8.1",
            &["MIT"],
            app_layer,
            composer_lock,
        ),
        found(
            "pkg:composer/guzzlehttp/promises@2.0.2",
            &["MIT"],
            app_layer,
            composer_lock,
        ),
        found(
            "pkg:composer/mockery/mockery@1.6.7",
            &["BSD-3-Clause"],
            app_layer,
            composer_lock,
        ),
        found("pkg:nuget/Newtonsoft.Json@13.0.3", &[], app_layer, deps),
        found("pkg:nuget/Serilog@3.1.1", &[], app_layer, deps),
        found(
            "pkg:nuget/Serilog.Sinks.Console@5.0.1",
            &[],
            app_layer,
            deps,
        ),
    ]);
    actual.sort();
    expected.sort();
    assert_eq!(actual, expected);

    // A platform gem's platform is its architecture, not part of its version.
    let nokogiri = report
        .packages
        .iter()
        .find(|p| p.name == "nokogiri")
        .unwrap();
    assert_eq!(nokogiri.arch.as_deref(), Some("x86_64-linux"));
}
