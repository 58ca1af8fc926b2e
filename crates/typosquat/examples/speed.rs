//! How long the package checks take: 5,000 names checked against the 5,000 most popular of an
//! ecosystem, against a brute-force baseline (the same names compared with every popular name by
//! the bounded distance alone) in the same run. Run in release:
//!
//! ```sh
//! cargo run --release -p stowaway-typosquat --example speed
//! ```
//!
//! The time is the best of five runs (the machine may be busy). The 5,000 checked names are the other ecosystem's list (mostly near nothing) and a typo of
//! every popular name (each near something), half and half.

use std::hint::black_box;
use std::time::Instant;

use stowaway_typosquat::{Ecosystem, PackageNames, bundled_npm, bundled_pypi};

/// A typo of `name`: its second and third characters swapped (or a letter added if too short).
fn typo(name: &str) -> String {
    let mut chars: Vec<char> = name.chars().collect();
    if chars.len() > 3 {
        chars.swap(1, 2);
    } else {
        chars.push('x');
    }
    chars.into_iter().collect()
}

/// The optimal-string-alignment distance, unbounded, on three reused rows: the baseline's
/// per-pair cost.
fn osa(a: &[u8], b: &[u8], rows: &mut [Vec<usize>; 3]) -> usize {
    let width = b.len() + 1;
    for row in rows.iter_mut() {
        row.clear();
        row.resize(width, 0);
    }
    let [before, previous, current] = rows;
    for (j, cell) in previous.iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        current[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d;
        }
        std::mem::swap(before, previous);
        std::mem::swap(previous, current);
    }
    previous[b.len()]
}

fn main() {
    for (ecosystem, popular, other) in [
        (Ecosystem::PyPI, bundled_pypi(), bundled_npm()),
        (Ecosystem::Npm, bundled_npm(), bundled_pypi()),
    ] {
        let started = Instant::now();
        let names = PackageNames::new(ecosystem, popular.clone());
        let build = started.elapsed();

        let mut queries: Vec<String> = other.iter().take(2500).cloned().collect();
        queries.extend(popular.iter().take(2500).map(|n| typo(n)));

        // The best of five runs: the machine may be busy with other work.
        let mut flagged = 0;
        let mut indexed = std::time::Duration::MAX;
        for _ in 0..5 {
            let started = Instant::now();
            flagged = queries.iter().filter(|q| names.check(q).is_some()).count();
            indexed = indexed.min(started.elapsed());
        }

        let started = Instant::now();
        let mut near = 0usize;
        let mut rows = [Vec::new(), Vec::new(), Vec::new()];
        for q in &queries {
            for p in &popular {
                near += usize::from(black_box(osa(q.as_bytes(), p.as_bytes(), &mut rows)) <= 2);
            }
        }
        let brute = started.elapsed();

        println!(
            "{ecosystem:?}: index built in {build:.1?}; {} checks in {indexed:.1?} \
             ({:.1} µs each, {flagged} flagged); brute-force distance alone {brute:.1?} \
             ({near} pairs within 2); ratio {:.0}x",
            queries.len(),
            indexed.as_secs_f64() * 1e6 / queries.len() as f64,
            brute.as_secs_f64() / indexed.as_secs_f64().max(1e-9),
        );
    }
}
