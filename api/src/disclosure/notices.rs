//! Notices (告知书) produced at the steps of the flow, from Chinese templates
//! filled from the case: correction (art. 30), consultation of a third party
//! (art. 32), extension (art. 33) and the reply (art. 36). Each is stored
//! sealed (it names the applicant) with the SM3 of its text, and waits for
//! the agency's seal.

use crate::db::Tx;
use crate::error::ApiResult;
use crate::ids::{CaseId, NoticeId, UserId};
use crate::on_tx;
use crate::state::AppState;

pub const BODY_FIELD: &str = "disclosure.notice";

crate::text_enum! {
    pub enum NoticeKind {
        Correction = "correction",
        Consultation = "consultation",
        Extension = "extension",
        Conclusion = "conclusion",
    }
}

crate::text_enum! {
    /// Whether the agency's seal is on the notice yet.
    pub enum NoticeSealStatus {
        AwaitingSeal = "awaiting_seal",
        Sealed = "sealed",
    }
}

impl NoticeKind {
    /// Addressed to the applicant (a consultation letter goes to the third
    /// party, and is not the applicant's to read).
    pub fn to_applicant(self) -> bool {
        self != NoticeKind::Consultation
    }

    pub fn title(self) -> &'static str {
        match self {
            NoticeKind::Correction => "政府信息公开申请补正告知书",
            NoticeKind::Consultation => "政府信息公开征求第三方意见函",
            NoticeKind::Extension => "政府信息公开申请延期答复告知书",
            NoticeKind::Conclusion => "政府信息公开申请答复书",
        }
    }

    /// The template; `{name}` placeholders are filled by [`render`].
    fn template(self) -> &'static str {
        match self {
            NoticeKind::Correction => {
                "{addressee}：\n\
                 本机关于{received_on}收到您（单位）提出的政府信息公开申请（编号：{case_no}），申请内容为：“{description}”。\
                 经审查，申请内容不明确。根据《中华人民共和国政府信息公开条例》第三十条的规定，请您于{deadline}前对以下内容作出更改、补充：\n\
                 {text}\n\
                 答复期限自本机关收到补正的申请之日起计算。无正当理由逾期不补正的，视为放弃申请，本机关不再处理该政府信息公开申请。"
            }
            NoticeKind::Consultation => {
                "{addressee}：\n\
                 本机关于{received_on}收到政府信息公开申请（编号：{case_no}）。申请公开的政府信息可能损害您（单位）的合法权益。\
                 根据《中华人民共和国政府信息公开条例》第三十二条的规定，现书面征求您（单位）的意见，请于{deadline}前提出。\
                 逾期未提出意见的，由本机关依照条例的规定决定是否公开。\n\
                 涉及事项：{text}"
            }
            NoticeKind::Extension => {
                "{addressee}：\n\
                 本机关于{received_on}收到您（单位）提出的政府信息公开申请（编号：{case_no}）。因{text}，不能在规定期限内作出答复。\
                 根据《中华人民共和国政府信息公开条例》第三十三条第二款的规定，经政府信息公开工作机构负责人同意，\
                 答复期限延长{days}个工作日，至{deadline}。"
            }
            NoticeKind::Conclusion => {
                "{addressee}：\n\
                 本机关于{received_on}收到您（单位）提出的政府信息公开申请（编号：{case_no}），申请内容为：“{description}”。\
                 经审查，现答复如下：\n\
                 {text}\n\
                 处理结果：{result}\n\
                 如对本答复不服，可以自收到本答复之日起六十日内依法申请行政复议，或者自收到本答复之日起六个月内依法提起行政诉讼。"
            }
        }
    }
}

/// What fills a notice.
pub struct NoticeFacts<'a> {
    pub addressee: &'a str,
    pub case_no: &'a str,
    pub received_on: &'a str,
    pub description: &'a str,
    pub agency: &'a str,
    /// The deadline the notice sets or announces.
    pub deadline: &'a str,
    /// The step's own text: what to correct, the matter, the reason, the reply.
    pub text: &'a str,
    pub days: u32,
    pub result: &'a str,
    pub issued_on: &'a str,
}

