//! The statutory visit schedule: which visits the regulations require of a
//! child in care, by when, and whether they happened.
//!
//! Pure functions over plain facts: no IO and no clock; "today" is an
//! argument. The rules are those of the domain handbook (`domain.md`, section
//! 2, rules V1 to V16); [`SchedulePolicy`] holds the jurisdiction, the
//! council's shorter local intervals and the choices the handbook leaves open.
//!
//! # Layout
//! - [`visit_requirements`] (`plan`): the requirements of the current
//!   placement, matched with visits; [`VisitRequirement`] (`requirement`).
//! - [`child_schedule`]: [`ChildSchedule`], the status at a glance.
//! - `regime`: the deadlines each rule family sets.
//! - [`review_schedule`], [`review_due_dates`] (`review`): review timings (V14).
//! - [`working_days_after`], [`is_late_write_up`] (`working_days`): bank holidays.
//! - [`SchedulePolicy`], [`Interval`], [`RuleId`], [`Jurisdiction`], [`ScheduleError`].
//! - [`ScheduleInput`] and its facts (`input`); [`child_facts`], [`visit_facts`] and
//!   [`schedule_input`] read them from documents (`from_documents`): the one conversion
//!   the device and the server's projection share.
//!
//! # How deadlines are counted
//! - The visit day is day 0: a week is 7 days, four weeks 28, six weeks 42.
//!   Months are calendar months clamped to the month's end (31 January + 1
//!   month = 28 or 29 February; 31 August + 6 months = end of February).
//!   A placement's first year ends on the same day a year later (29 February
//!   + 1 year = 28 February).
//! - Every placement restarts the clock at its start `S`; the schedule is
//!   worked out for the current placement only (the latest one started on or
//!   before today and not ended before today). Its list shows every deadline
//!   since `S`, met on time, met late, or open; earlier placements produce none.
//! - Each qualifying visit meets the deadline open when it happened and
//!   starts the next one; a deadline met after its date is `Met`, with
//!   `met_on` later than `due`. An open deadline is `Overdue` once today is
//!   past it, `DueSoon` from `due_soon_days` before it, and `Upcoming` before.
//! - When the rule changes over time (first anniversary, first review, the
//!   child's agreement to less frequent visits), the next deadline after a
//!   visit is the earliest one whose rule is in force on its own due date.
//!   So the first visit after the first anniversary of a placement intended
//!   to last until 18 is due 3 months after the last visit when 6 weeks
//!   would already fall after the anniversary.
//! - Intervals agreed for a placement (short breaks, other living arrangements, a
//!   placement's own local interval) are days, weeks or calendar months, counted as
//!   above: 3 months from 31 January is 30 April.
//! - Local intervals (council-wide per rule, or `local_interval` on a
//!   placement) only ever bring a deadline forward: each deadline is the
//!   sooner of the statutory one and the local one, and the reason says
//!   "local timescale" when the local one decided it.
//!
//! # Which visit counts
//! A visit counts (is "qualifying") when its date, its kind and that the child was seen
//! are recorded, it took place on or after the clock start and not after today, its
//! draft was not discarded, and the policy counts its kind: not by video call and not a
//! review meeting unless configured, and, by default, already while its record is still
//! a draft (the visit took place once it is recorded; the write-up outstanding, and
//! late, is flagged separately). Several visits on one day meet one deadline.
//! Each rule counts only the visits of whoever it names: the placement rules (V1 to V11,
//! V16) a social worker's, V15 a personal adviser's; a visit that does not record who
//! made it counts for both.
//!
//! # The rules
//! - Standard placements (England, Wales): V1 within 1 week of `S`; V2 at most
//!   6 weeks apart in the first year; after it V3 (3 months) when intended
//!   to last until 18, else V4 (6 weeks); V5 (6 months) for a designated
//!   long-term foster placement once the child's agreement is recorded, on or
//!   before the deadline and not after today; without it V3 or V4 applies.
//!   Wales has no V5.
//! - V6 (placed with a parent before assessment) and V7 (connected person with
//!   temporary approval, or interim care order with a parent): weekly from `S`
//!   until the first review held on or after `S`, then 6 and 4 weeks.
//! - V8 (care order, with a parent): within 1 week of the order (of `S` when
//!   no order date on or after `S` is recorded), then 6 weeks; visits count
//!   from that day.
//! - V9 (other living arrangements): the placement's interval, else the
//!   council's (set with `with_local_interval(V9, ..)`), for the first visit
//!   and between visits **\[verify\]**; with neither there is no schedule.
//! - V10: each request since `S` is due the day it was made and met by the
//!   first qualifying visit on or after it. Requests need a current placement.
//! - V11 (short breaks): the interval agreed on the placement, for the first
//!   visit and between visits; without one there is no schedule.
//! - V12 and V13 concern what happens at a visit, not when, and set no deadline.
//! - V14: see [`review_schedule`]; the first review held on or after `S` is
//!   what ends the weekly visits of V6 and V7.
//! - V15 (care leaver in accommodation): within 7 days of the accommodation,
//!   then at most 2 months apart; and, as separate requirements, a visit
//!   before each pathway-plan review (on or before its date), met by the
//!   first visit since the review before it (late when after the review).
//!   Computed whenever care-leaver facts are given, in every jurisdiction
//!   (**\[verify\]** for Wales and Scotland); it has no placement.
//! - V16 (Scotland, every placement): within 1 week of `S`, then at most 3
//!   months apart.
//!
//! # Open choices (the handbook's \[verify\] items) and their defaults
//! On [`SchedulePolicy`]: virtual visits do not count; review meetings do not
//! count; drafts count; due soon means within 7 days; a write-up is late more
//! than 2 working days after the visit; a temporary placement (SSDA903 T0 to
//! T4) restarts the clock like any placement (with the option off, it
//! continues the clock of the placement it interrupts).

mod child_schedule;
mod error;
mod from_documents;
mod input;
mod interval;
mod jurisdiction;
mod plan;
mod policy;
mod regime;
mod requirement;
mod review;
mod rule_id;
mod working_days;

#[cfg(test)]
mod tests;

pub use child_schedule::{ChildSchedule, ChildVisitStatus, child_schedule};
pub use error::ScheduleError;
pub use from_documents::{
    care_leaver_facts, child_facts, documents_schedule, placement_facts, review_facts,
    schedule_input, schedule_input_of_summaries, visit_facts,
};
pub use input::{
    CareLeaverFacts, PlacementFacts, ReviewFacts, ScheduleInput, VisitFacts, VisitRequestFacts,
};
pub use interval::Interval;
pub use jurisdiction::Jurisdiction;
pub use plan::visit_requirements;
pub use policy::SchedulePolicy;
pub use requirement::{RequirementStatus, VisitRequirement};
pub use review::{ReviewDue, review_due_dates, review_schedule};
pub use rule_id::RuleId;
pub use working_days::{bank_holidays, is_late_write_up, is_working_day, working_days_after};
