//! Notification templates, in Chinese, per kind and channel. The parameter
//! names are part of the template: an enqueue with a missing or extra
//! parameter is refused (a programming error, caught by tests), never sent
//! as a blank or half-filled SMS.
//!
//! SMS templates are registered with Aliyun, which assigns each a template
//! code (configuration: `notify.sms_templates.KIND`); the text here is what
//! was registered, used by the log provider and the SMS stand-in.

pub struct SmsTemplate {
    pub kind: &'static str,
    /// Aliyun's `${name}` placeholders.
    pub text: &'static str,
    pub params: &'static [&'static str],
}

pub const SMS: &[SmsTemplate] = &[
    SmsTemplate {
        kind: "verification_code",
        text: "您的验证码为${code}，${minutes}分钟内有效。如非本人操作，请忽略本短信。",
        params: &["code", "minutes"],
    },
    SmsTemplate {
        kind: "seal_approval_pending",
        text: "${applicant}提交了用印申请（${case_no}），请登录随申办“政务信息资源应用”审批。",
        params: &["applicant", "case_no"],
    },
    SmsTemplate {
        kind: "seal_result",
        text: "您提交的用印申请（${case_no}）${result}。",
        params: &["case_no", "result"],
    },
    SmsTemplate {
        kind: "case_assigned",
        text: "您有新的依申请公开件（${case_no}）待办理，办理期限${due_date}。",
        params: &["case_no", "due_date"],
    },
    SmsTemplate {
        kind: "case_deadline",
        text: "依申请公开件${case_no}将于${due_date}到期，剩余${days}个工作日，请及时办理。",
        params: &["case_no", "due_date", "days"],
    },
    SmsTemplate {
        kind: "case_overdue",
        text: "依申请公开件${case_no}已超过答复期限（${due_date}），请尽快办理。",
        params: &["case_no", "due_date"],
    },
    SmsTemplate {
        kind: "case_deadline_moved",
        text: "依申请公开件${case_no}的答复期限按国务院节假日安排调整为${due_date}。",
        params: &["case_no", "due_date"],
    },
    SmsTemplate {
        kind: "calendar_missing",
        text: "${year}年节假日安排尚未导入系统，期限暂按法定节假日计算，请安全管理员导入。",
        params: &["year"],
    },
    // Within one SMS segment (70 characters with the signature), which is
    // why the receipt date is left out of the provisional text: the
    // applicant's page shows it.
    SmsTemplate {
        kind: "disclosure_received_provisional",
        text: "信息公开申请已登记（${case_no}），预计${due_on}前答复，以国务院节假日安排为准。",
        params: &["case_no", "due_on"],
    },
    SmsTemplate {
        kind: "disclosure_received",
        text: "您的政府信息公开申请已登记，编号${case_no}，收到申请日期${received_on}，答复期限${due_on}。",
        params: &["case_no", "received_on", "due_on"],
    },
    SmsTemplate {
        kind: "form_assigned",
        text: "您单位有新的填报任务“${title}”，请于${due_date}前填报。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "form_reminder",
        text: "填报任务“${title}”将于${due_date}截止，您单位尚未提交，请及时填报。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "form_overdue",
        text: "填报任务“${title}”已于${due_date}截止，您单位尚未提交，请尽快填报。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "form_returned",
        text: "您单位提交的“${title}”已被退回，请查看退回原因后修改，截止日期${due_date}。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "cleanup_assigned",
        text: "您单位有新的规范性文件清理任务“${title}”，请于${due_date}前报送清理清单。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "cleanup_reminder",
        text: "规范性文件清理“${title}”将于${due_date}截止，您单位清单尚未报送，请及时报送。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "cleanup_overdue",
        text: "规范性文件清理“${title}”已于${due_date}截止，您单位清单尚未报送，请尽快报送。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "cleanup_returned",
        text: "您单位的规范性文件清理清单“${title}”已被退回，请查看退回原因后修改，截止日期${due_date}。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "assessment_published",
        text: "“${title}”的考核指标已发布，请于${due_date}前报送扣分说明材料。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "assessment_reminder",
        text: "“${title}”扣分说明材料将于${due_date}截止报送，请及时报送。",
        params: &["title", "due_date"],
    },
    SmsTemplate {
        kind: "exchange_note",
        text: "${sender}发来工作交流“${title}”，请登录系统查看。",
        params: &["sender", "title"],
    },
    SmsTemplate {
        kind: "exchange_reply",
        text: "工作交流“${title}”有新的回复，请登录系统查看。",
        params: &["title"],
    },
    SmsTemplate {
        kind: "application_warning",
        text: "政府信息公开申请预警：申请人${applicant}触发“${rule}”（${count}件），请登录系统查看并反馈处理情况。",
        params: &["applicant", "rule", "count"],
    },
    SmsTemplate {
        kind: "notification_test",
        text: "这是政务信息资源应用系统的测试短信，发送时间${time}。",
        params: &["time"],
    },
];

