//! OSV range evaluation: whether a version is affected by one `affected` entry, under the
//! ordering of the package's ecosystem.
//!
//! As the OSV specification describes it: a version is affected when the entry lists it in
//! `versions`, or when one of its `ECOSYSTEM` or `SEMVER` ranges says so — walking the range's
//! events in version order, an `introduced` at or below the version makes it affected, a `fixed`
//! at or below it (or a `last_affected` below it) makes it unaffected again, and a `limit` at or
//! below it excludes it. `GIT` ranges name commits, which installed packages do not have: they
//! are ignored (the `versions` list osv.dev derives from them is used instead).

use std::cmp::Ordering;

use crate::osv::{Affected, Event};

/// Compares two versions of one ecosystem; `None` when either does not parse.
pub type Compare<'a> = dyn Fn(&str, &str) -> Option<Ordering> + 'a;

/// What an affected entry says about a version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub affected: bool,
    /// The `fixed` versions of the ranges that make it affected (what to upgrade to).
    pub fixed: Vec<String>,
}

/// Evaluates `affected` for `version` with the ordering `compare`; the `equal` test for the
/// explicit `versions` list is the ordering's too (so `1.0` matches `1.0.0` where the ecosystem
/// says they are equal).
pub fn evaluate(affected: &Affected, version: &str, compare: &Compare) -> Verdict {
    let listed = affected
        .versions
        .iter()
        .any(|listed| listed == version || compare(listed, version) == Some(Ordering::Equal));
    let mut fixed = Vec::new();
    let mut in_range = false;
    for range in &affected.ranges {
        if !matches!(range.kind.as_str(), "ECOSYSTEM" | "SEMVER") {
            continue;
        }
        if let Some(hit) = in_one_range(&range.events, version, compare) {
            in_range |= hit;
            if hit {
                fixed.extend(range.events.iter().filter_map(|e| match e {
                    Event::Fixed(v) => Some(v.clone()),
                    _ => None,
                }));
            }
        }
    }
    Verdict {
        affected: listed || in_range,
        fixed,
    }
}

/// One range; `None` when an event version cannot be compared with `version`.
fn in_one_range(events: &[Event], version: &str, compare: &Compare) -> Option<bool> {
    let at_or_below = |bound: &str| -> Option<bool> {
        if bound == "0" {
            return Some(true);
        }
        compare(bound, version).map(|o| o != Ordering::Greater)
    };
    // Events in version order, "0" first. An insertion sort: some orderings (Maven's) are not
    // total, which the standard sorts may panic on; this one just stops where it stands.
    let version_of = |event: &Event| -> String {
        match event {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => {
                v.clone()
            }
        }
    };
    let mut sorted: Vec<&Event> = Vec::with_capacity(events.len());
    for event in events {
        let version = version_of(event);
        let mut at = sorted.len();
        while at > 0 {
            let before = version_of(sorted[at - 1]);
            let greater = match (before.as_str(), version.as_str()) {
                (_, "0") => before != "0",
                ("0", _) => false,
                _ => compare(&before, &version)? == Ordering::Greater,
            };
            if !greater {
                break;
            }
            at -= 1;
        }
        sorted.insert(at, event);
    }
    let mut affected = false;
    for event in sorted {
        match event {
            Event::Introduced(v) => {
                if at_or_below(v)? {
                    affected = true;
                }
            }
            Event::Fixed(v) => {
                if at_or_below(v)? {
                    affected = false;
                }
            }
            Event::LastAffected(v) => {
                if compare(v, version)? == Ordering::Less {
                    affected = false;
                }
            }
            Event::Limit(v) => {
                if at_or_below(v)? {
                    return Some(false);
                }
            }
        }
    }
    Some(affected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::osv::Range;

    /// Dotted numbers, for the tests.
    fn numeric(a: &str, b: &str) -> Option<Ordering> {
        let parse =
            |v: &str| -> Option<Vec<u64>> { v.split('.').map(|p| p.parse().ok()).collect() };
        Some(parse(a)?.cmp(&parse(b)?))
    }

    fn entry(events: Vec<Event>, versions: &[&str]) -> Affected {
        Affected {
            package: None,
            ranges: vec![Range {
                kind: "ECOSYSTEM".into(),
                events,
            }],
            versions: versions.iter().map(|v| v.to_string()).collect(),
            severity: Vec::new(),
            ecosystem_specific: None,
            database_specific: None,
        }
    }

    fn affected(entry: &Affected, version: &str) -> bool {
        evaluate(entry, version, &numeric).affected
    }

    #[test]
    fn introduced_and_fixed_in_two_branches() {
        let e = entry(
            vec![
                Event::Introduced("5.0".into()),
                Event::Fixed("5.2".into()),
                Event::Introduced("4.0".into()),
                Event::Fixed("4.3".into()),
            ],
            &[],
        );
        for (version, expected) in [
            ("3.9", false),
            ("4.0", true),
            ("4.2.9", true),
            ("4.3", false),
            ("4.9", false),
            ("5.1", true),
            ("5.2", false),
            ("6.0", false),
        ] {
            assert_eq!(affected(&e, version), expected, "{version}");
        }
        assert_eq!(evaluate(&e, "4.1", &numeric).fixed, ["5.2", "4.3"]);
    }

    #[test]
    fn last_affected_limit_zero_and_listed_versions() {
        let e = entry(
            vec![
                Event::Introduced("0".into()),
                Event::LastAffected("1.4".into()),
            ],
            &[],
        );
        assert!(affected(&e, "0.1") && affected(&e, "1.4") && !affected(&e, "1.4.1"));
        assert!(
            evaluate(&e, "1.0", &numeric).fixed.is_empty(),
            "no fix available"
        );
        let e = entry(
            vec![Event::Introduced("1.0".into()), Event::Limit("2.0".into())],
            &[],
        );
        assert!(affected(&e, "1.5") && !affected(&e, "2.0") && !affected(&e, "0.9"));
        let e = entry(vec![], &["1.0", "1.1"]);
        assert!(affected(&e, "1.1") && !affected(&e, "1.2"));
    }

    #[test]
    fn unparseable_versions_match_nothing_and_git_ranges_are_ignored() {
        let e = entry(
            vec![Event::Introduced("0".into()), Event::Fixed("1.0".into())],
            &[],
        );
        assert!(!affected(&e, "not-a-version"));
        let mut git = entry(vec![Event::Introduced("0".into())], &[]);
        git.ranges[0].kind = "GIT".into();
        assert!(!affected(&git, "1.0"));
    }
}
