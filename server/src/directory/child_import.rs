//! `admin child import FILE.csv`: children and their current placements from the council's
//! case system.
//!
//! The file is UTF-8 CSV with a header row; columns may come in any order, and unknown
//! columns are an error (a typo must not drop data silently). Every row is checked first;
//! if any row is wrong, every problem is reported with its line number and nothing is
//! imported. Otherwise all rows go in one transaction.
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `child_ref` | yes | the council's case reference (unique) |
//! | `team` | yes | the team holding the case (must exist) |
//! | `legal_name` | yes | the child's legal name |
//! | `date_of_birth` | yes | `YYYY-MM-DD` |
//! | `preferred_name` | no | what the child likes to be called |
//! | `la_person_id` | no | the case system's person id |
//! | `sex`, `ethnicity`, `first_language`, `legal_status` | no | SSDA903 codes / text |
//! | `interpreter_needed`, `uasc` | no | `yes` / `no` |
//! | `communication_needs`, `summary` | no | free text |
//! | `placement_start` | no | `YYYY-MM-DD`; with it a placement is recorded |
//! | `placement_type` | with a placement | SSDA903 placement type, e.g. `U1` |
//! | `placement_provider` | no | `PR0` to `PR5` |
//! | `carer_name`, `postcode` | no | the carer or home, and its postcode |
//! | `statutory_basis` | no | `standard` (default), `reg19`, `reg24`, `icoWithParent`, `careOrderWithParent`, `otherLivingArrangements`, `shortBreaks` |
//! | `intended_until_18`, `ltf_designated` | no | `yes` / `no` (default `no`) |
//! | `short_breaks_interval`, `other_arrangements_interval`, `local_interval` | no | the interval between visits agreed for short breaks (with the IRO and parents), set for other living arrangements, or a shorter local one for this placement: a whole number and `days`, `weeks` or `months` (calendar months), e.g. `3 months` |
//! | `worker` | no | username of the social worker to allocate the child to |

use std::collections::HashSet;
use std::fmt;

use crate::store::sql::Connection;
use shared::model::{
    CalendarDate, Coded, NewChild, NewPlacement, PlacementProvider, StatutoryBasis,
};
use shared::schedule::Interval;

use super::admin::{AdminError, insert_allocation, insert_child};

/// Every column the import understands.
pub const COLUMNS: &[&str] = &[
    "child_ref",
    "team",
    "legal_name",
    "date_of_birth",
    "preferred_name",
    "la_person_id",
    "sex",
    "ethnicity",
    "first_language",
    "legal_status",
    "interpreter_needed",
    "uasc",
    "communication_needs",
    "summary",
    "placement_start",
    "placement_type",
    "placement_provider",
    "carer_name",
    "postcode",
    "statutory_basis",
    "intended_until_18",
    "ltf_designated",
    "short_breaks_interval",
    "other_arrangements_interval",
    "local_interval",
    "worker",
];

const REQUIRED: &[&str] = &["child_ref", "team", "legal_name", "date_of_birth"];

/// One thing wrong with the file, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// 1-based line number in the file (the header is line 1).
    pub line: u64,
    /// What is wrong, in plain words.
    pub message: String,
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Why an import was refused; nothing was imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file is not CSV with the expected header.
    #[error("{0}")]
    BadFile(String),
    /// Some rows are wrong.
    #[error("{} problem(s), nothing imported:\n{}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    BadRows(Vec<RowProblem>),
    /// The database reported an error.
    #[error(transparent)]
    Database(#[from] crate::store::StoreError),
}

/// One valid row.
#[derive(Debug, Clone)]
pub struct ChildRow {
    /// Line number, for messages.
    pub line: u64,
    /// Team name.
    pub team: String,
    /// The child and placement.
    pub child: NewChild,
    /// Username to allocate to.
    pub worker: Option<String>,
}

