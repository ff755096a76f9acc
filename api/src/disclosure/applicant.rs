//! Who applies: a citizen or a company, as typed into the form or as
//! verified by the one-net service, checked field by field (resident ID and
//! unified social credit code checksums included) and masked when shown.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::validate::{optional_text, resident_id_is_valid, text, uscc_is_valid};

crate::text_enum! {
    pub enum ApplicantKind {
        /// 公民
        Citizen = "citizen",
        /// 法人或者其他组织
        Company = "company",
    }
}

crate::text_enum! {
    /// What kind of organisation a legal-person applicant is: the columns
    /// of the annual report's Table 3.
    pub enum OrgType {
        /// 商业企业
        CommercialEnterprise = "commercial_enterprise",
        /// 科研机构
        ResearchInstitution = "research_institution",
        /// 社会公益组织
        PublicInterest = "public_interest",
        /// 法律服务机构
        LegalService = "legal_service",
        /// 其他
        Other = "other",
    }
}

crate::text_enum! {
    /// Who applied, as the annual report's Table 3 counts applicants
    /// (申请人情况): a natural person, or one kind of organisation. Recorded
    /// with the case, in the clear (it is not personal data).
    pub enum ApplicantColumn {
        /// 自然人
        NaturalPerson = "natural_person",
        /// 法人或其他组织：商业企业
        CommercialEnterprise = "commercial_enterprise",
        /// 科研机构
        ResearchInstitution = "research_institution",
        /// 社会公益组织
        PublicInterest = "public_interest",
        /// 法律服务机构
        LegalService = "legal_service",
        /// 其他
        OtherOrganisation = "other_organisation",
    }
}

impl ApplicantColumn {
    pub fn label_zh(self) -> &'static str {
        match self {
            ApplicantColumn::NaturalPerson => "自然人",
            ApplicantColumn::CommercialEnterprise => "商业企业",
            ApplicantColumn::ResearchInstitution => "科研机构",
            ApplicantColumn::PublicInterest => "社会公益组织",
            ApplicantColumn::LegalService => "法律服务机构",
            ApplicantColumn::OtherOrganisation => "其他",
        }
    }

    fn of_org(t: OrgType) -> ApplicantColumn {
        match t {
            OrgType::CommercialEnterprise => ApplicantColumn::CommercialEnterprise,
            OrgType::ResearchInstitution => ApplicantColumn::ResearchInstitution,
            OrgType::PublicInterest => ApplicantColumn::PublicInterest,
            OrgType::LegalService => ApplicantColumn::LegalService,
            OrgType::Other => ApplicantColumn::OtherOrganisation,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证 (checksum verified)
    ResidentId,
    Passport,
    /// 港澳居民来往内地通行证
    HkMacauPermit,
    /// 台湾居民来往大陆通行证
    TaiwanPermit,
    /// 外国人永久居留身份证
    ForeignPermanentResident,
}

/// An applicant's identity, sealed (SM4-GCM) as JSON with the case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Identity {
    Citizen {
        name: String,
        id_type: IdType,
        id_number: String,
        address: Option<String>,
    },
    Company {
        name: String,
        /// 统一社会信用代码
        uscc: String,
        legal_representative: String,
        contact_name: String,
    },
}

impl Identity {
    pub fn kind(&self) -> ApplicantKind {
        match self {
            Identity::Citizen { .. } => ApplicantKind::Citizen,
            Identity::Company { .. } => ApplicantKind::Company,
        }
    }

    /// How lists name the applicant: a citizen's name masked, a company's
    /// name (public information) in full.
    pub fn label(&self) -> String {
        match self {
            Identity::Citizen { name, .. } => mask_name(name),
            Identity::Company { name, .. } => name.clone(),
        }
    }
}

/// A profile the one-net service verified, kept sealed in the applicant's
/// session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifiedProfile {
    /// The person's or company's id at the one-net service.
    pub uid: String,
    pub identity: Identity,
    /// The mobile number the one-net service holds (a company's contact's).
    pub phone: Option<String>,
}

/// The applicant part of a request form as sent: either `from_onenet` (the
/// identity comes from the signed-in applicant's verified profile, and no
/// identity field may be sent) or typed fields for `kind`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantInput {
    pub kind: Option<ApplicantKind>,
    /// Use the one-net profile of the applicant session (GK-14).
    #[serde(default)]
    pub from_onenet: bool,
    /// Citizen's name, or the company's name.
    pub name: Option<String>,
    pub id_type: Option<IdType>,
    pub id_number: Option<String>,
    pub address: Option<String>,
    pub uscc: Option<String>,
    pub legal_representative: Option<String>,
    pub contact_name: Option<String>,
    /// For an organisation (also with `from_onenet`, whose profile does not
    /// say): commercial_enterprise, research_institution, public_interest,
    /// legal_service or other.
    #[schema(value_type = Option<String>)]
    pub org_type: Option<OrgType>,
}

impl ApplicantInput {
    /// The applicant's Table 3 column: a natural person, or the kind of
    /// organisation the form says (required for organisations, refused
    /// for persons).
    pub fn column(&self, identity: &Identity) -> ApiResult<ApplicantColumn> {
        match (identity, self.org_type) {
            (Identity::Citizen { .. }, None) => Ok(ApplicantColumn::NaturalPerson),
            (Identity::Citizen { .. }, Some(_)) => {
                Err(ApiError::invalid("applicant.org_type", "与申请人类型不符"))
            }
            (Identity::Company { .. }, Some(t)) => Ok(ApplicantColumn::of_org(t)),
            (Identity::Company { .. }, None) => Err(ApiError::invalid(
                "applicant.org_type",
                "请选择法人或其他组织的类型（商业企业、科研机构、社会公益组织、法律服务机构或其他）",
            )),
        }
    }

