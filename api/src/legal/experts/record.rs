//! An expert as entered, checked field by field, and what a list shows of
//! the contact details. Pure.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::FieldError;
use crate::pii::Phone;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpertInput {
    /// 类别, e.g. 法学, 经济管理, 城市规划.
    pub category: String,
    pub name: String,
    /// 工作单位
    pub unit_name: String,
    /// 职务职称
    pub post: String,
    /// 专业领域, at most 10.
    #[serde(default)]
    pub fields: Vec<String>,
    /// A mainland mobile number; personal data.
    pub phone: Option<String>,
    /// Personal data.
    pub email: Option<String>,
    #[serde(default)]
    pub profile: String,
}

/// An expert that passed every check.
#[derive(Debug, Clone, PartialEq)]
pub struct Expert {
    pub category: String,
    pub name: String,
    pub unit_name: String,
    pub post: String,
    pub fields: Vec<String>,
    pub phone: Option<Phone>,
    pub email: Option<String>,
    pub profile: String,
}

fn problem(field: impl Into<String>, reason: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        reason: reason.into(),
    }
}

fn required(out: &mut Vec<FieldError>, field: &str, value: &str, max: usize) -> String {
    let v = value.trim();
    if v.is_empty() {
        out.push(problem(field, "不能为空"));
    } else if v.chars().count() > max {
        out.push(problem(field, format!("不能超过 {max} 个字")));
    }
    v.to_owned()
}

fn email(text: &str) -> Result<String, &'static str> {
    let t = text.trim();
    let ok = t.len() <= 100
        && t.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !host.starts_with('.') && !host.ends_with('.')
        })
        && !t.chars().any(|c| c.is_whitespace() || c == ',');
    if ok {
        Ok(t.to_owned())
    } else {
        Err("不是有效的电子邮箱")
    }
}

/// The expert, or every problem by field.
pub fn check(input: ExpertInput) -> Result<Expert, Vec<FieldError>> {
    let mut out = Vec::new();
    let category = required(&mut out, "category", &input.category, 50);
    let name = required(&mut out, "name", &input.name, 50);
    let unit_name = required(&mut out, "unit_name", &input.unit_name, 100);
    let post = required(&mut out, "post", &input.post, 100);
    if input.fields.len() > 10 {
        out.push(problem("fields", "专业领域最多 10 项"));
    }
    let fields: Vec<String> = input
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| required(&mut out, &format!("fields[{i}]"), f, 50))
        .collect();
    let phone = match input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) => Phone::parse(p)
            .map_err(|e| out.push(problem("phone", e)))
            .ok(),
        None => None,
    };
    let email = match input
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => email(e).map_err(|r| out.push(problem("email", r))).ok(),
        None => None,
    };
    if input.profile.chars().count() > 5000 {
        out.push(problem("profile", "不能超过 5000 个字"));
    }
    if !out.is_empty() {
        return Err(out);
    }
    Ok(Expert {
        category,
        name,
        unit_name,
        post,
        fields,
        phone,
        email,
        profile: input.profile.trim().to_owned(),
    })
}

impl Expert {
    /// What the fuzzy search looks in: name, unit, post and fields, lower
    /// case, one text.
    pub fn search_text(&self) -> String {
        format!(
            "{} {} {} {}",
            self.name,
            self.unit_name,
            self.post,
            self.fields.join(" ")
        )
        .to_lowercase()
    }
}

/// `z***@example.com`: the first character and the domain.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((user, host)) => {
            let first: String = user.chars().take(1).collect();
            format!("{first}***@{host}")
        }
        None => "***".into(),
    }
}

/// A contact as shown: whole to those whose role needs it, masked to
/// everyone else.
pub fn shown(value: Option<&str>, whole: bool, mask: fn(&str) -> String) -> Option<String> {
    value.map(|v| if whole { v.to_owned() } else { mask(v) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pii::mask_phone;

    fn input() -> ExpertInput {
        ExpertInput {
            category: "法学".into(),
            name: "张三".into(),
            unit_name: "华东政法大学".into(),
            post: "教授".into(),
            fields: vec!["行政法".into(), "规范性文件审查".into()],
            phone: Some("+86 139 1234 5678".into()),
            email: Some("zhangsan@ecupl.edu.cn".into()),
            profile: "长期从事行政法研究".into(),
        }
    }

    #[test]
    fn an_expert_is_checked_and_searchable() {
        let e = check(input()).unwrap();
        assert_eq!(e.phone.as_ref().unwrap().as_str(), "13912345678");
        assert!(e.search_text().contains("张三"));
        assert!(e.search_text().contains("规范性文件审查"));
        let mut bad = input();
        bad.name = " ".into();
        bad.phone = Some("12345".into());
        bad.email = Some("a@b".into());
        bad.fields = vec!["".into()];
        let fields: Vec<String> = check(bad)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "fields[0]", "phone", "email"]);
    }

    #[test]
    fn contacts_are_masked_unless_the_role_needs_them() {
        assert_eq!(mask_email("zhangsan@ecupl.edu.cn"), "z***@ecupl.edu.cn");
        assert_eq!(
            shown(Some("13912345678"), false, mask_phone).unwrap(),
            "139****5678"
        );
        assert_eq!(
            shown(Some("13912345678"), true, mask_phone).unwrap(),
            "13912345678"
        );
    }
}
