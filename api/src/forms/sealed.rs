//! Personal data inside a return (SEC-04): the values of phone and ID-card
//! fields, top level or in a table's column, are sealed with SM4 before the
//! answers are stored, and opened (or masked) when they are read. The rest
//! of a return is the unit's statistics, stored as JSON so that the
//! aggregate reads it without decrypting anything.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

use super::definition::{Definition, Field, Kind};
use crate::disclosure::applicant::mask_id_number;
use crate::pii::{PiiCipher, mask_phone};

const FIELD: &str = "form_returns.answers";
const PREFIX: &str = "sm4:";

/// How opened values are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// To the filling unit: its own data, as typed.
    Full,
    /// To everyone else: `138****5678`, `310***********0021`.
    Masked,
}

fn personal(f: &Field) -> bool {
    matches!(f.kind, Kind::Phone | Kind::IdCard)
}

/// Applies `change` to every personal value of `answers`, in place.
fn each_personal(
    def: &Definition,
    answers: &mut Map<String, Value>,
    change: &mut dyn FnMut(&Field, &mut Value),
) {
    for f in def.fields() {
        let Some(v) = answers.get_mut(&f.key) else {
            continue;
        };
        match &f.kind {
            _ if personal(f) => change(f, v),
            Kind::Table { columns } => {
                let rows = v.as_array_mut().into_iter().flatten();
                for row in rows.filter_map(Value::as_object_mut) {
                    for c in columns.iter().filter(|c| personal(c)) {
                        if let Some(cell) = row.get_mut(&c.key) {
                            change(c, cell);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Seals the personal values of checked `answers` for storage.
pub fn seal(def: &Definition, pii: &PiiCipher, answers: &mut Map<String, Value>) {
    each_personal(def, answers, &mut |_, v| {
        if let Some(s) = v.as_str() {
            *v = Value::String(format!(
                "{PREFIX}{}",
                STANDARD.encode(pii.encrypt(FIELD, s))
            ));
        }
    });
}

/// Opens stored `answers`, showing personal values as `reveal` says. A
/// value that does not open (altered, or another key) reads as null and is
/// logged, rather than failing the whole return.
pub fn open(def: &Definition, pii: &PiiCipher, answers: &mut Map<String, Value>, reveal: Reveal) {
    each_personal(def, answers, &mut |f, v| {
        let Some(sealed) = v.as_str().and_then(|s| s.strip_prefix(PREFIX)) else {
            return;
        };
        let plain = STANDARD
            .decode(sealed)
            .ok()
            .and_then(|bytes| pii.decrypt(FIELD, &bytes).ok());
        *v = match (plain, reveal) {
            (Some(p), Reveal::Full) => Value::String(p),
            (Some(p), Reveal::Masked) if matches!(f.kind, Kind::Phone) => {
                Value::String(mask_phone(&p))
            }
            (Some(p), Reveal::Masked) => Value::String(mask_id_number(&p)),
            (None, _) => {
                tracing::warn!(field = %f.key, "a sealed form value does not open");
                Value::Null
            }
        };
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;
    use serde_json::json;

    #[test]
    fn phones_and_id_numbers_are_sealed_at_rest_and_masked_for_others() {
        let def: Definition = serde_json::from_value(json!({ "sections": [{ "fields": [
            { "key": "n", "label": "数", "type": "integer" },
            { "key": "tel", "label": "电话", "type": "phone" },
            { "key": "people", "label": "人员", "type": "table", "columns": [
                { "key": "id_no", "label": "身份证号", "type": "id_card" } ] } ] }] }))
        .unwrap();
        let pii = PiiCipher::new(
            &SecretString::from("00112233445566778899aabbccddeeff"),
            SecretString::from("k"),
        )
        .unwrap();
        let given =
            json!({ "n": 3, "tel": "13812345678", "people": [{ "id_no": "11010519491231002X" }] });
        let mut stored = given.as_object().unwrap().clone();
        seal(&def, &pii, &mut stored);
        let text = serde_json::to_string(&stored).unwrap();
        assert!(
            !text.contains("13812345678") && !text.contains("19491231"),
            "{text}"
        );
        assert_eq!(stored["n"], 3);
        let mut mine = stored.clone();
        open(&def, &pii, &mut mine, Reveal::Full);
        assert_eq!(Value::Object(mine), given);
        let mut theirs = stored;
        open(&def, &pii, &mut theirs, Reveal::Masked);
        assert_eq!(theirs["tel"], "138****5678");
        assert_eq!(theirs["people"][0]["id_no"], "110***********002X");
    }
}
