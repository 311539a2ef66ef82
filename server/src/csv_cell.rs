//! CSV cells that a spreadsheet never runs as formulas: the one helper every CSV Doorstep
//! writes goes through (the team dashboard's `.csv`, `admin audit export --format csv`).
//!
//! A cell whose text starts with any formula trigger OWASP lists (`=`, `+`, `-`, `@`, TAB
//! 0x09, CR 0x0D) gets a leading `'`, which spreadsheets take as "this is text"; names,
//! reasons and comments come from people, and a child's record must not become a macro.

use std::borrow::Cow;

/// The characters that make a spreadsheet treat a cell as a formula.
pub const FORMULA_TRIGGERS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text`, with a leading `'` if it starts with a formula trigger.
pub fn neutralise(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_TRIGGERS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// One RFC 4180 field: neutralised, then quoted when it holds a comma, quote or line break.
pub fn field(text: &str) -> String {
    let text = neutralise(text);
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_trigger_is_neutralised() {
        for (input, expected) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
        ] {
            assert_eq!(neutralise(input), expected, "{input:?}");
        }
        for harmless in ["Amira", "2026-05-01", "", " =not first", "'quoted"] {
            assert_eq!(neutralise(harmless), harmless);
        }
    }

    #[test]
    fn fields_are_neutralised_then_quoted() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=1,2"), "\"'=1,2\"");
        assert_eq!(field("\r=cmd"), "\"'\r=cmd\"");
        assert_eq!(field("-"), "'-");
    }
}
