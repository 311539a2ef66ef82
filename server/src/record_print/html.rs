//! [`render`]: a [`RecordExport`] as one self-contained, printable, accessible HTML page
//! (GOV.UK Design System typography and summary lists; headings in order; a print style
//! sheet with page breaks between entries and no navigation), which the browser prints to
//! PDF. Every value is escaped; the page loads nothing and runs no script (its styles are
//! inline, allowed by the page's own content security policy), so it prints the same
//! saved and offline.

use std::fmt::Write;

use super::{Entry, Event, Field, RecordExport, RecordKind, long_time};

const STYLE: &str = "
body{font-family:Arial,Helvetica,sans-serif;color:#0b0c0c;line-height:1.4;margin:0 auto;max-width:960px;padding:20px;font-size:19px}
h1{font-size:36px;margin:0 0 10px}h2{font-size:27px;margin:40px 0 10px;border-top:2px solid #0b0c0c;padding-top:10px}
h3{font-size:22px;margin:25px 0 8px}h4{font-size:19px;margin:15px 0 5px}
.caption{color:#505a5f;font-size:19px;margin:0}
dl.summary{display:grid;grid-template-columns:30% 70%;margin:0 0 20px;border-top:1px solid #b1b4b6}
dl.summary dt,dl.summary dd{margin:0;padding:8px 10px 8px 0;border-bottom:1px solid #b1b4b6}
dl.summary dt{font-weight:bold}dd{white-space:pre-wrap}
.event{border-left:5px solid #b1b4b6;padding:0 0 0 15px;margin:15px 0}
.event.signedOff{border-color:#00703c}.event.returned{border-color:#d4351c}.event.amendment{border-color:#1d70b8}
.redacted{background:#0b0c0c;color:#fff;padding:0 4px}
table{border-collapse:collapse;width:100%;font-size:16px}th,td{text-align:left;border-bottom:1px solid #b1b4b6;padding:6px 8px 6px 0;vertical-align:top}
.notice{border:5px solid #1d70b8;padding:15px;margin:20px 0}
@media print{body{font-size:12pt;max-width:none;padding:0}h2{break-before:page}.entry{break-inside:avoid-page}a{color:inherit}}
";

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a value and marks each "[redacted: ...]" so it reads as a redaction.
fn value_html(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped.as_str();
    while let Some(start) = rest.find("[redacted: ") {
        let Some(end) = rest[start..].find(']') else {
            break;
        };
        out.push_str(&rest[..start]);
        let _ = write!(
            out,
            "<span class=\"redacted\">{}</span>",
            &rest[start..start + end + 1]
        );
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

fn summary(out: &mut String, fields: &[Field]) {
    if fields.is_empty() {
        return;
    }
    out.push_str("<dl class=\"summary\">");
    for field in fields {
        let _ = write!(
            out,
            "<dt>{}</dt><dd>{}</dd>",
            escape(&field.label),
            value_html(&field.value)
        );
    }
    out.push_str("</dl>");
}

fn event(out: &mut String, number: usize, event: &Event) {
    let heading = match event.kind {
        "version" => format!("Version {number}"),
        "signedOff" => "Signed off by the manager".into(),
        "returned" => "Returned by the manager for changes".into(),
        "amendment" => "Amended after sign-off".into(),
        "moved" | "expunged" => "Corrected by the manager".into(),
        other => other.to_owned(),
    };
    let by = event.by.as_deref().map(|by| format!(" by {}", escape(by)));
    let _ = write!(
        out,
        "<div class=\"event {}\"><h4>{}</h4><p class=\"caption\">{}{}</p>",
        escape(event.kind),
        escape(&heading),
        escape(&long_time(event.at)),
        by.unwrap_or_default()
    );
    if !event.text.is_empty() {
        let label = if matches!(event.kind, "amendment" | "moved" | "expunged") {
            "Reason"
        } else {
            "Comment"
        };
        let _ = write!(
            out,
            "<p><strong>{label}:</strong> {}</p>",
            value_html(&event.text)
        );
    }
    summary(out, &event.fields);
    out.push_str("</div>");
}

fn entry(out: &mut String, entry: &Entry) {
    let date = shared::model::CalendarDate::parse(&entry.date)
        .map(|d| d.long_form())
        .unwrap_or_else(|| "Date not recorded".into());
    let _ = write!(
        out,
        "<section class=\"entry\"><h3>{}: {}</h3>",
        escape(&date),
        escape(&entry.title)
    );
    summary(out, &entry.fields);
    let mut versions = 0;
    for step in &entry.events {
        if step.kind == "version" {
            versions += 1;
        }
        event(out, versions, step);
    }
    out.push_str("</section>");
}

/// The page.
pub fn render(export: &RecordExport) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"en-GB\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} – {}</title><style>{STYLE}</style></head><body><main>",
        escape(export.kind.title()),
        escape(&export.child_name)
    );
    let _ = write!(
        out,
        "<p class=\"caption\">{}</p><h1>{}</h1>\
         <p>Case reference {}. Produced {} by {}.</p>",
        escape(export.kind.title()),
        escape(&export.child_name),
        escape(&export.child_ref),
        escape(&long_time(export.produced_at)),
        escape(&export.produced_by)
    );
    if export.kind == RecordKind::SubjectAccess {
        out.push_str(
            "<div class=\"notice\"><p>This is the whole record, oldest first. Each visit shows \
             every version the council received, and what the manager decided about it. \
             Where something has been left out it says \"redacted\" and why: information \
             about other people (third-party data), or information that could cause serious \
             harm (Data Protection Act 2018, Schedule 3, Part 3).</p></div>",
        );
        if !export.redacted.is_empty() {
            let counts: Vec<String> = export
                .redacted
                .iter()
                .map(|(reason, n)| format!("{n} passage(s) for {reason}"))
                .collect();
            let _ = write!(out, "<p>Redacted: {}.</p>", escape(&counts.join(", ")));
        }
    }
    out.push_str("<h2>About the child</h2>");
    summary(&mut out, &export.child);
    if !export.entries.is_empty() {
        out.push_str("<h2>The record</h2>");
        for item in &export.entries {
            entry(&mut out, item);
        }
    }
    if export.kind == RecordKind::SubjectAccess {
        out.push_str(
            "<h2>Audit trail</h2><table><caption class=\"caption\">Who opened, changed, \
             printed or exported the record, oldest first</caption><thead><tr><th scope=\"col\">When</th>\
             <th scope=\"col\">Who</th><th scope=\"col\">What</th><th scope=\"col\">Outcome</th>\
             <th scope=\"col\">Detail</th></tr></thead><tbody>",
        );
        for row in &export.audit {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&long_time(row.at)),
                escape(row.actor.as_deref().unwrap_or("")),
                escape(&row.action),
                escape(&row.outcome),
                value_html(row.detail.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</main></body></html>");
    out
}