    /// The typed identity, every field checked. (The `from_onenet` case is
    /// resolved by the caller, which holds the session.)
    pub fn typed_identity(&self) -> ApiResult<Identity> {
        let kind = self
            .kind
            .ok_or_else(|| ApiError::invalid("applicant.kind", "请选择公民或法人/其他组织"))?;
        let name = text("applicant.name", self.name.as_deref(), 100, false)?;
        let stray = |field: &str, present: bool| {
            if present {
                Err(ApiError::invalid(
                    format!("applicant.{field}"),
                    "与申请人类型不符",
                ))
            } else {
                Ok(())
            }
        };
        match kind {
            ApplicantKind::Citizen => {
                stray("uscc", self.uscc.is_some())?;
                stray("legal_representative", self.legal_representative.is_some())?;
                stray("contact_name", self.contact_name.is_some())?;
                if name.chars().count() > 50 {
                    return Err(ApiError::invalid("applicant.name", "不能超过 50 个字"));
                }
                let id_type = self
                    .id_type
                    .ok_or_else(|| ApiError::invalid("applicant.id_type", "请选择证件类型"))?;
                let id_number = id_number(id_type, self.id_number.as_deref())?;
                Ok(Identity::Citizen {
                    name,
                    id_type,
                    id_number,
                    address: optional_text("applicant.address", self.address.as_deref(), 200)?,
                })
            }
            ApplicantKind::Company => {
                stray("id_type", self.id_type.is_some())?;
                stray("id_number", self.id_number.is_some())?;
                stray("address", self.address.is_some())?;
                let uscc = self.uscc.as_deref().map(str::trim).unwrap_or_default();
                if !uscc_is_valid(uscc) {
                    return Err(ApiError::invalid(
                        "applicant.uscc",
                        "不是有效的统一社会信用代码",
                    ));
                }
                Ok(Identity::Company {
                    name,
                    uscc: uscc.to_owned(),
                    legal_representative: text(
                        "applicant.legal_representative",
                        self.legal_representative.as_deref(),
                        50,
                        false,
                    )?,
                    contact_name: text(
                        "applicant.contact_name",
                        self.contact_name.as_deref(),
                        50,
                        false,
                    )?,
                })
            }
        }
    }

    /// True when any identity field was sent (refused with `from_onenet`).
    pub fn has_identity_fields(&self) -> Option<&'static str> {
        [
            ("kind", self.kind.is_some()),
            ("name", self.name.is_some()),
            ("id_type", self.id_type.is_some()),
            ("id_number", self.id_number.is_some()),
            ("address", self.address.is_some()),
            ("uscc", self.uscc.is_some()),
            ("legal_representative", self.legal_representative.is_some()),
            ("contact_name", self.contact_name.is_some()),
        ]
        .into_iter()
        .find_map(|(f, present)| present.then_some(f))
    }
}

fn id_number(id_type: IdType, value: Option<&str>) -> ApiResult<String> {
    let field = "applicant.id_number";
    let value = value.map(str::trim).unwrap_or_default().to_uppercase();
    let ok = match id_type {
        IdType::ResidentId => resident_id_is_valid(&value),
        _ => (5..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric()),
    };
    if ok {
        Ok(value)
    } else {
        Err(ApiError::invalid(field, "证件号码格式不正确"))
    }
}

/// `周*` / `欧阳**`: the surname stays, the rest is starred.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    let first: String = chars.next().into_iter().collect();
    let rest = chars.count();
    // Compound surnames are rare; a two-character name keeps one.
    first + &"*".repeat(rest.max(1))
}

/// `310***********0021`: the region's first three and the last four stay.
pub fn mask_id_number(id: &str) -> String {
    let n = id.chars().count();
    if n <= 7 {
        return "*".repeat(n.max(4));
    }
    let head: String = id.chars().take(3).collect();
    let tail: String = id.chars().skip(n - 4).collect();
    format!("{head}{}{tail}", "*".repeat(n - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_what_identifies_loosely() {
        assert_eq!(mask_name("周明"), "周*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_id_number("310104198503120021"), "310***********0021");
        assert_eq!(mask_id_number("E123"), "****");
    }

    #[test]
    fn typed_identities_name_the_bad_field() {
        let mut input = ApplicantInput {
            kind: Some(ApplicantKind::Citizen),
            name: Some("周明".into()),
            id_type: Some(IdType::ResidentId),
            id_number: Some("310104198503120022".into()),
            ..Default::default()
        };
        let field = |r: ApiResult<Identity>| match r {
            Err(ApiError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(input.typed_identity()), "applicant.id_number");
        input.id_number = Some("310104198503120021".into());
        assert!(input.typed_identity().is_ok());
        input.uscc = Some("91310115MA1K4ABCDD".into());
        assert_eq!(field(input.typed_identity()), "applicant.uscc");
        input.uscc = None;
        input.name = Some(" \u{7} ".into());
        assert_eq!(field(input.typed_identity()), "applicant.name");
    }
}
