//! CVSS v3.0/v3.1 base scores computed from the vector, as the specification's formulas give
//! them (https://www.first.org/cvss/v3.1/specification-document, section 7), and the qualitative
//! rating of a score.

/// The base score (0.0 to 10.0) of a `CVSS:3.x/AV:…/AC:…/PR:…/UI:…/S:…/C:…/I:…/A:…` vector;
/// `None` for anything else (CVSS v2 and v4 vectors included) or a vector missing a base metric.
pub fn base_score_v3(vector: &str) -> Option<f64> {
    let mut parts = vector.split('/');
    if !matches!(parts.next()?, "CVSS:3.0" | "CVSS:3.1") {
        return None;
    }
    let (mut av, mut ac, mut pr, mut ui, mut s, mut c, mut i, mut a) =
        (None, None, None, None, None, None, None, None);
    for part in parts {
        let (metric, value) = part.split_once(':')?;
        match metric {
            "AV" => av = Some(value),
            "AC" => ac = Some(value),
            "PR" => pr = Some(value),
            "UI" => ui = Some(value),
            "S" => s = Some(value),
            "C" => c = Some(value),
            "I" => i = Some(value),
            "A" => a = Some(value),
            _ => {}
        }
    }
    let changed = match s? {
        "U" => false,
        "C" => true,
        _ => return None,
    };
    let cia = |v: &str| -> Option<f64> {
        match v {
            "H" => Some(0.56),
            "L" => Some(0.22),
            "N" => Some(0.0),
            _ => None,
        }
    };
    let av = match av? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match ac? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (pr?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match ui? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let iss: f64 = 1.0 - (1.0 - cia(c?)?) * (1.0 - cia(i?)?) * (1.0 - cia(a?)?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let total: f64 = if changed {
        1.08 * (impact + exploitability)
    } else {
        impact + exploitability
    };
    Some(round_up(total.min(10.0)))
}

/// CVSS v3.1's Roundup: the smallest number of one decimal place at or above `value`, computed
/// on integers so that floating-point noise does not round 4.0000001 up to 4.1.
fn round_up(value: f64) -> f64 {
    let scaled = (value * 100_000.0).round() as i64;
    if scaled % 10_000 == 0 {
        scaled as f64 / 100_000.0
    } else {
        ((scaled / 10_000) + 1) as f64 / 10.0
    }
}

/// The qualitative rating of a score: `none`, `low`, `medium`, `high` or `critical`.
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
        ] {
            assert_eq!(base_score_v3(vector), Some(score), "{vector}");
        }
        assert_eq!(rating(9.8), "critical");
        assert_eq!(rating(6.1), "medium");
        assert_eq!(
            base_score_v3("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            None
        );
        assert_eq!(base_score_v3("CVSS:3.1/AV:N/AC:L"), None);
        assert_eq!(base_score_v3("AV:N/AC:L/Au:N/C:P/I:P/A:P"), None);
    }
}