/// Parses and checks the whole file without touching the database.
///
/// # Errors
/// [`ImportError::BadFile`] or [`ImportError::BadRows`] listing every problem.
pub fn parse(csv_text: &[u8]) -> Result<Vec<ChildRow>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(csv_text);
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| ImportError::BadFile(format!("line 1: cannot read the header: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    let mut header_problems = Vec::new();
    for name in &header {
        if !COLUMNS.contains(&name.as_str()) {
            header_problems.push(format!("unknown column {name:?}"));
        }
    }
    for name in REQUIRED {
        if !header.iter().any(|h| h == name) {
            header_problems.push(format!("missing column {name:?}"));
        }
    }
    if !header_problems.is_empty() {
        return Err(ImportError::BadFile(format!(
            "line 1: {} (columns are: {})",
            header_problems.join("; "),
            COLUMNS.join(", ")
        )));
    }
    let mut rows = Vec::new();
    let mut problems = Vec::new();
    let mut seen_refs = HashSet::new();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                problems.push(RowProblem {
                    line,
                    message: format!("not valid CSV: {e}"),
                });
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        let field = |name: &str| -> Option<String> {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let mut row_problems = Vec::new();
        if let Some(child_ref) = field("child_ref")
            && !seen_refs.insert(child_ref.clone())
        {
            row_problems.push(format!("child_ref {child_ref:?} appears twice in the file"));
        }
        if let Some(row) = parse_row(&field, &mut row_problems)
            && row_problems.is_empty()
        {
            rows.push(ChildRow { line, ..row });
        }
        problems.extend(
            row_problems
                .into_iter()
                .map(|message| RowProblem { line, message }),
        );
    }
    if problems.is_empty() {
        Ok(rows)
    } else {
        Err(ImportError::BadRows(problems))
    }
}

fn parse_row(
    field: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> Option<ChildRow> {
    let mut required = |name: &str| {
        let value = field(name);
        if value.is_none() {
            problems.push(format!("{name} is empty"));
        }
        value
    };
    let child_ref = required("child_ref");
    let team = required("team");
    let legal_name = required("legal_name");
    let date_of_birth = required("date_of_birth");
    let date_of_birth = date_of_birth.and_then(|text| date(problems, "date_of_birth", &text));
    let interpreter_needed = yes_no(problems, field, "interpreter_needed");
    let uasc = yes_no(problems, field, "uasc");
    let placement = placement(field, problems);
    Some(ChildRow {
        line: 0,
        team: team?,
        worker: field("worker"),
        child: NewChild {
            child_id: child_ref?,
            la_person_id: field("la_person_id"),
            legal_name: legal_name?,
            preferred_name: field("preferred_name"),
            date_of_birth: date_of_birth?,
            sex: field("sex"),
            ethnicity: field("ethnicity"),
            first_language: field("first_language"),
            interpreter_needed,
            communication_needs: field("communication_needs").unwrap_or_default(),
            legal_status: field("legal_status"),
            uasc,
            summary: field("summary").unwrap_or_default(),
            placement,
            became_looked_after: None,
            reviews: Vec::new(),
            care_leaver: None,
        },
    })
}

fn placement(
    field: &dyn Fn(&str) -> Option<String>,
    problems: &mut Vec<String>,
) -> Option<NewPlacement> {
    let placement_columns = [
        "placement_type",
        "placement_provider",
        "carer_name",
        "postcode",
        "statutory_basis",
        "intended_until_18",
        "ltf_designated",
        "short_breaks_interval",
        "other_arrangements_interval",
        "local_interval",
    ];
    let Some(start) = field("placement_start") else {
        if let Some(stray) = placement_columns.iter().find(|c| field(c).is_some()) {
            problems.push(format!("{stray} is given but placement_start is empty"));
        }
        return None;
    };
    let start_date = date(problems, "placement_start", &start);
    let placement_type = field("placement_type");
    if placement_type.is_none() {
        problems.push("placement_type is empty but placement_start is given".into());
    }
    let provider = coded::<PlacementProvider>(problems, field, "placement_provider");
    let statutory_basis = coded::<StatutoryBasis>(problems, field, "statutory_basis")
        .unwrap_or(StatutoryBasis::Standard);
    let intended_until_18 = yes_no(problems, field, "intended_until_18").unwrap_or(false);
    let ltf_designated = yes_no(problems, field, "ltf_designated").unwrap_or(false);
    Some(NewPlacement {
        placement_id: format!("{}-{}", field("child_ref").unwrap_or_default(), start),
        start_date: start_date?,
        end_date: None,
        placement_type: placement_type?,
        provider,
        carer_name: field("carer_name"),
        postcode: field("postcode"),
        statutory_basis,
        intended_until_18,
        ltf_designated,
        child_agreement_date: None,
        care_order_date: None,
        short_breaks_interval: interval(problems, field, "short_breaks_interval"),
        other_arrangements_interval: interval(problems, field, "other_arrangements_interval"),
        local_interval: interval(problems, field, "local_interval"),
    })
}

/// An interval column: a whole number from 1 and days, weeks or months.
fn interval(
    problems: &mut Vec<String>,
    field: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Option<Interval> {
    let text = field(name)?;
    let parsed = text
        .parse::<Interval>()
        .ok()
        .filter(|interval| !interval.is_empty());
    if parsed.is_none() {
        problems.push(format!(
            "{name} {text:?} is not an interval such as \"28 days\", \"4 weeks\" or \"3 months\""
        ));
    }
    parsed
}

fn date(problems: &mut Vec<String>, name: &str, text: &str) -> Option<CalendarDate> {
    let parsed = CalendarDate::parse(text);
    if parsed.is_none() {
        problems.push(format!(
            "{name} {text:?} is not a real date written YYYY-MM-DD"
        ));
    }
    parsed
}

fn yes_no(
    problems: &mut Vec<String>,
    field: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Option<bool> {
    let text = field(name)?;
    match text.to_ascii_lowercase().as_str() {
        "yes" | "y" | "true" => Some(true),
        "no" | "n" | "false" => Some(false),
        _ => {
            problems.push(format!("{name} {text:?} must be yes or no"));
            None
        }
    }
}

fn coded<C: Coded>(
    problems: &mut Vec<String>,
    field: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Option<C> {
    let text = field(name)?;
    let value = C::from_code(&text);
    if value.is_none() {
        let codes: Vec<&str> = C::ALL.iter().map(|c| c.code()).collect();
        problems.push(format!(
            "{name} {text:?} is not one of {}",
            codes.join(", ")
        ));
    }
    value
}

/// Imports checked rows in one transaction: every child with its placement, and its
/// allocation where a worker is named, stamped `now`. Returns how many children were added.
///
/// # Errors
/// [`ImportError::BadRows`] naming the line whose child, team or worker the directory
/// refuses (then nothing is imported), or the database's error.
pub fn import(conn: &mut Connection, rows: &[ChildRow], now: i64) -> Result<usize, ImportError> {
    let tx = conn.transaction_with_behavior(crate::store::sql::TransactionBehavior::Immediate)?;
    let mut problems = Vec::new();
    for row in rows {
        let added = insert_child(&tx, &row.team, &row.child, now).and_then(|_| match &row.worker {
            Some(worker) => insert_allocation(&tx, &row.child.child_id, worker, now),
            None => Ok(()),
        });
        match added {
            Ok(()) => {}
            Err(AdminError::Database(e)) => return Err(ImportError::Database(e)),
            Err(e) => problems.push(RowProblem {
                line: row.line,
                message: e.to_string(),
            }),
        }
    }
    if !problems.is_empty() {
        // Dropping `tx` rolls every row back.
        return Err(ImportError::BadRows(problems));
    }
    tx.commit()?;
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "\
child_ref,team,legal_name,date_of_birth,placement_start,placement_type,carer_name,worker
C-1,North,Amy Example,2014-05-02,2025-09-01,U4,Mr and Mrs Brown,sw-1
C-2,North,Ben Example,2011-01-30,,,,
";

    #[test]
    fn a_good_file_parses_every_row() {
        let rows = parse(GOOD.as_bytes()).expect("good file");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        assert_eq!(rows[0].worker.as_deref(), Some("sw-1"));
        let placement = rows[0].child.placement.as_ref().expect("placement");
        assert_eq!(placement.placement_type, "U4");
        assert!(rows[1].child.placement.is_none());
    }

    #[test]
    fn every_bad_row_is_reported_by_line() {
        let file = "\
child_ref,team,legal_name,date_of_birth,placement_start,placement_type,uasc
C-1,North,Amy,2014-02-30,,,
C-2,North,,2014-01-01,,,maybe
C-3,North,Cat,2014-01-01,2025-01-01,,
C-3,North,Cat,2014-01-01,,,
";
        let Err(ImportError::BadRows(problems)) = parse(file.as_bytes()) else {
            panic!("bad rows must be refused");
        };
        let lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
        assert_eq!(lines, vec![2, 3, 3, 4, 5], "{problems:?}");
        assert!(problems[0].message.contains("2014-02-30"));
        assert!(problems[1].message.contains("legal_name"));
        assert!(problems[3].message.contains("placement_type"));
        assert!(problems[4].message.contains("twice"));
    }

    #[test]
    fn an_unknown_column_is_refused() {
        let file = "child_ref,team,legal_name,date_of_brith\n";
        let Err(ImportError::BadFile(message)) = parse(file.as_bytes()) else {
            panic!("typo must be refused");
        };
        assert!(message.contains("date_of_brith"), "{message}");
        assert!(
            message.contains("missing column \"date_of_birth\""),
            "{message}"
        );
    }
}
