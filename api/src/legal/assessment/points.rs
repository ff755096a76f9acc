//! Scores in points with at most one decimal (2.5), carried as tenths so
//! that totals add exactly; parsed once where they come in.

use serde::{Serialize, Serializer};

use crate::error::{ApiError, ApiResult};

/// A score or a maximum, in tenths of a point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Points(pub i64);

/// No indicator is worth more than this (a whole assessment is usually 100).
pub const MAX_POINTS: i64 = 1000;

impl Points {
    /// `value` as points: not negative, at most one decimal, at most
    /// [`MAX_POINTS`]; anything else is a 422 on `field`.
    pub fn parse(field: &str, value: f64) -> ApiResult<Points> {
        let tenths = (value * 10.0).round();
        if !value.is_finite() || value < 0.0 || value > MAX_POINTS as f64 {
            return Err(ApiError::invalid(
                field,
                format!("分值须在 0 到 {MAX_POINTS} 之间"),
            ));
        }
        if (value * 10.0 - tenths).abs() > 1e-6 {
            return Err(ApiError::invalid(field, "分值最多保留一位小数"));
        }
        Ok(Points(tenths as i64))
    }

    pub fn as_f64(self) -> f64 {
        self.0 as f64 / 10.0
    }
}

impl std::ops::Add for Points {
    type Output = Points;
    fn add(self, other: Points) -> Points {
        Points(self.0 + other.0)
    }
}

impl std::ops::Sub for Points {
    type Output = Points;
    fn sub(self, other: Points) -> Points {
        Points(self.0 - other.0)
    }
}

impl std::iter::Sum for Points {
    fn sum<I: Iterator<Item = Points>>(iter: I) -> Points {
        Points(iter.map(|p| p.0).sum())
    }
}

impl Serialize for Points {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.as_f64())
    }
}

impl std::fmt::Display for Points {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 % 10 {
            0 => write!(f, "{}", self.0 / 10),
            r => write!(f, "{}.{}", self.0 / 10, r),
        }
    }
}

/// A score entered on an indicator worth `max`: never above it, and below
/// it only with the deduction's reason.
pub fn check_entry(field: &str, max: Points, score: Points, reason: Option<&str>) -> ApiResult<()> {
    if score > max {
        return Err(ApiError::invalid(
            format!("{field}.score"),
            format!("得分不能高于该指标的满分 {max} 分"),
        ));
    }
    let reason = reason.map(str::trim).unwrap_or_default();
    if score < max && reason.is_empty() {
        return Err(ApiError::invalid(
            format!("{field}.deduction_reason"),
            "扣分须填写扣分理由",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_take_one_decimal_and_nothing_negative() {
        assert_eq!(Points::parse("s", 2.5).unwrap(), Points(25));
        assert_eq!(Points::parse("s", 10.0).unwrap(), Points(100));
        assert_eq!(Points::parse("s", 0.1 + 0.2).unwrap(), Points(3));
        assert!(Points::parse("s", 2.25).is_err());
        assert!(Points::parse("s", -1.0).is_err());
        assert!(Points::parse("s", f64::NAN).is_err());
        assert!(Points::parse("s", 1e9).is_err());
        assert_eq!(Points(25).to_string(), "2.5");
        assert_eq!(Points(30).to_string(), "3");
        assert_eq!(serde_json::to_string(&Points(25)).unwrap(), "2.5");
    }

    #[test]
    fn a_score_is_at_most_the_maximum_and_a_deduction_says_why() {
        let max = Points(50);
        assert!(check_entry("s", max, Points(50), None).is_ok());
        assert!(check_entry("s", max, Points(40), Some("未按时报送")).is_ok());
        let field = |r: ApiResult<()>| match r {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(check_entry("scores[0]", max, Points(51), None)),
            "scores[0].score"
        );
        assert_eq!(
            field(check_entry("scores[0]", max, Points(40), Some("  "))),
            "scores[0].deduction_reason"
        );
    }
}
