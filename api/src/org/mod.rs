//! The org structure: units in a tree, users, and the roles they hold.

pub mod roles;
pub mod units;
pub mod users;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 市人民政府
    CityGovernment,
    /// 市政府办公厅
    GeneralOffice,
    /// 处室 (an office inside a unit)
    Office,
    /// 市级部门
    MunicipalDepartment,
    /// 区人民政府
    DistrictGovernment,
    /// 区级部门
    DistrictBureau,
    /// 镇
    Town,
    /// 街道办事处
    Street,
}

impl UnitKind {
    pub const ALL: [UnitKind; 8] = [
        UnitKind::CityGovernment,
        UnitKind::GeneralOffice,
        UnitKind::Office,
        UnitKind::MunicipalDepartment,
        UnitKind::DistrictGovernment,
        UnitKind::DistrictBureau,
        UnitKind::Town,
        UnitKind::Street,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::CityGovernment => "city_government",
            UnitKind::GeneralOffice => "general_office",
            UnitKind::Office => "office",
            UnitKind::MunicipalDepartment => "municipal_department",
            UnitKind::DistrictGovernment => "district_government",
            UnitKind::DistrictBureau => "district_bureau",
            UnitKind::Town => "town",
            UnitKind::Street => "street",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            UnitKind::CityGovernment => "市人民政府",
            UnitKind::GeneralOffice => "市政府办公厅",
            UnitKind::Office => "处室",
            UnitKind::MunicipalDepartment => "市级部门",
            UnitKind::DistrictGovernment => "区人民政府",
            UnitKind::DistrictBureau => "区级部门",
            UnitKind::Town => "镇",
            UnitKind::Street => "街道",
        }
    }
}
