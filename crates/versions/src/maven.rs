//! Maven versions, ordered as Maven's `ComparableVersion` (maven-artifact 3.8.7, the Maven this
//! project's tests run) does.
//!
//! Every string is a Maven version. The lowercased string is split into items: numbers, strings
//! and lists. `.` separates items of the same list; `-` starts a nested list; a change between
//! digits and non-digits also starts a nested list (`1.0alpha1` is `[1, 0, [alpha, [1]]]`); an
//! empty item is the number 0; a qualifier that ends the version or precedes a digit, and is not
//! the first item of its list, goes into a nested list of its own (`1.0.x1` = `1.0-x1`). A single
//! letter followed by a digit is a qualifier shorthand (`a1` = `alpha-1`, `b`, `m`), and
//! `ga`/`final`/`release` mean the empty qualifier, `cr` means `rc`. Each list then drops its
//! trailing "null" items — 0, the empty qualifier, empty lists — so `1.0 == 1` and
//! `1-ga == 1`; a null before a trailing nested list goes too (`1.0-a == 1-a`).
//!
//! Items compare: numbers numerically (any length); qualifiers as alpha < beta < milestone < rc <
//! snapshot < "" (release) < sp < any other string, other strings lexically; a number above a
//! string and a list; a list above a string; a missing item as 0 or the empty qualifier, and a
//! list against a missing item by its first item that is not null-like (so `1-rc < 1 < 1-sp`,
//! `1 < 1.1`, `1-1 < 1.0.1`). `Display` gives back the input.
//!
//! **Not a total order.** Maven's comparison is antisymmetric but, on some inputs that mix a
//! qualifier inside a list with a nested list at the same position, not transitive:
//! `1-beta < 1 < 1.sp.0 < 1-beta` (a string is below every list, yet `sp` is above a missing item
//! and `[beta]` below it). This type answers every pair exactly as Maven does, so `Ord` inherits
//! the cycle: compare pairs (installed version against an advisory bound), and do not sort
//! untrusted Maven versions with `slice::sort`, which may panic on a non-total order.
//!
//! Differences from Java: only ASCII digits are digits (Java's `Character.isDigit` also takes
//! other scripts' digits), and unknown qualifiers compare by Unicode scalar values rather than
//! UTF-16 units (different only between astral and high-BMP characters).

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use crate::VersionError;
use crate::semver::Decimal;

/// The well-known qualifiers in order; index 5 (the empty string) is a release.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: usize = 5;

#[derive(Debug, Clone)]
enum Item {
    Number(Decimal),
    /// A qualifier, aliases resolved.
    Text(Box<str>),
    List(Vec<Item>),
}