pub struct PushTemplate {
    pub kind: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    /// Deep link the app opens.
    pub link: &'static str,
    pub params: &'static [&'static str],
}

pub const PUSH: &[PushTemplate] = &[
    PushTemplate {
        kind: "seal_approval_pending",
        title: "用印审批",
        body: "${applicant}提交了用印申请（${case_no}），请审批。",
        link: "govapp://seal-applications/${application_id}",
        params: &["applicant", "case_no", "application_id"],
    },
    PushTemplate {
        kind: "seal_result",
        title: "用印结果",
        body: "您提交的用印申请（${case_no}）${result}。",
        link: "govapp://seal-applications/${application_id}",
        params: &["case_no", "result", "application_id"],
    },
    PushTemplate {
        kind: "case_assigned",
        title: "新的待办",
        body: "依申请公开件${case_no}待办理，期限${due_date}。",
        link: "govapp://cases/${case_id}",
        params: &["case_no", "due_date", "case_id"],
    },
    PushTemplate {
        kind: "case_deadline",
        title: "即将到期",
        body: "依申请公开件${case_no}将于${due_date}到期，剩余${days}个工作日。",
        link: "govapp://cases/${case_id}",
        params: &["case_no", "due_date", "days", "case_id"],
    },
    PushTemplate {
        kind: "case_overdue",
        title: "已超期",
        body: "依申请公开件${case_no}已超过答复期限（${due_date}）。",
        link: "govapp://cases/${case_id}",
        params: &["case_no", "due_date", "case_id"],
    },
    PushTemplate {
        kind: "case_deadline_moved",
        title: "期限调整",
        body: "依申请公开件${case_no}的答复期限按国务院节假日安排调整为${due_date}。",
        link: "govapp://cases/${case_id}",
        params: &["case_no", "due_date", "case_id"],
    },
    PushTemplate {
        kind: "calendar_missing",
        title: "节假日安排未导入",
        body: "${year}年节假日安排尚未导入系统，期限暂按法定节假日计算。",
        link: "govapp://home",
        params: &["year"],
    },
    PushTemplate {
        kind: "form_assigned",
        title: "新的填报任务",
        body: "“${title}”请于${due_date}前填报。",
        link: "govapp://form-returns/${return_id}",
        params: &["title", "due_date", "return_id"],
    },
    PushTemplate {
        kind: "form_reminder",
        title: "填报即将截止",
        body: "“${title}”将于${due_date}截止，您单位尚未提交。",
        link: "govapp://form-returns/${return_id}",
        params: &["title", "due_date", "return_id"],
    },
    PushTemplate {
        kind: "form_overdue",
        title: "填报已截止",
        body: "“${title}”已于${due_date}截止，您单位尚未提交。",
        link: "govapp://form-returns/${return_id}",
        params: &["title", "due_date", "return_id"],
    },
    PushTemplate {
        kind: "form_returned",
        title: "填报被退回",
        body: "“${title}”已被退回，请查看原因后修改，截止日期${due_date}。",
        link: "govapp://form-returns/${return_id}",
        params: &["title", "due_date", "return_id"],
    },
    PushTemplate {
        kind: "cleanup_assigned",
        title: "规范性文件清理",
        body: "“${title}”请于${due_date}前报送清理清单。",
        link: "govapp://cleanup-lists/${list_id}",
        params: &["title", "due_date", "list_id"],
    },
    PushTemplate {
        kind: "cleanup_reminder",
        title: "清理清单即将截止",
        body: "“${title}”将于${due_date}截止，您单位清单尚未报送。",
        link: "govapp://cleanup-lists/${list_id}",
        params: &["title", "due_date", "list_id"],
    },
    PushTemplate {
        kind: "cleanup_overdue",
        title: "清理清单已截止",
        body: "“${title}”已于${due_date}截止，您单位清单尚未报送。",
        link: "govapp://cleanup-lists/${list_id}",
        params: &["title", "due_date", "list_id"],
    },
    PushTemplate {
        kind: "cleanup_returned",
        title: "清理清单被退回",
        body: "“${title}”已被退回，请查看原因后修改，截止日期${due_date}。",
        link: "govapp://cleanup-lists/${list_id}",
        params: &["title", "due_date", "list_id"],
    },
    PushTemplate {
        kind: "assessment_published",
        title: "考核指标已发布",
        body: "“${title}”请于${due_date}前报送扣分说明材料。",
        link: "govapp://assessments/${assessment_id}",
        params: &["title", "due_date", "assessment_id"],
    },
    PushTemplate {
        kind: "assessment_reminder",
        title: "考核材料即将截止",
        body: "“${title}”扣分说明材料将于${due_date}截止报送。",
        link: "govapp://assessments/${assessment_id}",
        params: &["title", "due_date", "assessment_id"],
    },
    PushTemplate {
        kind: "exchange_note",
        title: "新的工作交流",
        body: "${sender}：${title}",
        link: "govapp://notes/${note_id}",
        params: &["sender", "title", "note_id"],
    },
    PushTemplate {
        kind: "exchange_reply",
        title: "工作交流有新回复",
        body: "“${title}”有新的回复。",
        link: "govapp://notes/${note_id}",
        params: &["title", "note_id"],
    },
    PushTemplate {
        kind: "application_warning",
        title: "申请预警",
        body: "申请人${applicant}触发“${rule}”（${count}件），请查看并反馈。",
        link: "govapp://warnings/${warning_id}",
        params: &["applicant", "rule", "count", "warning_id"],
    },
    PushTemplate {
        kind: "notification_test",
        title: "测试通知",
        body: "这是政务信息资源应用系统的测试通知，发送时间${time}。",
        link: "govapp://home",
        params: &["time"],
    },
];

