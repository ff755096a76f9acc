//! A major administrative decision's catalogue filing progress and the two
//! groups the statistics split by. Pure.
//!
//! The procedures (《重大行政决策程序暂行条例》 and the city's rules) have
//! a decision declared by its unit, put in the year's catalogue by the
//! government, the catalogue filed with the level above, and the catalogue
//! published; the states follow them, one step at a time, never back.

use crate::error::{ApiError, ApiResult};
use crate::org::UnitKind;

crate::text_enum! {
    pub enum Progress {
        /// 已申报
        Declared = "declared",
        /// 已列入目录
        Catalogued = "catalogued",
        /// 已备案
        Filed = "filed",
        /// 已公布
        Published = "published",
    }
}

impl Progress {
    pub fn label_zh(self) -> &'static str {
        match self {
            Progress::Declared => "已申报",
            Progress::Catalogued => "已列入目录",
            Progress::Filed => "已备案",
            Progress::Published => "已公布",
        }
    }

    fn next(self) -> Option<Progress> {
        match self {
            Progress::Declared => Some(Progress::Catalogued),
            Progress::Catalogued => Some(Progress::Filed),
            Progress::Filed => Some(Progress::Published),
            Progress::Published => None,
        }
    }
}

/// `to` is the step after `from`; otherwise 409 naming both.
pub fn advance(from: Progress, to: Progress) -> ApiResult<Progress> {
    if from.next() == Some(to) {
        return Ok(to);
    }
    Err(ApiError::Conflict {
        code: "wrong_state",
        detail: format!(
            "当前进度为“{}”，下一步应为“{}”",
            from.label_zh(),
            from.next().map_or("无（已公布）", Progress::label_zh)
        ),
    })
}

crate::text_enum! {
    /// Who declares: district governments and municipal departments.
    pub enum Group {
        District = "district",
        Municipal = "municipal",
    }
}

impl Group {
    pub fn label_zh(self) -> &'static str {
        match self {
            Group::District => "区政府",
            Group::Municipal => "市级部门",
        }
    }

    /// The group of a declaring unit; other units do not declare.
    pub fn of(kind: UnitKind) -> Option<Group> {
        match kind {
            UnitKind::DistrictGovernment => Some(Group::District),
            UnitKind::MunicipalDepartment => Some(Group::Municipal),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_moves_one_step_forward_only() {
        assert_eq!(
            advance(Progress::Declared, Progress::Catalogued).unwrap(),
            Progress::Catalogued
        );
        assert!(advance(Progress::Declared, Progress::Filed).is_err());
        assert!(advance(Progress::Filed, Progress::Catalogued).is_err());
        assert!(advance(Progress::Published, Progress::Published).is_err());
        assert_eq!(Group::of(UnitKind::Town), None);
        assert_eq!(
            Group::of(UnitKind::DistrictGovernment),
            Some(Group::District)
        );
    }
}
