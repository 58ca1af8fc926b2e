//! The ways two names can look alike without being close in edit distance, each as a mapping of a
//! name to a key that look-alike names share:
//!
//! - the *skeleton* reads look-alike characters alike (`0`/`o`, `1`/`l`/`i`, `5`/`s`, `3`/`e`,
//!   `rn`/`m`, `vv`/`w`, `cl`/`d`, and a few Cyrillic and Greek letters that render as Latin ones),
//!   in the manner of Unicode's confusables skeleton (UTS #39) cut down to what matters in names;
//! - the *stripped* form drops the separators `-`, `_` and `.`, so `cross-env`, `crossenv` and
//!   `cross_env` share it;
//! - *words* are the parts between separators, for swapped (`jdk-open`) and added
//!   (`openjdk-official`) words.

/// The separators of image path components and package names.
pub(crate) fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

/// `name` with every character replaced by the one it is most easily mistaken for; two names
/// with the same skeleton look alike.
pub(crate) fn skeleton(name: &str) -> String {
    let lower: Vec<char> = name.chars().flat_map(char::to_lowercase).collect();
    let mut out = String::with_capacity(lower.len());
    let mut i = 0;
    while i < lower.len() {
        let pair = (lower[i], lower.get(i + 1).copied());
        let two = match pair {
            ('r', Some('n')) => Some('m'),
            ('v', Some('v')) => Some('w'),
            ('c', Some('l')) => Some('d'),
            _ => None,
        };
        if let Some(c) = two {
            out.push(c);
            i += 2;
            continue;
        }
        out.push(match lower[i] {
            '0' | 'о' | 'ο' => 'o',
            '1' | 'i' | '|' | '!' | 'і' | 'ı' | 'ӏ' => 'l',
            '5' | 'ѕ' => 's',
            '3' | 'е' => 'e',
            'а' | 'α' => 'a',
            'с' => 'c',
            'р' | 'ρ' => 'p',
            'х' => 'x',
            'у' => 'y',
            'ј' => 'j',
            'ԁ' => 'd',
            'ν' => 'v',
            c => c,
        });
        i += 1;
    }
    out
}

/// `name` without separators.
pub(crate) fn stripped(name: &str) -> String {
    name.chars().filter(|&c| !is_separator(c)).collect()
}

/// The non-empty parts of `name` between separators.
pub(crate) fn words(name: &str) -> Vec<&str> {
    name.split(is_separator).filter(|w| !w.is_empty()).collect()
}

/// Every order of `items` other than the given one (callers keep `items` short: n! orders).
pub(crate) fn other_orders<'a>(items: &[&'a str]) -> Vec<Vec<&'a str>> {
    fn permute<'a>(rest: &mut Vec<&'a str>, done: &mut Vec<&'a str>, out: &mut Vec<Vec<&'a str>>) {
        if rest.is_empty() {
            out.push(done.clone());
            return;
        }
        for i in 0..rest.len() {
            let item = rest.remove(i);
            done.push(item);
            permute(rest, done, out);
            done.pop();
            rest.insert(i, item);
        }
    }
    let mut out = Vec::new();
    permute(&mut items.to_vec(), &mut Vec::new(), &mut out);
    out.retain(|order| order.as_slice() != items);
    out
}

/// A short description of how `candidate` differs from `target`: what stands in the middle of
/// each once their common beginning and end are set aside.
pub(crate) fn describe_difference(candidate: &str, target: &str) -> String {
    let c: Vec<char> = candidate.chars().collect();
    let t: Vec<char> = target.chars().collect();
    let prefix = c.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let suffix = c[prefix..]
        .iter()
        .rev()
        .zip(t[prefix..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let middle_c: String = c[prefix..c.len() - suffix].iter().collect();
    let middle_t: String = t[prefix..t.len() - suffix].iter().collect();
    match (middle_c.is_empty(), middle_t.is_empty()) {
        (true, true) => "identical".to_string(),
        (false, true) => format!("{middle_c:?} added"),
        (true, false) => format!("{middle_t:?} left out"),
        (false, false) => format!("{middle_c:?} in place of {middle_t:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skeletons_read_look_alikes_alike() {
        assert_eq!(skeleton("0penjdk"), skeleton("openjdk"));
        assert_eq!(skeleton("jeIlyfish"), skeleton("jellyfish"));
        assert_eq!(skeleton("rnysql"), skeleton("mysql"));
        assert_eq!(skeleton("vvordpress"), skeleton("wordpress"));
        assert_eq!(skeleton("clebian"), skeleton("debian"));
        assert_eq!(skeleton("5e1enium"), skeleton("selenium"));
        assert_eq!(skeleton("nоde"), skeleton("node")); // Cyrillic о
        assert_ne!(skeleton("nodes"), skeleton("node"));
        assert_ne!(skeleton("golang1"), skeleton("golang"));
    }

    #[test]
    fn stripped_and_words() {
        assert_eq!(stripped("cross-env"), "crossenv");
        assert_eq!(stripped("a_b.c-d"), "abcd");
        assert_eq!(words("jdk--open"), vec!["jdk", "open"]);
        assert_eq!(words("-"), Vec::<&str>::new());
    }

    #[test]
    fn orders() {
        assert_eq!(other_orders(&["a", "b"]), vec![vec!["b", "a"]]);
        assert_eq!(other_orders(&["a", "b", "c"]).len(), 5);
        assert!(other_orders(&["a"]).is_empty());
    }

    #[test]
    fn differences() {
        assert_eq!(
            describe_difference("0penjdk", "openjdk"),
            r#""0" in place of "o""#
        );
        assert_eq!(describe_difference("golang1", "golang"), r#""1" added"#);
        assert_eq!(describe_difference("urlib3", "urllib3"), r#""l" left out"#);
        assert_eq!(
            describe_difference("nignx", "nginx"),
            r#""ig" in place of "gi""#
        );
        assert_eq!(describe_difference("aaa", "aa"), r#""a" added"#);
    }
}
