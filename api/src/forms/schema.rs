//! A form's definition as JSON Schema (draft 2020-12), so that a client can
//! check a return before sending it. The server does not use this schema:
//! it checks every return with [`super::answers::check`], from the same
//! definition, so the two cannot disagree on what a field is. What a schema
//! cannot say (the GB 11643 check digit, a phone's carrier block) the
//! server still refuses.

use serde_json::{Map, Value, json};

use super::definition::{Definition, Field, Kind};

pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// The schema of a submitted return of `def` titled `title`.
pub fn of(def: &Definition, title: &str) -> Value {
    let mut schema = object(def.fields());
    schema["$schema"] = json!(DIALECT);
    schema["title"] = json!(title);
    schema
}

/// An object of `fields`: each a property, the required ones listed, no
/// other member allowed.
fn object<'a>(fields: impl Iterator<Item = &'a Field>) -> Value {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for f in fields {
        let mut s = field(f);
        s["title"] = json!(f.label);
        if f.computed.is_some() {
            s["readOnly"] = json!(true);
        } else if f.required {
            required.push(json!(f.key));
        }
        properties.insert(f.key.clone(), s);
    }
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

fn field(f: &Field) -> Value {
    match &f.kind {
        Kind::ShortText {
            min_length,
            max_length,
            pattern,
        } => {
            let mut s = json!({ "type": "string" });
            put(&mut s, "minLength", min_length.map(Value::from));
            put(&mut s, "maxLength", max_length.map(Value::from));
            put(
                &mut s,
                "pattern",
                pattern.as_ref().map(|p| json!(format!("^(?:{p})$"))),
            );
            s
        }
        Kind::LongText { max_length } => {
            let mut s = json!({ "type": "string" });
            put(&mut s, "maxLength", max_length.map(Value::from));
            s
        }
        Kind::Integer { min, max } => {
            let mut s = json!({ "type": "integer" });
            put(&mut s, "minimum", min.map(Value::from));
            put(&mut s, "maximum", max.map(Value::from));
            s
        }
        // Text is what to send (no binary float carries the amount); a
        // number is taken too. Places and bounds are the server's to check.
        Kind::Decimal { scale, .. } => json!({
            "type": ["string", "number"],
            "pattern": format!("^-?\\d+(\\.\\d{{1,{scale}}})?$"),
        }),
        Kind::Date { .. } => json!({ "type": "string", "format": "date" }),
        Kind::SingleChoice { options } => json!({ "enum": options }),
        Kind::MultipleChoice { options } => {
            json!({ "type": "array", "items": { "enum": options }, "uniqueItems": true })
        }
        Kind::YesNo => json!({ "type": "boolean" }),
        Kind::Phone => json!({ "type": "string", "pattern": "^1\\d{10}$" }),
        Kind::IdCard => json!({ "type": "string", "pattern": "^\\d{17}[\\dXx]$" }),
        Kind::Attachment { max_files, .. } => {
            json!({ "type": "array", "items": { "type": "string" }, "maxItems": max_files })
        }
        Kind::Table { columns } => json!({ "type": "array", "items": object(columns.iter()) }),
    }
}

fn put(s: &mut Value, name: &str, v: Option<Value>) {
    if let Some(v) = v {
        s[name] = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_as_json_schema() {
        let def: Definition = serde_json::from_value(json!({ "sections": [{ "fields": [
            { "key": "received", "label": "收到申请数", "type": "integer", "min": 0, "required": true },
            { "key": "pending", "label": "未答复数", "type": "integer", "computed": "received" },
            { "key": "fees", "label": "收费（万元）", "type": "decimal", "scale": 4 },
            { "key": "code", "label": "文号", "type": "short_text", "pattern": "\\d+号", "max_length": 50 },
            { "key": "docs", "label": "文件清单", "type": "table", "columns": [
                { "key": "title", "label": "文件名称", "type": "short_text", "required": true } ] },
        ] }] }))
        .unwrap();
        let s = of(&def, "2026年度报表");
        assert_eq!(s["$schema"], DIALECT);
        assert_eq!(s["additionalProperties"], false);
        assert_eq!(
            s["required"],
            json!(["received"]),
            "a computed field is not asked for"
        );
        assert_eq!(
            s["properties"]["received"],
            json!({ "type": "integer", "minimum": 0, "title": "收到申请数" })
        );
        assert_eq!(s["properties"]["pending"]["readOnly"], true);
        assert_eq!(s["properties"]["fees"]["pattern"], "^-?\\d+(\\.\\d{1,4})?$");
        assert_eq!(s["properties"]["code"]["pattern"], "^(?:\\d+号)$");
        let row = &s["properties"]["docs"]["items"];
        assert_eq!(
            (&row["required"], &row["additionalProperties"]),
            (&json!(["title"]), &json!(false))
        );
    }
}