pub fn push(kind: &str) -> Option<&'static PushTemplate> {
    PUSH.iter().find(|t| t.kind == kind)
}

pub fn sms(kind: &str) -> Option<&'static SmsTemplate> {
    SMS.iter().find(|t| t.kind == kind)
}

/// Every notification kind that may fall back from push to SMS needs an
/// SMS template whose parameters the push call also carries.
pub fn fallback_is_possible(kind: &str) -> bool {
    match (push(kind), sms(kind)) {
        (Some(p), Some(s)) => s.params.iter().all(|name| p.params.contains(name)),
        _ => false,
    }
}

/// Checks `params` against the template: the same names, each once,
/// values non-empty and short (Aliyun limits a variable to 35 characters
/// for notifications).
pub fn check_params(template: &SmsTemplate, params: &[(&str, &str)]) -> Result<(), String> {
    for (name, value) in params {
        if !template.params.contains(name) {
            return Err(format!(
                "template {} has no parameter {name}",
                template.kind
            ));
        }
        if value.is_empty() || value.chars().count() > 35 {
            return Err(format!(
                "parameter {name} of {} must be 1–35 characters",
                template.kind
            ));
        }
    }
    for name in template.params {
        if params.iter().filter(|(n, _)| n == name).count() != 1 {
            return Err(format!(
                "template {} needs parameter {name} exactly once",
                template.kind
            ));
        }
    }
    Ok(())
}

/// The text a recipient reads, for the log provider and the stand-in.
pub fn render(text: &str, params: &serde_json::Map<String, serde_json::Value>) -> String {
    params.iter().fold(text.to_owned(), |acc, (name, value)| {
        acc.replace(&format!("${{{name}}}"), value.as_str().unwrap_or_default())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_names_its_placeholders() {
        for t in SMS {
            for p in t.params {
                assert!(t.text.contains(&format!("${{{p}}}")), "{}: {p}", t.kind);
            }
            assert_eq!(t.text.matches("${").count(), t.params.len(), "{}", t.kind);
        }
    }

    #[test]
    fn every_push_kind_can_fall_back_to_sms() {
        for t in PUSH {
            assert!(fallback_is_possible(t.kind), "{}", t.kind);
            for p in t.params {
                let placeholder = format!("${{{p}}}");
                assert!(
                    t.body.contains(&placeholder) || t.link.contains(&placeholder),
                    "{}: {p}",
                    t.kind
                );
            }
        }
    }

    #[test]
    fn parameters_must_match_exactly() {
        let t = sms("verification_code").unwrap();
        assert!(check_params(t, &[("code", "123456"), ("minutes", "5")]).is_ok());
        assert!(check_params(t, &[("code", "123456")]).is_err(), "missing");
        assert!(
            check_params(t, &[("code", "1"), ("minutes", "5"), ("extra", "x")]).is_err(),
            "extra"
        );
        assert!(
            check_params(t, &[("code", "1"), ("code", "2"), ("minutes", "5")]).is_err(),
            "twice"
        );
        assert!(
            check_params(t, &[("code", ""), ("minutes", "5")]).is_err(),
            "empty"
        );
    }

    /// A provisional receipt is one SMS segment (70 characters with the
    /// 【签名】) for a case number of today's shape.
    #[test]
    fn the_provisional_receipt_fits_one_segment() {
        let t = sms("disclosure_received_provisional").unwrap();
        let mut params = serde_json::Map::new();
        params.insert("case_no".into(), "310104-XJH-2026-00001".into());
        params.insert("due_on".into(), "2027-01-05".into());
        let text = format!("【上海市政务服务】{}", render(t.text, &params));
        assert!(text.contains("预计2027-01-05前答复"), "{text}");
        assert!(
            text.chars().count() <= 70,
            "{} characters: {text}",
            text.chars().count()
        );
    }

    #[test]
    fn render_fills_placeholders() {
        let t = sms("verification_code").unwrap();
        let params = serde_json::json!({ "code": "123456", "minutes": "5" });
        let text = render(t.text, params.as_object().unwrap());
        assert!(text.starts_with("您的验证码为123456，5分钟内有效"));
    }
}