/// A qualifier's rank: known ones by their index, unknown ones after them, lexically.
fn qualifier_rank(q: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|&known| known == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

impl Item {
    fn text(value: &str, followed_by_digit: bool) -> Item {
        let value = match value {
            "a" if followed_by_digit => "alpha",
            "b" if followed_by_digit => "beta",
            "m" if followed_by_digit => "milestone",
            "ga" | "final" | "release" => "",
            "cr" => "rc",
            other => other,
        };
        Item::Text(value.into())
    }

    fn is_null(&self) -> bool {
        match self {
            Item::Number(n) => n.is_zero(),
            Item::Text(q) => qualifier_rank(q) == (RELEASE, ""),
            Item::List(items) => items.is_empty(),
        }
    }

    /// `ComparableVersion`'s `compareTo`, where `None` stands for a missing item.
    fn compare(&self, other: Option<&Item>) -> Ordering {
        match (self, other) {
            (Item::Number(n), None) => n.cmp(&Decimal::new("0")),
            (Item::Text(q), None) => qualifier_rank(q).cmp(&(RELEASE, "")),
            (Item::List(items), None) => items
                .iter()
                .map(|i| i.compare(None))
                .find(|o| o.is_ne())
                .unwrap_or(Ordering::Equal),
            (Item::Number(a), Some(Item::Number(b))) => a.cmp(b),
            (Item::Number(_), Some(_)) => Ordering::Greater,
            (Item::Text(a), Some(Item::Text(b))) => qualifier_rank(a).cmp(&qualifier_rank(b)),
            (Item::Text(_), Some(_)) => Ordering::Less,
            (Item::List(_), Some(Item::Number(_))) => Ordering::Less,
            (Item::List(_), Some(Item::Text(_))) => Ordering::Greater,
            (Item::List(a), Some(Item::List(b))) => compare_lists(a, b),
        }
    }
}

fn compare_lists(a: &[Item], b: &[Item]) -> Ordering {
    for i in 0..a.len().max(b.len()) {
        let result = match (a.get(i), b.get(i)) {
            (Some(l), r) => l.compare(r),
            (None, Some(r)) => r.compare(None).reverse(),
            (None, None) => Ordering::Equal,
        };
        if result != Ordering::Equal {
            return result;
        }
    }
    Ordering::Equal
}

/// Drops trailing null items; a non-null nested list does not stop the scan, a non-null number
/// or qualifier does.
fn normalize(items: &mut Vec<Item>) {
    let mut i = items.len();
    while i > 0 {
        i -= 1;
        if items[i].is_null() {
            items.remove(i);
        } else if !matches!(items[i], Item::List(_)) {
            break;
        }
    }
}

/// Builds the item tree of `ComparableVersion.parseVersion`. Lists are opened on a stack and
/// closed (normalised, then added to their parent) at the end, innermost first.
fn parse(version: &str) -> Vec<Item> {
    let chars: Vec<char> = version.to_lowercase().chars().collect();
    let text = |from: usize, to: usize| chars[from..to].iter().collect::<String>();
    let item = |is_digit: bool, s: &str| {
        if is_digit {
            Item::Number(Decimal::new(s))
        } else {
            Item::text(s, false)
        }
    };
    // The open lists, outermost first; each new list is a child of the one before it.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0;
    for (i, &c) in chars.iter().enumerate() {
        let top = stack.len() - 1;
        if c == '.' || c == '-' {
            let new = if i == start {
                Item::Number(Decimal::new("0"))
            } else {
                item(is_digit, &text(start, i))
            };
            stack[top].push(new);
            start = i + 1;
            if c == '-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // A qualifier that does not start its list starts a nested one: `1.0.x1 = 1.0-x1`.
                if !stack[top].is_empty() {
                    stack.push(Vec::new());
                }
                let top = stack.len() - 1;
                stack[top].push(Item::text(&text(start, i), true));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                stack[top].push(item(true, &text(start, i)));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if chars.len() > start {
        // So does a final qualifier: `1.0.x = 1.0-x`.
        if !is_digit && stack.last().is_some_and(|list| !list.is_empty()) {
            stack.push(Vec::new());
        }
        let top = stack.len() - 1;
        stack[top].push(item(is_digit, &text(start, chars.len())));
    }
    loop {
        let Some(mut list) = stack.pop() else {
            return Vec::new();
        };
        normalize(&mut list);
        match stack.last_mut() {
            Some(parent) => parent.push(Item::List(list)),
            None => return list,
        }
    }
}

/// A Maven artifact version.
#[derive(Debug, Clone)]
pub struct MavenVersion {
    input: String,
    items: Vec<Item>,
}

impl FromStr for MavenVersion {
    type Err = VersionError;

    /// Never fails: Maven reads every string as a version.
    fn from_str(input: &str) -> Result<Self, VersionError> {
        Ok(MavenVersion {
            input: input.to_string(),
            items: parse(input),
        })
    }
}

impl fmt::Display for MavenVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.input)
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        compare_lists(&self.items, &other.items)
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Equal when `compareTo` says 0 (`1.0 == 1`, `1-GA == 1`).
impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> MavenVersion {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn qualifier_order() {
        let chain = [
            "1-alpha",
            "1-beta",
            "1-milestone",
            "1-rc",
            "1-snapshot",
            "1",
            "1-sp",
            "1-abc",
            "1-abd",
            "1-1",
            "1.0.1",
            "1.1",
        ];
        for pair in chain.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0"), v("1"));
        assert_eq!(v("1-GA"), v("1.FINAL"));
        assert_eq!(v("1.RELEASE"), v("1"));
        assert_eq!(v("1.0.x1"), v("1.0-x1"));
        assert!(v("1-0.beta") > v("1-beta"));
        assert_eq!(v("1a1"), v("1-alpha-1"));
        assert_eq!(v("1cr2"), v("1-rc-2"));
        assert!(v("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1") > v("1"));
        assert!(v("1.100000000000000000000000") > v("1.99999999999999999999999"));
    }
}
