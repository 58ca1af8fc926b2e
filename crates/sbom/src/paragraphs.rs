//! Deb822-style records: paragraphs of `Field: value` lines separated by blank lines, a line that
//! starts with a space or tab continuing the previous field. dpkg's status database is written in
//! it; apk's installed database is the same shape with one-letter keys and no continuations.

/// One paragraph: its fields in order, values trimmed (continuation lines joined with `\n`).
pub(crate) type Paragraph<'a> = Vec<(&'a str, String)>;

/// Splits `text` into paragraphs. Lines without a `:` (corrupt input) are ignored.
pub(crate) fn parse(text: &str) -> Vec<Paragraph<'_>> {
    let mut paragraphs = Vec::new();
    let mut current: Paragraph = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = current.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            current.push((key.trim(), value.trim().to_string()));
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

/// The value of `key` in a paragraph (the first, if repeated).
pub(crate) fn field<'p>(paragraph: &'p Paragraph, key: &str) -> Option<&'p str> {
    paragraph
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_with_continuations() {
        let text =
            "Package: a\nDescription: short\n long line\n .\n\n\nPackage: b\nbroken\nVersion: 1\n";
        let paragraphs = parse(text);
        assert_eq!(paragraphs.len(), 2);
        assert_eq!(
            field(&paragraphs[0], "Description"),
            Some("short\nlong line\n.")
        );
        assert_eq!(field(&paragraphs[1], "Version"), Some("1"));
        assert_eq!(field(&paragraphs[1], "Missing"), None);
    }
}
