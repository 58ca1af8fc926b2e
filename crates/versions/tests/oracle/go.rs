//! Go module versions against golang.org/x/mod/semver (built from Debian's
//! golang-golang-x-mod-dev in GOPATH mode, offline, cached); toolchain versions against the
//! vectors of go/version's own tests (this machine's Go predates go/version).

use std::path::Path;
use std::process::Command;

use proptest::collection::vec;
use proptest::prelude::*;
use stowaway_versions::GoVersion;

use crate::common::{self, OracleCell, laws_hold, maybe, near_miss, one_of};
use crate::semver::{build, number, prerelease};

const X_MOD: &str = "/usr/share/gocode";

static ORACLE: OracleCell = OracleCell::new();

/// Builds the oracle once into the cache (again when its source is newer than the binary).
fn oracle() -> Option<std::sync::MutexGuard<'static, common::Oracle>> {
    common::oracle(&ORACLE, || {
        if !Path::new(X_MOD)
            .join("src/golang.org/x/mod/semver")
            .is_dir()
        {
            return Err(format!(
                "golang.org/x/mod is not in {X_MOD} (apt-get install golang-golang-x-mod-dev)"
            ));
        }
        let source = common::oracle_source("gosemver.go");
        let dir = common::cache_dir().join("go-semver-oracle");
        let binary = dir.join("gosemver");
        let modified = |p: &Path| p.metadata().and_then(|m| m.modified()).ok();
        if modified(&binary).is_none() || modified(&binary) < modified(&source) {
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            let status = Command::new("go")
                .args(["build", "-o"])
                .arg(&binary)
                .arg(&source)
                .env("GO111MODULE", "off")
                .env("GOPATH", X_MOD)
                .env("GOFLAGS", "")
                .env("GOCACHE", dir.join("gocache"))
                .status()
                .map_err(|e| format!("go is not installed ({e})"))?;
            if !status.success() {
                return Err(format!("go build of {} failed", source.display()));
            }
        }
        Ok(Command::new(binary))
    })
}

/// A 14-digit UTC timestamp.
fn timestamp() -> BoxedStrategy<String> {
    prop_oneof![
        one_of(&["20191109021931", "20191109021932", "20200101000000"]),
        "20[0-9]{12}"
    ]
    .boxed()
}

/// Module versions: full and shortened SemVer, pseudo-versions of each form, +incompatible.
fn module() -> BoxedStrategy<String> {
    let hash = "[0-9a-f]{12}";
    prop_oneof![
        3 => (number(), number(), number(),
              maybe(prerelease().prop_map(|p| format!("-{p}"))),
              maybe(prop_oneof![Just("+incompatible".to_string()), build().prop_map(|b| format!("+{b}"))]))
            .prop_map(|(a, b, c, d, e)| format!("v{a}.{b}.{c}{d}{e}")),
        1 => (number(), maybe(number().prop_map(|n| format!(".{n}"))))
            .prop_map(|(a, b)| format!("v{a}{b}")),
        // vX.0.0-yyyymmddhhmmss-abcdef, vX.Y.(Z+1)-0.yyyymmddhhmmss-abcdef,
        // vX.Y.Z-pre.0.yyyymmddhhmmss-abcdef
        2 => (number(), number(), number(), timestamp(), hash,
              prop_oneof![Just(String::new()), Just("0.".to_string()), prerelease().prop_map(|p| format!("{p}.0."))],
              maybe(Just("+incompatible".to_string())))
            .prop_map(|(a, b, c, t, h, pre, inc)| {
                if pre.is_empty() {
                    format!("v{a}.0.0-{t}-{h}{inc}")
                } else {
                    format!("v{a}.{b}.{c}-{pre}{t}-{h}{inc}")
                }
            }),
    ]
    .boxed()
}

#[test]
fn go_module_parsing_agrees_with_x_mod_semver() {
    let Some(oracle) = oracle() else { return };
    let versions = vec(
        prop_oneof![module(), near_miss(module(), ".-+v0129aZ")],
        1..64,
    )
    // Strings without `v` are toolchain versions here, which x/mod/semver does not take.
    .prop_map(|vs| vs.into_iter().filter(|v| v.starts_with('v')).collect());
    let n = common::parsing_agrees::<GoVersion, _>(oracle, 300, versions, |answer, ours| {
        (answer == "ok") == ours
    });
    println!("Go: {n} module versions parsed as x/mod/semver parses them");
}

