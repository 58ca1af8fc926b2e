//! CVSS scores computed from the vectors advisories give, and the qualitative rating of a score.
//!
//! The scoring is RustSec's `cvss` crate: v3.0 and v3.1 base scores by those specifications'
//! equations (https://www.first.org/cvss/v3.1/specification-document, section 7), and v4.0
//! scores by its macro vectors and their lookup table
//! (https://www.first.org/cvss/v4.0/specification-document, section 8). A v4.0 vector is scored
//! as written: the base metrics advisories give make it CVSS-B; the few that add threat metrics
//! (`E:P`) make it CVSS-BT. `tests/cvss_oracle.rs` checks both versions against Red Hat's Python
//! `cvss`.

/// The CVSS version a score comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// CVSS v3.0 or v3.1.
    V3,
    /// CVSS v4.0.
    V4,
}

/// A vector's score and the version that computed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Score {
    /// 0.0 to 10.0, one decimal place.
    pub value: f64,
    pub version: Version,
}

/// The score of a `CVSS:3.0/…`, `CVSS:3.1/…` or `CVSS:4.0/…` vector (one trailing `/`, which
/// some GitHub advisories have, is allowed); `None` for anything else: CVSS v2, a vector missing
/// a base metric, a metric or value its version does not define, a metric given twice.
pub fn score(vector: &str) -> Option<Score> {
    let vector = vector.trim();
    let vector = vector.strip_suffix('/').unwrap_or(vector);
    if vector.starts_with("CVSS:3.") {
        let parsed: cvss::v3::Vector = vector.parse().ok()?;
        // The crate reads a missing base metric as its lowest value; the specification makes
        // all eight mandatory.
        let complete = parsed.av.is_some()
            && parsed.ac.is_some()
            && parsed.pr.is_some()
            && parsed.ui.is_some()
            && parsed.s.is_some()
            && parsed.c.is_some()
            && parsed.i.is_some()
            && parsed.a.is_some();
        complete.then(|| Score {
            value: parsed.base_score().value(),
            version: Version::V3,
        })
    } else if vector.starts_with("CVSS:4.0/") {
        let parsed: cvss::v4::Vector = vector.parse().ok()?;
        Some(Score {
            value: parsed.score().value(),
            version: Version::V4,
        })
    } else {
        None
    }
}

/// The qualitative rating of a score, the same in v3.x and v4.0: `none`, `low`, `medium`,
/// `high` or `critical`.
pub fn rating(score: f64) -> &'static str {
    match score {
        s if s >= 9.0 => "critical",
        s if s >= 7.0 => "high",
        s if s >= 4.0 => "medium",
        s if s > 0.0 => "low",
        _ => "none",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v3(vector: &str) -> Option<f64> {
        score(vector).map(|s| {
            assert_eq!(s.version, Version::V3, "{vector}");
            s.value
        })
    }

    fn v4(vector: &str) -> Option<f64> {
        score(vector).map(|s| {
            assert_eq!(s.version, Version::V4, "{vector}");
            s.value
        })
    }

    #[test]
    fn scores_of_known_vectors() {
        // Scores as NVD's calculator gives them.
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
            // Temporal metrics do not change the base score.
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O", 9.8),
            // Some GitHub advisories' vectors, as published, end in a slash.
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", 9.8),
        ] {
            assert_eq!(v3(vector), Some(score), "{vector}");
        }
        // FIRST's CVSS v4.0 calculator.
        for (vector, score) in [
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                9.3,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:H/SC:N/SI:N/SA:N",
                8.7,
            ),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:N/VI:N/VA:N/SC:N/SI:N/SA:N",
                0.0,
            ),
            // With a threat metric (unreported exploit maturity): CVSS-BT.
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/E:U",
                8.1,
            ),
        ] {
            assert_eq!(v4(vector), Some(score), "{vector}");
        }
        assert_eq!(rating(9.8), "critical");
        assert_eq!(rating(6.1), "medium");
        assert_eq!(rating(0.0), "none");
    }

    #[test]
    fn what_is_not_a_complete_vector_has_no_score() {
        for vector in [
            // A missing base metric (A), in v3 and in v4 (SA).
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N",
            "CVSS:3.1/AV:N/AC:L",
            // A metric twice, one its version does not define, a value it does not define.
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/A:L",
            "CVSS:3.1/AV:N/AC:L/AT:N/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:Q",
            // CVSS v2, versions that do not exist, no vector at all.
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "CVSS:3.2/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "CVSS:5.0/AV:N",
            "",
            "HIGH",
        ] {
            assert_eq!(score(vector), None, "{vector:?}");
        }
    }
}
