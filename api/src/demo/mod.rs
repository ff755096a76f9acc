//! Demo data for `gov-server serve --demo`: a realistic slice of Shanghai's
//! government, with users for every role. Loading is idempotent (units are
//! keyed by code, users by login name) and refused in production.
//!
//! Phone numbers come from the block 1990000xxxx. Mainland China publishes
//! no range reserved for fiction, so the demo keeps to one block that the
//! SMS stand-in owns and production data can be checked against.

pub mod assessment;
pub mod bulk;
pub mod cleanup;
pub mod experts;
pub mod filings;
pub mod last_year;

use serde_json::json;

use crate::audit::{self, Actor, Entry, Outcome};
use crate::authz::Role;
use crate::clock;
use crate::config::Config;
use crate::db::{Db, Tx};
use crate::error::{ApiError, ApiResult};
use crate::on_tx;
use crate::org::UnitKind::{self, *};
use crate::org::{roles, users};
use crate::pii::{Phone, PiiCipher};

pub const DEMO_PHONE_PREFIX: &str = "1990000";
/// Demo officials' user ids at the unified office platform are this plus
/// their login name.
pub const DEMO_PLATFORM_PREFIX: &str = "up-";

/// (code, parent code, name, kind). Parents come before their children.
const UNITS: &[(&str, Option<&str>, &str, UnitKind)] = &[
    ("SH", None, "上海市人民政府", CityGovernment),
    ("SH-BGT", Some("SH"), "上海市人民政府办公厅", GeneralOffice),
    ("SH-BGT-FW", Some("SH-BGT"), "法律事务处", Office),
    ("SH-BGT-GK", Some("SH-BGT"), "政务公开办公室", Office),
    ("SH-BGT-MS", Some("SH-BGT"), "秘书处", Office),
    (
        "SH-FGW",
        Some("SH"),
        "上海市发展和改革委员会",
        MunicipalDepartment,
    ),
    (
        "SH-JXW",
        Some("SH"),
        "上海市经济和信息化委员会",
        MunicipalDepartment,
    ),
    ("SH-JW", Some("SH"), "上海市教育委员会", MunicipalDepartment),
    (
        "SH-KW",
        Some("SH"),
        "上海市科学技术委员会",
        MunicipalDepartment,
    ),
    ("SH-GA", Some("SH"), "上海市公安局", MunicipalDepartment),
    ("SH-MZ", Some("SH"), "上海市民政局", MunicipalDepartment),
    ("SH-SFJ", Some("SH"), "上海市司法局", MunicipalDepartment),
    ("SH-CZ", Some("SH"), "上海市财政局", MunicipalDepartment),
    (
        "SH-RSJ",
        Some("SH"),
        "上海市人力资源和社会保障局",
        MunicipalDepartment,
    ),
    (
        "SH-GHZY",
        Some("SH"),
        "上海市规划和自然资源局",
        MunicipalDepartment,
    ),
    (
        "SH-STHJ",
        Some("SH"),
        "上海市生态环境局",
        MunicipalDepartment,
    ),
    (
        "SH-ZJW",
        Some("SH"),
        "上海市住房和城乡建设管理委员会",
        MunicipalDepartment,
    ),
    (
        "SH-JTW",
        Some("SH"),
        "上海市交通委员会",
        MunicipalDepartment,
    ),
    (
        "SH-WJW",
        Some("SH"),
        "上海市卫生健康委员会",
        MunicipalDepartment,
    ),
    (
        "SH-SCJG",
        Some("SH"),
        "上海市市场监督管理局",
        MunicipalDepartment,
    ),
    // The 16 districts, by their GB/T 2260 codes.
    (
        "310101",
        Some("SH"),
        "上海市黄浦区人民政府",
        DistrictGovernment,
    ),
    (
        "310104",
        Some("SH"),
        "上海市徐汇区人民政府",
        DistrictGovernment,
    ),
    (
        "310105",
        Some("SH"),
        "上海市长宁区人民政府",
        DistrictGovernment,
    ),
    (
        "310106",
        Some("SH"),
        "上海市静安区人民政府",
        DistrictGovernment,
    ),
    (
        "310107",
        Some("SH"),
        "上海市普陀区人民政府",
        DistrictGovernment,
    ),
    (
        "310109",
        Some("SH"),
        "上海市虹口区人民政府",
        DistrictGovernment,
    ),
    (
        "310110",
        Some("SH"),
        "上海市杨浦区人民政府",
        DistrictGovernment,
    ),
    (
        "310112",
        Some("SH"),
        "上海市闵行区人民政府",
        DistrictGovernment,
    ),
    (
        "310113",
        Some("SH"),
        "上海市宝山区人民政府",
        DistrictGovernment,
    ),
    (
        "310114",
        Some("SH"),
        "上海市嘉定区人民政府",
        DistrictGovernment,
    ),
    (
        "310115",
        Some("SH"),
        "上海市浦东新区人民政府",
        DistrictGovernment,
    ),
    (
        "310116",
        Some("SH"),
        "上海市金山区人民政府",
        DistrictGovernment,
    ),
    (
        "310117",
        Some("SH"),
        "上海市松江区人民政府",
        DistrictGovernment,
    ),
    (
        "310118",
        Some("SH"),
        "上海市青浦区人民政府",
        DistrictGovernment,
    ),
    (
        "310120",
        Some("SH"),
        "上海市奉贤区人民政府",
        DistrictGovernment,
    ),
    (
        "310151",
        Some("SH"),
        "上海市崇明区人民政府",
        DistrictGovernment,
    ),
    // 徐汇区
    (
        "310104-BGS",
        Some("310104"),
        "徐汇区人民政府办公室",
        DistrictBureau,
    ),
    ("310104-JYJ", Some("310104"), "徐汇区教育局", DistrictBureau),
    (
        "310104-WJW",
        Some("310104"),
        "徐汇区卫生健康委员会",
        DistrictBureau,
    ),
    (
        "310104-GHZY",
        Some("310104"),
        "徐汇区规划和自然资源局",
        DistrictBureau,
    ),
    ("310104-XJH", Some("310104"), "徐家汇街道办事处", Street),
    ("310104-TPL", Some("310104"), "天平路街道办事处", Street),
    ("310104-HNL", Some("310104"), "湖南路街道办事处", Street),
    ("310104-FLL", Some("310104"), "枫林路街道办事处", Street),
    ("310104-HJZ", Some("310104"), "华泾镇人民政府", Town),
    // 浦东新区
    (
        "310115-BGS",
        Some("310115"),
        "浦东新区人民政府办公室",
        DistrictBureau,
    ),
    (
        "310115-GHZY",
        Some("310115"),
        "浦东新区规划和自然资源局",
        DistrictBureau,
    ),
    (
        "310115-SCJG",
        Some("310115"),
        "浦东新区市场监督管理局",
        DistrictBureau,
    ),
    (
        "310115-JYJ",
        Some("310115"),
        "浦东新区教育局",
        DistrictBureau,
    ),
    ("310115-LJZ", Some("310115"), "陆家嘴街道办事处", Street),
    ("310115-WFXC", Some("310115"), "潍坊新村街道办事处", Street),
    ("310115-HM", Some("310115"), "花木街道办事处", Street),
    ("310115-ZJZ", Some("310115"), "张江镇人民政府", Town),
    ("310115-CSXZ", Some("310115"), "川沙新镇人民政府", Town),
    ("310115-HNZ", Some("310115"), "惠南镇人民政府", Town),
    // 闵行区
    ("310112-JYJ", Some("310112"), "闵行区教育局", DistrictBureau),
    ("310112-JCL", Some("310112"), "江川路街道办事处", Street),
    ("310112-QBZ", Some("310112"), "七宝镇人民政府", Town),
];

