//! Review timings (V14, CPPCR reg 33): [`review_schedule`] lists each review
//! of the child's case that was or is due, with [`ReviewDue`] entries.
//!
//! The first review is due within 20 working days of the child becoming
//! looked after, the second within 3 months of the first, and each later one
//! within 6 months of the one before. Each interval runs from the day the
//! previous review was actually held. A review planned (with a due date but
//! not yet held) sooner than the statutory latest date, e.g. brought forward
//! at the IRO's request, sets the next deadline instead. Wales uses the same
//! timings; Scotland's own review timings are not modelled yet **\[verify\]**,
//! so England's are used there too, counted with Scottish bank holidays.

use super::working_days::working_days_after;
use super::{Interval, Jurisdiction, RequirementStatus, ScheduleInput, SchedulePolicy};
use crate::model::CalendarDate;

/// One review of the child's case that was or is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewDue {
    /// Which review: 1 for the first.
    pub number: u32,
    /// The last day it can be held on time.
    pub due: CalendarDate,
    /// When it was held; `None` while it is still to come.
    pub held: Option<CalendarDate>,
    /// Why it is due then, in plain words.
    pub reason: String,
    /// `Met` once held (late when `held` is after `due`), otherwise by date.
    pub status: RequirementStatus,
}

/// The statutory latest date of each review held (in date order) and of the
/// next one: the first 20 working days after `became_looked_after`, the
/// second 3 months after the first was held, each later one 6 months after
/// the one before. Reviews held before `became_looked_after` are ignored.
pub fn review_due_dates(
    became_looked_after: CalendarDate,
    held: &[CalendarDate],
    jurisdiction: Jurisdiction,
) -> Vec<CalendarDate> {
    let held = held_in_order(held, became_looked_after, CalendarDate::MAX);
    let mut dues = vec![working_days_after(became_looked_after, 20, jurisdiction)];
    dues.extend(held.iter().enumerate().map(|(index, held)| {
        let months = if index == 0 { 3 } else { 6 };
        Interval::Months(months).after(*held)
    }));
    dues
}

/// The child's reviews as of `today`: every review held since the child
/// became looked after (or, when that date is unknown, since the earliest
/// placement started), then the next one due. Empty when neither date is known.
pub fn review_schedule(
    input: &ScheduleInput,
    policy: &SchedulePolicy,
    today: CalendarDate,
) -> Vec<ReviewDue> {
    let earliest_placement = input
        .placements
        .iter()
        .map(|placement| placement.start)
        .min();
    let Some(start) = input.became_looked_after.or(earliest_placement) else {
        return Vec::new();
    };
    let held_dates: Vec<CalendarDate> = input
        .reviews
        .iter()
        .filter_map(|review| review.held)
        .collect();
    let held = held_in_order(&held_dates, start, today);
    let dues = review_due_dates(start, &held, policy.jurisdiction());
    let mut reviews = Vec::with_capacity(dues.len());
    for (index, due) in dues.into_iter().enumerate() {
        let reason = match index {
            0 => format!(
                "Within 20 working days of becoming looked after on {}",
                start.long_form()
            ),
            1 => format!(
                "Within 3 months of the first review on {}",
                held[0].long_form()
            ),
            _ => format!(
                "Within 6 months of the last review on {}",
                held[index - 1].long_form()
            ),
        };
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        let review = match held.get(index) {
            Some(held) => ReviewDue {
                number,
                due,
                held: Some(*held),
                reason,
                status: RequirementStatus::Met,
            },
            None => {
                let previous = index.checked_sub(1).map_or(start, |last| held[last]);
                let planned = input
                    .reviews
                    .iter()
                    .filter(|review| review.held.is_none())
                    .filter_map(|review| review.due)
                    .filter(|planned| *planned >= previous && *planned < due)
                    .min();
                let (due, reason) = match planned {
                    Some(planned) => (
                        planned,
                        format!(
                            "Planned for {}, sooner than the latest date allowed ({})",
                            planned.long_form(),
                            due.long_form()
                        ),
                    ),
                    None => (due, reason),
                };
                ReviewDue {
                    number,
                    due,
                    held: None,
                    reason,
                    status: RequirementStatus::open(due, today, policy.due_soon_days),
                }
            }
        };
        reviews.push(review);
    }
    reviews
}

/// The distinct dates in `held` from `from` to `until`, in order.
fn held_in_order(
    held: &[CalendarDate],
    from: CalendarDate,
    until: CalendarDate,
) -> Vec<CalendarDate> {
    let mut held: Vec<CalendarDate> = held
        .iter()
        .copied()
        .filter(|held| *held >= from && *held <= until)
        .collect();
    held.sort_unstable();
    held.dedup();
    held
}
