//! The three report lines of a campaign, and who reviews a list on each.

use crate::org::UnitKind;

crate::text_enum! {
    /// How a unit's list travels.
    pub enum ReportLine {
        /// 市级部门、区政府: to the legal affairs office.
        Departments = "departments",
        /// 区级部门、街镇: to their district government, whose consolidated
        /// list goes on to the city.
        Districts = "districts",
        /// 市政府及办公厅文件: listed by the legal affairs office itself, the
        /// drafting units giving their opinion per document.
        CityDocuments = "city_documents",
    }
}

impl ReportLine {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReportLine::Departments => "市级部门和区政府",
            ReportLine::Districts => "区级部门和街镇",
            ReportLine::CityDocuments => "市政府及办公厅文件",
        }
    }

    /// Whether a unit of `kind` fills a list on this line.
    pub fn takes(self, kind: UnitKind) -> bool {
        use UnitKind as K;
        match self {
            ReportLine::Departments => {
                matches!(kind, K::MunicipalDepartment | K::DistrictGovernment)
            }
            ReportLine::Districts => matches!(kind, K::DistrictBureau | K::Town | K::Street),
            ReportLine::CityDocuments => matches!(kind, K::GeneralOffice),
        }
    }
}

/// Who decides a submitted list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reviewer {
    /// The General Office's legal affairs office.
    LegalOffice,
    /// The district government above the unit.
    District,
}

/// Who decides the lists of `line`.
pub fn reviewer(line: ReportLine) -> Reviewer {
    match line {
        ReportLine::Districts => Reviewer::District,
        ReportLine::Departments | ReportLine::CityDocuments => Reviewer::LegalOffice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reporting_kind_is_on_exactly_one_line() {
        use UnitKind as K;
        for kind in [
            K::MunicipalDepartment,
            K::DistrictGovernment,
            K::DistrictBureau,
            K::Town,
            K::Street,
            K::GeneralOffice,
        ] {
            let lines: Vec<_> = ReportLine::ALL.iter().filter(|l| l.takes(kind)).collect();
            assert_eq!(lines.len(), 1, "{kind}");
        }
        assert!(ReportLine::ALL.iter().all(|l| !l.takes(K::Office)));
        assert!(ReportLine::ALL.iter().all(|l| !l.takes(K::CityGovernment)));
    }

    #[test]
    fn streets_report_to_their_district_and_departments_to_the_city() {
        assert_eq!(reviewer(ReportLine::Districts), Reviewer::District);
        assert_eq!(reviewer(ReportLine::Departments), Reviewer::LegalOffice);
        assert_eq!(reviewer(ReportLine::CityDocuments), Reviewer::LegalOffice);
    }
}