#[test]
fn go_module_order_agrees_with_x_mod_semver() {
    let Some(oracle) = oracle() else { return };
    let n = common::order_agrees::<GoVersion, _>(oracle, 300, vec((module(), module()), 1..64));
    println!("Go: {n} module version pairs ordered as x/mod/semver orders them");
}

#[test]
fn go_module_order_laws() {
    laws_hold::<GoVersion>(module());
}

/// go/version's TestCompare vectors (golang/go src/go/version/version_test.go), those whose
/// versions are valid; `Compare` ranks invalid ones below all, where this crate rejects them.
#[test]
fn toolchain_order_matches_go_version_tests() {
    let vectors = [
        ("go1", "go1.1", -1),
        ("go1.5", "go1.6", -1),
        ("go1.5", "go1.10", -1),
        ("go1.6", "go1.6.1", -1),
        ("go1.19", "go1.19.0", 0),
        ("go1.19rc1", "go1.19", -1),
        ("go1.20", "go1.20.0", 0),
        ("go1.20", "go1.20.0-bigcorp", 0),
        ("go1.20rc1", "go1.20", -1),
        ("go1.21", "go1.21.0", -1),
        ("go1.21", "go1.21.0-bigcorp", -1),
        ("go1.21", "go1.21rc1", -1),
        ("go1.21rc1", "go1.21.0", -1),
        ("go1.6", "go1.19", -1),
        ("go1.19", "go1.19.1", -1),
        ("go1.19rc1", "go1.19.1", -1),
        ("go1.19rc1", "go1.19rc2", -1),
        ("go1.19.0", "go1.19.1", -1),
        ("go1.19rc1", "go1.19.0", -1),
        ("go1.19alpha3", "go1.19beta2", -1),
        ("go1.19beta2", "go1.19rc1", -1),
        ("go1.1", "go1.99999999999999998", -1),
        ("go1.9.2rc2", "go1.9.2", -1),
        ("go1.9.2rc2", "go1.9.2rc3", -1),
        ("go1.9.2beta2", "go1.9.2rc3", -1),
        ("go1.9.2alpha1", "go1.9.2beta2", -1),
        ("go1.99999999999999998", "go1.99999999999999999", -1),
        // From go/version's documentation of Compare.
        ("go1.21rc1", "go1.21", 1),
        ("go1.22rc1", "go1.22.0", -1),
        ("go1.20rc1", "go1.21", -1),
        ("go1.18", "go1.18rc1", 1),
        ("go1.8.5rc4", "go1.8.5rc5", -1),
        ("go1.8.5rc5", "go1.8.5", -1),
        ("go1.9.2rc2", "go1.9", 1),
    ];
    for (a, b, want) in vectors {
        let parse = |s: &str| s.parse::<GoVersion>().unwrap_or_else(|e| panic!("{e}"));
        let (x, y) = (parse(a), parse(b));
        assert_eq!(x.cmp(&y) as i32, want, "Compare({a}, {b})");
        // internal/gover's spelling, without `go`, orders the same.
        let (x, y) = (parse(&a[2..]), parse(&b[2..].replace("-bigcorp", "")));
        assert_eq!(x.cmp(&y) as i32, want, "gover.Compare({a}, {b})");
    }
    // go/version's TestIsValid: the valid ones parse, the invalid ones do not.
    for valid in [
        "go1.2rc3",
        "go1.2.3",
        "go1.999testmod",
        "go1.22",
        "go1.21rc2",
        "go1.9.2rc2",
        "go1",
    ] {
        assert!(valid.parse::<GoVersion>().is_ok(), "{valid}");
    }
    for invalid in ["", "go1.600+auto", "go1.9.2+rc2", "bad"] {
        assert!(invalid.parse::<GoVersion>().is_err(), "{invalid}");
    }
}
