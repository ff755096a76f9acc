//! Checks of input that every module shares: free text, and the check
//! characters of the national identifiers (resident ID, unified social
//! credit code). Each answers a 422 naming the field, or a yes or no.

use crate::error::{ApiError, ApiResult};

/// Checks free text: trimmed, present, at most `max` characters, and free
/// of control characters (line breaks allowed where `multiline`).
pub fn text(field: &str, value: Option<&str>, max: usize, multiline: bool) -> ApiResult<String> {
    let value = value.map(str::trim).unwrap_or_default();
    if value.is_empty() {
        return Err(ApiError::invalid(field, "不能为空"));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(field, format!("不能超过 {max} 个字")));
    }
    let bad = |c: char| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t'));
    if value.chars().any(bad) {
        return Err(ApiError::invalid(field, "含有不可见的控制字符"));
    }
    Ok(value.to_owned())
}

/// An optional free text: absent or blank is `None`, anything else is
/// checked like [`text`].
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> ApiResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        v => text(field, v, max, false).map(Some),
    }
}

/// GB 11643-1999: 17 digits, a real birth date, and the ISO 7064 MOD 11-2
/// check character.
pub fn resident_id_is_valid(id: &str) -> bool {
    let b = id.as_bytes();
    // Digits first: the date is sliced out of the string by byte offsets.
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let born = time::Date::parse(
        &id[6..14],
        time::macros::format_description!("[year][month][day]"),
    );
    born.is_ok() && resident_id_check_char(&id[..17]) == Some(b[17])
}

/// The check character of the first 17 digits of a resident ID number.
pub fn resident_id_check_char(first17: &str) -> Option<u8> {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = first17.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = b
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK[(sum % 11) as usize])
}

/// GB 32100-2015: 18 characters of the code's alphabet (no I, O, S, V, Z)
/// with a MOD 31 check character.
pub fn uscc_is_valid(code: &str) -> bool {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    const WEIGHTS: [usize; 17] = [
        1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
    ];
    let value = |c: u8| ALPHABET.iter().position(|&a| a == c);
    let b = code.as_bytes();
    if b.len() != 18 {
        return false;
    }
    let Some(values) = b.iter().map(|&c| value(c)).collect::<Option<Vec<_>>>() else {
        return false;
    };
    let sum: usize = values[..17].iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    (31 - sum % 31) % 31 == values[17]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_ids_need_their_check_character_and_a_real_birth_date() {
        assert!(resident_id_is_valid("310104198503120021"));
        assert!(!resident_id_is_valid("310104198503120022"));
        assert!(!resident_id_is_valid("310104198513120021"), "month 13");
        assert!(!resident_id_is_valid("31010419850312002"));
        assert!(!resident_id_is_valid("31010419850312002１"));
    }

    #[test]
    fn credit_codes_need_their_check_character() {
        assert!(uscc_is_valid("91310115MA1K4ABCDD"));
        assert!(uscc_is_valid("12310000425012345C"));
        assert!(!uscc_is_valid("91310115MA1K4ABCDE"));
        assert!(
            !uscc_is_valid("91310115MA1K4ABCDO"),
            "O is not in the alphabet"
        );
        assert!(!uscc_is_valid("91310115"));
    }

    #[test]
    fn text_is_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(text("f", Some("  a  "), 5, false).unwrap(), "a");
        assert!(text("f", Some("   "), 5, false).is_err());
        assert!(text("f", None, 5, false).is_err());
        assert!(text("f", Some("abcdef"), 5, false).is_err());
        assert!(text("f", Some("a\nb"), 5, false).is_err());
        assert_eq!(text("f", Some("a\nb"), 5, true).unwrap(), "a\nb");
        assert_eq!(optional_text("f", Some("  "), 5).unwrap(), None);
        assert_eq!(optional_text("f", None, 5).unwrap(), None);
    }
}