/// The notice's full text: title, body, agency and date.
pub fn render(kind: NoticeKind, f: &NoticeFacts<'_>) -> String {
    let body = kind
        .template()
        .replace("{addressee}", f.addressee)
        .replace("{case_no}", f.case_no)
        .replace("{received_on}", f.received_on)
        .replace("{description}", f.description)
        .replace("{deadline}", f.deadline)
        .replace("{days}", &f.days.to_string())
        .replace("{result}", f.result)
        // Last: free text may contain anything, including braces.
        .replace("{text}", f.text);
    format!(
        "{}\n\n{body}\n\n{}\n{}",
        kind.title(),
        f.agency,
        f.issued_on
    )
}

/// A notice of case `case_id` as a PDF download; `applicant` limits it to
/// the kinds addressed to the applicant. Another case's notice is 404.
pub async fn download(
    app: &AppState,
    case_id: &CaseId,
    notice_id: &NoticeId,
    applicant: bool,
) -> ApiResult<axum::response::Response> {
    const SQL: &str = "SELECT kind, body_sealed, seal_status, created_at FROM disclosure_notices \
         WHERE id = $1 AND case_id = $2";
    let row: Option<(NoticeKind, Vec<u8>, NoticeSealStatus, time::OffsetDateTime)> = crate::on_db!(&app.db, c => sqlx::query_as(SQL)
        .bind(notice_id).bind(case_id).fetch_optional(c).await)?;
    let (kind, sealed, seal_status, _) = row
        .filter(|r| !applicant || r.0.to_applicant())
        .ok_or(crate::error::ApiError::NotFound)?;
    let text = app
        .pii
        .decrypt(BODY_FIELD, &sealed)
        .map_err(|e| anyhow::anyhow!("notice {notice_id}: {e}"))?;
    let awaiting = seal_status == NoticeSealStatus::AwaitingSeal;
    crate::pdf::download(app, format!("{kind}-{notice_id}.pdf"), move |font| {
        super::pdf::render(font, &text, awaiting)
    })
    .await
}

/// A notice just stored.
pub struct Issued {
    pub id: NoticeId,
    pub kind: NoticeKind,
    /// SM3 of its text, hex.
    pub sm3: String,
}

/// Stores a notice inside `tx`.
pub async fn issue(
    app: &AppState,
    tx: &mut Tx,
    case_id: &CaseId,
    kind: NoticeKind,
    text: &str,
    by: Option<&UserId>,
) -> ApiResult<Issued> {
    const SQL: &str = "INSERT INTO disclosure_notices (id, case_id, kind, title, body_sealed, sm3, seal_status, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
    let id = NoticeId::generate();
    let sm3 = hex::encode(crate::crypto::sm3(text.as_bytes()));
    let sealed = app.pii.encrypt(BODY_FIELD, text);
    on_tx!(tx, c => sqlx::query(SQL).bind(&id).bind(case_id).bind(kind).bind(kind.title())
        .bind(&sealed).bind(&sm3).bind(NoticeSealStatus::AwaitingSeal).bind(by).bind(crate::clock::now()).execute(c).await.map(|_| ()))?;
    Ok(Issued { id, kind, sm3 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_are_filled_from_the_case_and_free_text_stays_literal() {
        let facts = NoticeFacts {
            addressee: "周明",
            case_no: "310104-XJH-2026-00001",
            received_on: "2026-03-02",
            description: "某项目的招标文件",
            agency: "徐家汇街道办事处",
            deadline: "2026-03-26",
            text: "请写明项目名称 {case_no}",
            days: 0,
            result: "",
            issued_on: "2026-03-05",
        };
        let text = render(NoticeKind::Correction, &facts);
        assert!(text.starts_with("政府信息公开申请补正告知书\n\n周明：\n"));
        assert!(text.contains("（编号：310104-XJH-2026-00001）"));
        assert!(text.contains("请您于2026-03-26前"));
        assert!(text.contains("请写明项目名称 {case_no}"), "{text}");
        assert!(text.ends_with("徐家汇街道办事处\n2026-03-05"));
    }
}