/// (login name, name, home unit code, role grants as (role, unit code)).
type DemoUser = (
    &'static str,
    &'static str,
    Option<&'static str>,
    &'static [(Role, Option<&'static str>)],
);

const USERS: &[DemoUser] = &[
    (
        "sysadmin",
        "王建国",
        Some("SH-BGT"),
        &[(Role::SystemAdmin, Some("SH"))],
    ),
    (
        "secadmin",
        "李静",
        Some("SH-BGT"),
        &[(Role::SecurityAdmin, Some("SH"))],
    ),
    (
        "auditadmin",
        "张敏",
        Some("SH-BGT"),
        &[(Role::AuditAdmin, Some("SH"))],
    ),
    (
        "bgt_admin",
        "陈晓明",
        Some("SH-BGT"),
        &[(Role::UnitAdmin, Some("SH-BGT"))],
    ),
    (
        "bgt_approver",
        "刘伟",
        Some("SH-BGT"),
        &[(Role::SealApprover, Some("SH-BGT"))],
    ),
    (
        "gk_dispatcher",
        "杨帆",
        Some("SH-BGT-GK"),
        &[(Role::Dispatcher, Some("SH-BGT-GK"))],
    ),
    (
        "gk_handler",
        "赵丽",
        Some("SH-BGT-GK"),
        &[(Role::Handler, Some("SH-BGT-GK"))],
    ),
    (
        "fw_staff",
        "孙浩",
        Some("SH-BGT-FW"),
        &[(Role::LegalAdmin, Some("SH-BGT-FW"))],
    ),
    (
        "ghzy_handler",
        "宋佳",
        Some("SH-GHZY"),
        &[(Role::Handler, Some("SH-GHZY"))],
    ),
    (
        "xh_admin",
        "周杰",
        Some("310104"),
        &[(Role::UnitAdmin, Some("310104"))],
    ),
    (
        "xh_approver",
        "吴婷",
        Some("310104"),
        &[(Role::SealApprover, Some("310104"))],
    ),
    (
        "xh_dispatcher",
        "郑强",
        Some("310104"),
        &[(Role::Dispatcher, Some("310104"))],
    ),
    (
        "xh_handler",
        "何芳",
        Some("310104-BGS"),
        &[(Role::Handler, Some("310104-BGS"))],
    ),
    (
        "xjh_handler",
        "林涛",
        Some("310104-XJH"),
        &[(Role::Handler, Some("310104-XJH"))],
    ),
    (
        "pd_admin",
        "高磊",
        Some("310115"),
        &[(Role::UnitAdmin, Some("310115"))],
    ),
    (
        "pd_approver",
        "马丽",
        Some("310115"),
        &[(Role::SealApprover, Some("310115"))],
    ),
    (
        "pd_dispatcher",
        "罗军",
        Some("310115"),
        &[(Role::Dispatcher, Some("310115"))],
    ),
    (
        "pd_handler",
        "梁燕",
        Some("310115-BGS"),
        &[
            (Role::Handler, Some("310115-BGS")),
            (Role::SealApprover, Some("310115-BGS")),
        ],
    ),
    ("applicant_zhou", "周明", None, &[(Role::Applicant, None)]),
    // The forms module's people (appended, so earlier phones stay put).
    (
        "gk_forms",
        "钱芳",
        Some("SH-BGT-GK"),
        &[(Role::FormSender, Some("SH-BGT-GK"))],
    ),
    (
        "xh_filler",
        "孔亮",
        Some("310104"),
        &[(Role::FormFiller, Some("310104"))],
    ),
    (
        "xjh_filler",
        "曹敏",
        Some("310104-XJH"),
        &[(Role::FormFiller, Some("310104-XJH"))],
    ),
    (
        "pd_filler",
        "袁博",
        Some("310115"),
        &[(Role::FormFiller, Some("310115"))],
    ),
    (
        "gk_admin",
        "韩雪",
        Some("SH-BGT-GK"),
        &[(Role::DisclosureAdmin, Some("SH-BGT-GK"))],
    ),
    // The district government's disclosure administrator: reviews the
    // annual reports of Xuhui's bureaus, towns and streets.
    (
        "xh_gk_admin",
        "潘悦",
        Some("310104"),
        &[(Role::DisclosureAdmin, Some("310104"))],
    ),
    // The legal affairs people of the units (FW-01): a municipal bureau
    // whose one officer fills and checks, Xuhui's reporting officer and
    // reviewer (who also decides its bureaus' and streets' lists), and a
    // street's officer.
    (
        "ghzy_fz",
        "何静",
        Some("SH-GHZY"),
        &[
            (Role::LegalReporter, Some("SH-GHZY")),
            (Role::LegalReviewer, Some("SH-GHZY")),
        ],
    ),
    (
        "xh_fz",
        "钱伟",
        Some("310104"),
        &[(Role::LegalReporter, Some("310104"))],
    ),
    (
        "xh_fz_lead",
        "陈敏",
        Some("310104"),
        &[(Role::LegalReviewer, Some("310104"))],
    ),
    (
        "xjh_fz",
        "吴磊",
        Some("310104-XJH"),
        &[
            (Role::LegalReporter, Some("310104-XJH")),
            (Role::LegalReviewer, Some("310104-XJH")),
        ],
    ),
];

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Loaded {
    pub units: usize,
    pub users: usize,
}

