//! Ruby gems: the specifications RubyGems writes for every installed gem
//! (`…/specifications/<name>-<version>.gemspec`, also `specifications/default/` for the gems
//! Ruby ships, and Debian's `/usr/share/rubygems-integration/*/specifications/`), and Bundler's
//! `Gemfile.lock` (or `gems.locked`).
//!
//! An installed gemspec is Ruby code that RubyGems generates in one fixed shape
//! (`s.name = "rack".freeze`, `s.version = "2.2.22"`, `s.licenses = ["MIT".freeze]`); it is read
//! line by line for those assignments, never evaluated, as Syft does. A lockfile's gems are the
//! four-space-indented `name (version)` lines under `specs:` of each `GEM` section (gems from
//! rubygems-compatible sources); `GIT` and `PATH` sections name code checked out or vendored at
//! some commit, whose version is no release of the gem, and are left out. A platform-specific
//! gem's lockfile version carries its platform (`1.15.4-x86_64-linux`; RubyGems itself turns a
//! `-` in a version into `.pre.`, so the first `-` always starts the platform): the platform
//! goes to the package's `arch`.
//!
//! Only files in the image itself count, not members of archives: a cached `.gem` carries its
//! own development `Gemfile.lock`, which says nothing about what is installed.

use stowaway_findings::{Package, PackageType};
use stowaway_scan::{Analyzer, FileMeta, Output};

use crate::MAX_DATABASE_BYTES;

pub struct Ruby;

/// What kind of file a path is, for this cataloger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gemspec,
    Lockfile,
}

fn kind(path: &str) -> Option<Kind> {
    let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
    if name == "Gemfile.lock" || name == "gems.locked" {
        return Some(Kind::Lockfile);
    }
    let installed = dir == "specifications"
        || dir.starts_with("specifications/")
        || dir.contains("/specifications/")
        || dir.ends_with("/specifications");
    (installed && name.len() > ".gemspec".len() && name.ends_with(".gemspec"))
        .then_some(Kind::Gemspec)
}

impl Analyzer for Ruby {
    fn id(&self) -> &'static str {
        "ruby"
    }

    fn version(&self) -> u32 {
        1
    }

    fn wants(&self, file: &FileMeta<'_>) -> bool {
        file.member.is_none() && file.size <= MAX_DATABASE_BYTES && kind(file.path).is_some()
    }

    fn analyze(&self, file: &FileMeta<'_>, content: &[u8], complete: bool, out: &mut Vec<Output>) {
        if !complete {
            return;
        }
        let text = String::from_utf8_lossy(content);
        match kind(file.path) {
            Some(Kind::Gemspec) => out.extend(parse_gemspec(&text).map(Output::Package)),
            Some(Kind::Lockfile) => out.extend(parse_lockfile(&text).map(Output::Package)),
            None => {}
        }
    }
}

/// The gem an installed gemspec describes, when it names one and its version.
pub fn parse_gemspec(text: &str) -> Option<Package> {
    let mut name = None;
    let mut version = None;
    let mut licenses = None;
    for line in text.lines() {
        let Some((field, value)) = assignment(line) else {
            continue;
        };
        match field {
            "name" if name.is_none() => name = string_literal(value).map(|(s, _)| s),
            "version" if version.is_none() => version = string_literal(value).map(|(s, _)| s),
            "license" if licenses.is_none() => {
                licenses = string_literal(value).map(|(s, _)| vec![s]);
            }
            "licenses" if licenses.is_none() => licenses = Some(string_list(value)),
            _ => {}
        }
    }
    let mut package = Package::new(
        PackageType::Gem,
        name.filter(|n| !n.is_empty())?,
        version.filter(|v| !v.is_empty())?,
    );
    package.licenses = licenses.unwrap_or_default();
    Some(package)
}

/// `<receiver>.<field> = <value>` → (`field`, `value`), for a plain receiver (`s`, `spec`).
fn assignment(line: &str) -> Option<(&str, &str)> {
    let (left, value) = line.split_once('=')?;
    if value.starts_with(['=', '~']) {
        return None; // `==`, `=~`
    }
    let (receiver, field) = left.trim().split_once('.')?;
    let identifier = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
    (identifier(receiver) && identifier(field)).then_some((field, value.trim()))
}

/// A Ruby string literal at the start of `text` (`"…"`, `'…'`, `%q{…}`, `%Q(…)`, `%(…)`): its
/// value, and the text after it.
fn string_literal(text: &str) -> Option<(String, &str)> {
    let (open, close, body) = if let Some(rest) = text.strip_prefix(['"', '\'']) {
        let quote = text.chars().next()?;
        (quote, quote, rest)
    } else {
        let rest = text.strip_prefix('%')?;
        let rest = rest.strip_prefix(['q', 'Q']).unwrap_or(rest);
        let open = rest.chars().next()?;
        let close = match open {
            '{' => '}',
            '<' => '>',
            '(' => ')',
            '[' => ']',
            c if c.is_ascii_punctuation() => c,
            _ => return None,
        };
        (open, close, &rest[open.len_utf8()..])
    };
    let mut value = String::new();
    let mut chars = body.char_indices();
    let mut depth = 0usize;
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c if c == close && depth == 0 => return Some((value, &body[i + c.len_utf8()..])),
            c if c == close => {
                depth -= 1;
                value.push(c);
            }
            c if c == open => {
                depth += 1;
                value.push(c);
            }
            c => value.push(c),
        }
    }
    None
}

