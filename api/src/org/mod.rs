//! The org structure: units in a tree, users, and the roles they hold.

pub mod roles;
pub mod selection;
pub mod units;
pub mod users;

crate::text_enum! {
    /// What kind of unit a unit is.
    pub enum UnitKind {
        /// 市人民政府
        CityGovernment = "city_government",
        /// 市政府办公厅
        GeneralOffice = "general_office",
        /// 处室 (an office inside a unit)
        Office = "office",
        /// 市级部门
        MunicipalDepartment = "municipal_department",
        /// 区人民政府
        DistrictGovernment = "district_government",
        /// 区级部门
        DistrictBureau = "district_bureau",
        /// 镇
        Town = "town",
        /// 街道办事处
        Street = "street",
    }
}

crate::text_enum! {
    /// Whether a user may sign in.
    pub enum UserStatus {
        Active = "active",
        Disabled = "disabled",
    }
}

impl UnitKind {
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