pub async fn load(db: &Db, config: &Config, pii: &PiiCipher) -> ApiResult<Loaded> {
    if config.is_production() {
        return Err(ApiError::Forbidden);
    }
    let audit_key = config.audit_key();
    let actor = Actor::system("demo-loader");
    let mut tx = db.begin().await?;
    let mut loaded = Loaded::default();
    for (order, (code, parent, name, kind)) in UNITS.iter().enumerate() {
        if insert_unit(&mut tx, code, *parent, name, *kind, order as i64).await? {
            loaded.units += 1;
        }
    }
    for (n, (login, name, home, grants)) in USERS.iter().enumerate() {
        const EXISTS: &str = "SELECT COUNT(*) FROM users WHERE login_name = $1";
        let count: i64 =
            on_tx!(&mut tx, c => sqlx::query_scalar(EXISTS).bind(login).fetch_one(c).await)?;
        if count > 0 {
            continue;
        }
        let phone = Phone::parse(&format!("{DEMO_PHONE_PREFIX}{:04}", n + 1))
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("demo phone: {e}")))?;
        let unit_id = match home {
            Some(code) => Some(unit_id_by_code(&mut tx, code).await?),
            None => None,
        };
        let platform_id = home.map(|_| format!("{DEMO_PLATFORM_PREFIX}{login}"));
        let user = users::NewUser {
            login_name: login,
            display_name: name,
            unit_id: unit_id.as_deref(),
            phone: Some(&phone),
            platform_id: platform_id.as_deref(),
        };
        let user_id = users::create(&mut tx, pii, user).await?;
        for (role, unit) in grants.iter() {
            let unit = match unit {
                Some(code) => Some(unit_id_by_code(&mut tx, code).await?),
                None => None,
            };
            roles::assign(&mut tx, audit_key, &actor, &user_id, *role, unit.as_deref()).await?;
        }
        loaded.users += 1;
    }
    if loaded != Loaded::default() {
        let entry = Entry {
            actor,
            action: "demo.load",
            target_type: None,
            target_id: None,
            outcome: Outcome::Success,
            detail: json!({ "units": loaded.units, "users": loaded.users }),
        };
        audit::append(&mut tx, audit_key, entry).await?;
    }
    tx.commit().await?;
    Ok(loaded)
}

