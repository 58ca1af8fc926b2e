//! Normalising member paths of untrusted archives.

/// Normalises an archive member name to `a/b/c`: strips `./` and trailing slashes, folds `.`.
/// Rejects absolute names and names that climb out of the archive with `..`.
pub fn normalize_member(name: &str) -> Result<String, String> {
    if name.starts_with('/') {
        return Err(format!("member '{name}' has an absolute path"));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(format!("member '{name}' escapes the archive with '..'"));
                }
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Resolves a link target found at member `from`: relative targets against `from`'s directory.
pub(crate) fn resolve_link(from: &str, target: &str) -> Result<String, String> {
    if target.starts_with('/') {
        return Err(format!(
            "link '{from}' points to the absolute path '{target}'"
        ));
    }
    let dir = from.rsplit_once('/').map_or("", |(dir, _)| dir);
    let joined = if dir.is_empty() {
        target.to_string()
    } else {
        format!("{dir}/{target}")
    };
    normalize_member(&joined)
        .map_err(|_| format!("link '{from}' points outside the archive ('{target}')"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_dot_prefixes_and_slashes() {
        assert_eq!(
            normalize_member("./manifest.json").unwrap(),
            "manifest.json"
        );
        assert_eq!(normalize_member("./blobs/sha256/").unwrap(), "blobs/sha256");
        assert_eq!(normalize_member("a/./b/../c").unwrap(), "a/c");
        assert_eq!(normalize_member("./").unwrap(), "");
    }

    #[test]
    fn rejects_escapes() {
        assert!(
            normalize_member("/etc/passwd")
                .unwrap_err()
                .contains("absolute")
        );
        assert!(normalize_member("../x").unwrap_err().contains("escapes"));
        assert!(normalize_member("a/../../x").is_err());
    }

    #[test]
    fn links_resolve_within_the_archive() {
        assert_eq!(
            resolve_link("a/layer.tar", "../b/layer.tar").unwrap(),
            "b/layer.tar"
        );
        assert!(resolve_link("a/layer.tar", "../../etc/passwd").is_err());
        assert!(resolve_link("a/layer.tar", "/etc/passwd").is_err());
    }
}