/// The string literals of an array literal (`["MIT".freeze, "Ruby".freeze]`).
fn string_list(text: &str) -> Vec<String> {
    let Some(mut rest) = text.strip_prefix('[') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c != ']' && c != '"' && c != '\'' && c != '%');
        if rest.is_empty() || rest.starts_with(']') {
            return out;
        }
        match string_literal(rest) {
            Some((value, after)) => {
                out.push(value);
                rest = after;
            }
            // A `%` that starts no literal.
            None => rest = &rest[1..],
        }
    }
}

/// The gems of a `Gemfile.lock`'s `GEM` sections.
pub fn parse_lockfile(text: &str) -> impl Iterator<Item = Package> + '_ {
    let mut section = "";
    let mut in_specs = false;
    text.lines().filter_map(move |line| {
        let line = line.trim_end();
        if !line.starts_with(' ') {
            section = line;
            in_specs = false;
            return None;
        }
        let indent = line.len() - line.trim_start().len();
        if indent == 2 {
            in_specs = line.trim_start() == "specs:";
            return None;
        }
        if section != "GEM" || !in_specs || indent != 4 {
            return None;
        }
        let (name, rest) = line.trim_start().split_once(" (")?;
        let version = rest.strip_suffix(')')?;
        let (version, platform) = match version.split_once('-') {
            Some((version, platform)) => (version, Some(platform)),
            None => (version, None),
        };
        if name.is_empty() || version.is_empty() {
            return None;
        }
        let mut package = Package::new(PackageType::Gem, name, version);
        package.arch = platform.map(str::to_string);
        Some(package)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_paths() {
        assert_eq!(
            kind("usr/local/lib/ruby/gems/3.2.0/specifications/rack-3.0.8.gemspec"),
            Some(Kind::Gemspec)
        );
        assert_eq!(
            kind("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec"),
            Some(Kind::Gemspec)
        );
        assert_eq!(kind("app/Gemfile.lock"), Some(Kind::Lockfile));
        assert_eq!(kind("Gemfile.lock"), Some(Kind::Lockfile));
        assert_eq!(kind("app/rack.gemspec"), None);
        assert_eq!(kind("app/specifications/.gemspec"), None);
        assert_eq!(kind("app/Gemfile"), None);
    }

    #[test]
    fn gemspec_forms() {
        let spec = "Gem::Specification.new do |s|\n  s.name = %q{net-ssh}\n  s.version = '7.1.0'\n  s.license = \"MIT\".freeze\n  s.add_dependency(%q<x>.freeze, [\">= 0\"])\nend\n";
        let package = parse_gemspec(spec).unwrap();
        assert_eq!(
            (package.name.as_str(), package.version.as_str()),
            ("net-ssh", "7.1.0")
        );
        assert_eq!(package.licenses, ["MIT"]);
        let spec = "spec.name = \"a\\\"b\"\nspec.version = \"1\"\nspec.licenses = [\"Ruby\".freeze, 'BSD-2-Clause', %q(GPL)]\n";
        let package = parse_gemspec(spec).unwrap();
        assert_eq!(package.name, "a\"b");
        assert_eq!(package.licenses, ["Ruby", "BSD-2-Clause", "GPL"]);
    }

    #[test]
    fn malformed_gemspecs() {
        for text in [
            "",
            "s.name = \"unterminated\ns.version = \"1\"\n",
            "s.name == \"x\"\ns.version = \"1\"",
            "s.name = x\ns.version = 1\n",
            "s.name = %\ns.version = %q\ns.licenses = [%, \"x\n",
            "s.name = \"\"\ns.version = \"1\"\n",
            "= . = \u{e9}.\u{e9} = %\u{e9}",
        ] {
            assert_eq!(parse_gemspec(text), None, "{text:?}");
        }
        assert!(string_list("[%, 'a'").contains(&"a".to_string()));
    }

    #[test]
    fn lockfile_gem_sections_only() {
        let lock = "GIT\n  remote: https://github.com/x/y.git\n  revision: abc\n  specs:\n    y (0.1.0)\n\nGEM\n  remote: https://rubygems.org/\n  specs:\n    nokogiri (1.15.4-x86_64-linux)\n      racc (~> 1.4)\n    racc (1.7.1)\n\nPLATFORMS\n  x86_64-linux\n\nDEPENDENCIES\n  nokogiri\n  y!\n\nBUNDLED WITH\n   2.4.19\n";
        let gems: Vec<(String, String, Option<String>)> = parse_lockfile(lock)
            .map(|p| (p.name, p.version, p.arch))
            .collect();
        assert_eq!(
            gems,
            [
                (
                    "nokogiri".into(),
                    "1.15.4".into(),
                    Some("x86_64-linux".into())
                ),
                ("racc".into(), "1.7.1".into(), None),
            ]
        );
        assert_eq!(
            parse_lockfile("GEM\n  specs:\n    (1)\n    x ()\n    y (1\n    z\n").count(),
            0
        );
    }

    #[test]
    fn truncated_files_do_not_panic() {
        let lock = include_str!("../tests/fixtures/ruby/Gemfile.lock");
        let spec = "# stub: rack 2.2.22 ruby lib\nGem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.22\"\n  s.licenses = [\"MIT\".freeze, %q{Ruby}]\nend\n";
        for text in [lock, spec] {
            for (cut, _) in text.char_indices() {
                let _ = parse_lockfile(&text[..cut]).count();
                let _ = parse_gemspec(&text[..cut]);
            }
        }
        assert_eq!(parse_lockfile(lock).count(), 20);
        assert_eq!(parse_gemspec(spec).unwrap().licenses, ["MIT", "Ruby"]);
    }
}