/// Inserts a unit unless its code exists; answers whether it was inserted.
async fn insert_unit(
    tx: &mut Tx,
    code: &str,
    parent: Option<&str>,
    name: &str,
    kind: UnitKind,
    order: i64,
) -> ApiResult<bool> {
    const PARENT: &str = "SELECT id, path, depth FROM org_units WHERE code = $1";
    const INSERT: &str = "INSERT INTO org_units (id, parent_id, code, name, kind, path, depth, \
         sort_order, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) \
         ON CONFLICT (code) DO NOTHING";
    let (parent_id, parent_path, depth) = match parent {
        Some(p) => {
            let (id, path, depth): (String, String, i32) =
                on_tx!(tx, c => sqlx::query_as(PARENT).bind(p).fetch_one(c).await)?;
            (Some(id), path, depth + 1)
        }
        None => (None, "/".to_owned(), 0),
    };
    let id = ulid::Ulid::new().to_string();
    let path = format!("{parent_path}{id}/");
    let done = on_tx!(tx, c => sqlx::query(INSERT)
        .bind(&id).bind(&parent_id).bind(code).bind(name).bind(kind).bind(&path)
        .bind(depth).bind(order).bind(clock::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

async fn unit_id_by_code(tx: &mut Tx, code: &str) -> ApiResult<String> {
    const SQL: &str = "SELECT id FROM org_units WHERE code = $1";
    Ok(on_tx!(tx, c => sqlx::query_scalar(SQL).bind(code).fetch_one(c).await)?)
}
