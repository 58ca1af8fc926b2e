//! The bundled name lists (see `data/README.md` for their sources and dates) and the parser for
//! user-supplied lists in the same format.

const DOCKER_OFFICIAL_IMAGES: &str = include_str!("../data/docker-official-images.txt");
const NPM_TOP: &str = include_str!("../data/npm-top5000.txt");
const PYPI_TOP: &str = include_str!("../data/pypi-top5000.txt");

/// The names in a list file: one per line, surrounding whitespace ignored, blank lines and lines
/// starting with `#` skipped. Order is kept (for package lists it is the popularity rank).
pub fn parse_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(String::from)
        .collect()
}

/// The repositories of Docker Hub's official `library/` namespace, as bundled.
pub fn bundled_official_images() -> Vec<String> {
    parse_list(DOCKER_OFFICIAL_IMAGES)
}

/// The 5,000 most downloaded npm packages, most downloaded first, as bundled.
pub fn bundled_npm() -> Vec<String> {
    parse_list(NPM_TOP)
}

/// The 5,000 most downloaded PyPI projects, most downloaded first, as bundled.
pub fn bundled_pypi() -> Vec<String> {
    parse_list(PYPI_TOP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_lists_are_complete() {
        assert_eq!(bundled_official_images().len(), 144);
        assert_eq!(bundled_npm().len(), 5000);
        assert_eq!(bundled_pypi().len(), 5000);
        assert_eq!(bundled_pypi()[0], "boto3");
        assert_eq!(bundled_npm()[0], "semver");
    }

    #[test]
    fn list_format() {
        let text = "# my images\n\n  nginx  \r\nredis\n#redis-stack\n";
        assert_eq!(parse_list(text), vec!["nginx", "redis"]);
    }
}
