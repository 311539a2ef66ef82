//! The child document: who the child is and where they live now.
//!
//! One automerge document per child, with camelCase keys shared with the
//! JavaScript client: `schemaVersion` (1), `type` (`"child"`), `childId`,
//! `laPersonId`, `legalName`, `preferredName`, `dateOfBirth` (`"YYYY-MM-DD"`),
//! `sex`, `ethnicity` (DfE code), `firstLanguage`, `interpreterNeeded`,
//! `communicationNeeds` (text), `legalStatus` (SSDA903 LS code such as `"C2"`),
//! `uasc`, `summary` (text: what a new worker needs to know), `placement`,
//! a map described on [`Placement`], and the facts the visit schedule
//! (`crate::schedule`) needs besides the placement: `becameLookedAfter`
//! (`"YYYY-MM-DD"`), `reviews` (a list of maps, see [`CaseReview`]) and
//! `careLeaver` (a map, see [`CareLeaver`]).
//!
//! The schedule keys (`becameLookedAfter`, `reviews`, `careLeaver`, and
//! `childAgreementDate`, `careOrderDate`, `shortBreaksIntervalDays`,
//! `otherArrangementsIntervalDays`, `localIntervalDays`, `shortBreaksInterval`,
//! `otherArrangementsInterval`, `localInterval` in `placement`) were
//! added without a new `schemaVersion`: they are optional and additive, so a
//! version 1 document without them reads as before (nothing recorded) and
//! older readers ignore them. Numbers of days are whole numbers from 1 to
//! 4294967295. An interval agreed in other units is text: a whole number from 1 and
//! `days`, `weeks` or `months` (calendar months), e.g. `"3 months"`; it takes precedence
//! over the `…Days` key, which is also written for an interval in days so that readers
//! from before the text keys keep working.
//!
//! SSDA903 codes that the DfE may extend (legal status, placement type) stay
//! strings so that a new code never makes a child unreadable; the small
//! closed sets (provider, statutory basis) are enums.

use automerge::transaction::Transactable;
use automerge::{ObjId, ObjType, ROOT, ReadDoc, Value};

use super::coded::coded_enum;
use super::read::{MapReader, string_value, wrong_type};
use super::visit::check_header;
use super::visit_edit::put_text;
use super::write::{ensure_empty, push_root_list_entry};
use super::{CalendarDate, Coded, ModelError};
use crate::schedule::Interval;

/// The child schema version this build reads and writes.
pub const CHILD_SCHEMA_VERSION: u64 = 1;

/// The root `type` of a child document.
pub const CHILD_DOCUMENT_TYPE: &str = "child";

/// A child document read into plain Rust values; `None` means not recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Child {
    /// This child's id (UUID text).
    pub child_id: String,
    /// The local authority's own person id for the child.
    pub la_person_id: Option<String>,
    /// The child's legal name.
    pub legal_name: Option<String>,
    /// The name the child likes to be called.
    pub preferred_name: Option<String>,
    /// Date of birth as stored; may not be a real date.
    pub date_of_birth: Option<String>,
    /// Sex as recorded for SSDA903.
    pub sex: Option<String>,
    /// Ethnicity (DfE code).
    pub ethnicity: Option<String>,
    /// First language.
    pub first_language: Option<String>,
    /// Whether an interpreter is needed to talk with the child.
    pub interpreter_needed: Option<bool>,
    /// How best to communicate with the child; empty when not written.
    pub communication_needs: String,
    /// Legal status (SSDA903 LS code, e.g. `"C2"`).
    pub legal_status: Option<String>,
    /// Whether the child is an unaccompanied asylum-seeking child.
    pub uasc: Option<bool>,
    /// What a new worker needs to know; empty when not written.
    pub summary: String,
    /// The current placement, if recorded.
    pub placement: Option<Placement>,
    /// When the child became looked after, as stored; starts the review
    /// timetable (CPPCR reg 33).
    pub became_looked_after: Option<String>,
    /// Reviews of the child's case, held or planned, in document order.
    pub reviews: Vec<CaseReview>,
    /// Personal-adviser visit facts once the child is a care leaver.
    pub care_leaver: Option<CareLeaver>,
}

/// Where the child lives now (the `placement` map of a child document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// This placement's id (UUID text).
    pub placement_id: String,
    /// When it started, as stored; may not be a real date.
    pub start_date: Option<String>,
    /// When it ended, as stored; `None` while it continues.
    pub end_date: Option<String>,
    /// SSDA903 placement type, e.g. `"U1"`, `"K2"`, `"P1"`.
    pub placement_type: Option<String>,
    /// SSDA903 placement provider.
    pub provider: Option<PlacementProvider>,
    /// The carer's or home's name.
    pub carer_name: Option<String>,
    /// The placement's postcode.
    pub postcode: Option<String>,
    /// The regulations the placement is made under; sets the visit rules.
    pub statutory_basis: Option<StatutoryBasis>,
    /// Whether the placement is intended to last until the child is 18.
    pub intended_until_18: Option<bool>,
    /// Whether it is designated a long-term foster placement.
    pub ltf_designated: Option<bool>,
    /// When the child agreed to less frequent visits in a long-term foster
    /// placement (CPPCR reg 28(3A)), as stored.
    pub child_agreement_date: Option<String>,
    /// When the care order was made, for a child placed with a parent under
    /// a care order, as stored.
    pub care_order_date: Option<String>,
    /// The interval between visits agreed with the IRO and parents for a series of
    /// short breaks (CPPCR reg 48).
    pub short_breaks_interval: Option<Interval>,
    /// The interval between visits set for other living arrangements (e.g. a young
    /// offender institution or hospital).
    pub other_arrangements_interval: Option<Interval>,
    /// A shorter interval between visits set for this placement; it never
    /// lengthens a statutory one.
    pub local_interval: Option<Interval>,
}

/// One review of the child's case (an entry of the `reviews` list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReview {
    /// This review's id (UUID text), key `reviewId`.
    pub review_id: String,
    /// When it is due, as stored (`dueDate`).
    pub due_date: Option<String>,
    /// When it was held, as stored (`heldDate`); `None` until it is.
    pub held_date: Option<String>,
}

/// A care leaver's accommodation and pathway plan (the `careLeaver` map),
/// which set personal-adviser visits (Care Leavers (England) Regs 2010 reg 8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CareLeaver {
    /// When accommodation under s23B/24B was first provided, as stored
    /// (`accommodationFrom`).
    pub accommodation_from: Option<String>,
    /// Dates of pathway-plan reviews, as stored (`pathwayReviews`).
    pub pathway_reviews: Vec<String>,
}

coded_enum! {
    /// SSDA903 placement provider (`provider`).
    pub enum PlacementProvider {
        /// PR0: parent(s) or other person with parental responsibility.
        Pr0 = "PR0",
        /// PR1: the council's own provision.
        Pr1 = "PR1",
        /// PR2: another local authority's provision.
        Pr2 = "PR2",
        /// PR3: other public provision.
        Pr3 = "PR3",
        /// PR4: private provision.
        Pr4 = "PR4",
        /// PR5: voluntary or third sector provision.
        Pr5 = "PR5",
    }
}

coded_enum! {
    /// The regulations a placement is made under (`statutoryBasis`).
    pub enum StatutoryBasis {
        /// An ordinary placement (CPPCR reg 28 visit rules).
        Standard = "standard",
        /// Placed with a parent before their assessment is complete (CPPCR reg 19).
        Reg19 = "reg19",
        /// With a relative, friend or connected person under temporary
        /// approval as a foster carer (CPPCR reg 24).
        Reg24 = "reg24",
        /// Interim care order, placed with a parent.
        IcoWithParent = "icoWithParent",
        /// Care order, placed with a parent.
        CareOrderWithParent = "careOrderWithParent",
        /// Other living arrangements.
        OtherLivingArrangements = "otherLivingArrangements",
        /// A series of short breaks (CPPCR reg 48).
        ShortBreaks = "shortBreaks",
    }
}

/// What is known when a child document is created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChild {
    /// The child's id (UUID text).
    pub child_id: String,
    /// The local authority's own person id.
    pub la_person_id: Option<String>,
    /// Legal name.
    pub legal_name: String,
    /// The name the child likes to be called.
    pub preferred_name: Option<String>,
    /// Date of birth.
    pub date_of_birth: CalendarDate,
    /// Sex as recorded for SSDA903.
    pub sex: Option<String>,
    /// Ethnicity (DfE code).
    pub ethnicity: Option<String>,
    /// First language.
    pub first_language: Option<String>,
    /// Whether an interpreter is needed.
    pub interpreter_needed: Option<bool>,
    /// How best to communicate with the child (may be empty).
    pub communication_needs: String,
    /// Legal status (SSDA903 LS code).
    pub legal_status: Option<String>,
    /// Whether the child is an unaccompanied asylum-seeking child.
    pub uasc: Option<bool>,
    /// What a new worker needs to know (may be empty).
    pub summary: String,
    /// The current placement, if any.
    pub placement: Option<NewPlacement>,
    /// When the child became looked after, if known.
    pub became_looked_after: Option<CalendarDate>,
    /// Reviews already held or planned.
    pub reviews: Vec<NewCaseReview>,
    /// Care-leaver facts, if the child is a care leaver.
    pub care_leaver: Option<NewCareLeaver>,
}

/// A placement to record on a child document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPlacement {
    /// The placement's id (UUID text).
    pub placement_id: String,
    /// When it started.
    pub start_date: CalendarDate,
    /// When it ended, if it has.
    pub end_date: Option<CalendarDate>,
    /// SSDA903 placement type, e.g. `"U1"`.
    pub placement_type: String,
    /// SSDA903 placement provider.
    pub provider: Option<PlacementProvider>,
    /// The carer's or home's name.
    pub carer_name: Option<String>,
    /// The placement's postcode.
    pub postcode: Option<String>,
    /// The regulations the placement is made under.
    pub statutory_basis: StatutoryBasis,
    /// Whether it is intended to last until the child is 18.
    pub intended_until_18: bool,
    /// Whether it is designated a long-term foster placement.
    pub ltf_designated: bool,
    /// When the child agreed to less frequent visits (CPPCR reg 28(3A)).
    pub child_agreement_date: Option<CalendarDate>,
    /// When the care order was made (placed with a parent under a care order).
    pub care_order_date: Option<CalendarDate>,
    /// The interval between visits agreed for a series of short breaks.
    pub short_breaks_interval: Option<Interval>,
    /// The interval between visits set for other living arrangements.
    pub other_arrangements_interval: Option<Interval>,
    /// A shorter, local interval between visits for this placement.
    pub local_interval: Option<Interval>,
}

/// A review of the child's case to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseReview {
    /// The review's id (UUID text).
    pub review_id: String,
    /// When it is due.
    pub due_date: Option<CalendarDate>,
    /// When it was held.
    pub held_date: Option<CalendarDate>,
}

/// Care-leaver facts to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCareLeaver {
    /// When accommodation under s23B/24B was first provided.
    pub accommodation_from: CalendarDate,
    /// Dates of pathway-plan reviews.
    pub pathway_reviews: Vec<CalendarDate>,
}

impl Child {
    /// Reads a child document.
    ///
    /// # Errors
    /// [`ModelError::WrongDocumentType`] if the root `type` is not `"child"`,
    /// [`ModelError::UnsupportedSchemaVersion`] if `schemaVersion` is not 1,
    /// [`ModelError::MissingField`] if `childId` (or a placement's id) is
    /// missing, and [`ModelError::WrongValueType`] or
    /// [`ModelError::UnknownCode`] naming the field when a value cannot be
    /// understood.
    pub fn read(doc: &impl ReadDoc) -> Result<Child, ModelError> {
        let root = MapReader::root(doc);
        check_header(&root, CHILD_DOCUMENT_TYPE, CHILD_SCHEMA_VERSION)?;
        Ok(Child {
            child_id: root.required_string("childId")?,
            la_person_id: root.string("laPersonId")?,
            legal_name: root.string("legalName")?,
            preferred_name: root.string("preferredName")?,
            date_of_birth: root.string("dateOfBirth")?,
            sex: root.string("sex")?,
            ethnicity: root.string("ethnicity")?,
            first_language: root.string("firstLanguage")?,
            interpreter_needed: root.bool("interpreterNeeded")?,
            communication_needs: root.text("communicationNeeds")?,
            legal_status: root.string("legalStatus")?,
            uasc: root.bool("uasc")?,
            summary: root.text("summary")?,
            placement: root
                .map("placement")?
                .map(|placement| read_placement(&placement))
                .transpose()?,
            became_looked_after: root.string("becameLookedAfter")?,
            reviews: root
                .maps("reviews")?
                .iter()
                .map(|review| {
                    Ok(CaseReview {
                        review_id: review.required_string("reviewId")?,
                        due_date: review.string("dueDate")?,
                        held_date: review.string("heldDate")?,
                    })
                })
                .collect::<Result<_, ModelError>>()?,
            care_leaver: read_care_leaver(doc)?,
        })
    }
}

/// The `careLeaver` map; its `pathwayReviews` is a list of date strings,
/// which the shared readers do not cover, so it is walked here.
fn read_care_leaver(doc: &impl ReadDoc) -> Result<Option<CareLeaver>, ModelError> {
    let Some(map) = MapReader::root(doc).map("careLeaver")? else {
        return Ok(None);
    };
    let accommodation_from = map.string("accommodationFrom")?;
    let mut pathway_reviews = Vec::new();
    let Some((Value::Object(ObjType::Map), map_id)) = doc.get(ROOT, "careLeaver")? else {
        return Ok(None);
    };
    match doc.get(&map_id, "pathwayReviews")? {
        None => {}
        Some((Value::Object(ObjType::List), list)) => {
            for index in 0..doc.length(&list) {
                if let Some((value, id)) = doc.get(&list, index)? {
                    let path = || format!("careLeaver.pathwayReviews[{index}]");
                    pathway_reviews.push(string_value(doc, &value, &id, path)?);
                }
            }
        }
        Some((value, id)) => {
            return Err(wrong_type(
                doc,
                "careLeaver.pathwayReviews".to_owned(),
                "a list",
                &value,
                &id,
            ));
        }
    }
    Ok(Some(CareLeaver {
        accommodation_from,
        pathway_reviews,
    }))
}

/// A number of days: a whole number from 1 up, or a [`ModelError`] naming the field.
fn days<D: ReadDoc>(map: &MapReader<'_, D>, key: &str) -> Result<Option<u32>, ModelError> {
    map.int(key)?
        .map(|number| {
            u32::try_from(number)
                .ok()
                .filter(|days| *days > 0)
                .ok_or_else(|| ModelError::WrongValueType {
                    field: map.path_of(key),
                    expected: "a whole number of days from 1 up",
                    found: format!("the value {number}"),
                })
        })
        .transpose()
}

/// An interval: the text key `key` (e.g. `"3 months"`), else the whole number of days at
/// `{key}Days`, or a [`ModelError`] naming the field.
fn interval<D: ReadDoc>(map: &MapReader<'_, D>, key: &str) -> Result<Option<Interval>, ModelError> {
    if let Some(text) = map.string(key)? {
        return text
            .parse::<Interval>()
            .ok()
            .filter(|interval| !interval.is_empty())
            .map(Some)
            .ok_or_else(|| ModelError::WrongValueType {
                field: map.path_of(key),
                expected: "a number of days, weeks or months from 1 up",
                found: format!("the text {text:?}"),
            });
    }
    Ok(days(map, &format!("{key}Days"))?.map(Interval::Days))
}

fn read_placement<D: ReadDoc>(placement: &MapReader<'_, D>) -> Result<Placement, ModelError> {
    Ok(Placement {
        placement_id: placement.required_string("placementId")?,
        start_date: placement.string("startDate")?,
        end_date: placement.string("endDate")?,
        placement_type: placement.string("placementType")?,
        provider: placement.code("provider")?,
        carer_name: placement.string("carerName")?,
        postcode: placement.string("postcode")?,
        statutory_basis: placement.code("statutoryBasis")?,
        intended_until_18: placement.bool("intendedUntil18")?,
        ltf_designated: placement.bool("ltfDesignated")?,
        child_agreement_date: placement.string("childAgreementDate")?,
        care_order_date: placement.string("careOrderDate")?,
        short_breaks_interval: interval(placement, "shortBreaksInterval")?,
        other_arrangements_interval: interval(placement, "otherArrangementsInterval")?,
        local_interval: interval(placement, "localInterval")?,
    })
}

/// Creates a child document in an empty document, with both text fields,
/// the `reviews` list and, if given, the placement and care-leaver facts.
///
/// # Errors
/// [`ModelError::DocumentNotEmpty`] if the document already has content.
pub fn create_child(tx: &mut impl Transactable, child: &NewChild) -> Result<(), ModelError> {
    ensure_empty(tx, CHILD_DOCUMENT_TYPE)?;
    // Written as a signed int, as JavaScript writes numbers (a uint reads there as BigInt).
    tx.put(ROOT, "schemaVersion", CHILD_SCHEMA_VERSION as i64)?;
    tx.put(ROOT, "type", CHILD_DOCUMENT_TYPE)?;
    tx.put(ROOT, "childId", child.child_id.as_str())?;
    tx.put(ROOT, "legalName", child.legal_name.as_str())?;
    tx.put(ROOT, "dateOfBirth", child.date_of_birth.to_string())?;
    let optional_strings = [
        ("laPersonId", &child.la_person_id),
        ("preferredName", &child.preferred_name),
        ("sex", &child.sex),
        ("ethnicity", &child.ethnicity),
        ("firstLanguage", &child.first_language),
        ("legalStatus", &child.legal_status),
    ];
    put_present(tx, &ROOT, optional_strings)?;
    for (key, value) in [
        ("interpreterNeeded", child.interpreter_needed),
        ("uasc", child.uasc),
    ] {
        if let Some(value) = value {
            tx.put(ROOT, key, value)?;
        }
    }
    put_text(tx, &ROOT, "communicationNeeds", &child.communication_needs)?;
    put_text(tx, &ROOT, "summary", &child.summary)?;
    if let Some(placement) = &child.placement {
        set_placement(tx, placement)?;
    }
    if let Some(date) = child.became_looked_after {
        tx.put(ROOT, "becameLookedAfter", date.to_string())?;
    }
    // Created up front, like every list, so two devices never create it twice.
    tx.put_object(ROOT, "reviews", ObjType::List)?;
    for review in &child.reviews {
        add_case_review(tx, review)?;
    }
    if let Some(care_leaver) = &child.care_leaver {
        set_care_leaver(tx, care_leaver)?;
    }
    Ok(())
}

/// Appends `review` to the child's `reviews` list (creating the list in a
/// document written before it existed).
///
/// # Errors
/// [`ModelError::WrongValueType`] if `reviews` is not a list, or
/// [`ModelError::Automerge`] if automerge refuses the write.
pub fn add_case_review(
    tx: &mut impl Transactable,
    review: &NewCaseReview,
) -> Result<(), ModelError> {
    let (map, _) = push_root_list_entry(tx, "reviews")?;
    tx.put(&map, "reviewId", review.review_id.as_str())?;
    for (key, date) in [("dueDate", review.due_date), ("heldDate", review.held_date)] {
        if let Some(date) = date {
            tx.put(&map, key, date.to_string())?;
        }
    }
    Ok(())
}

/// Records the care-leaver facts, replacing the whole previous `careLeaver` map.
///
/// # Errors
/// [`ModelError::Automerge`] if automerge refuses the write.
pub fn set_care_leaver(
    tx: &mut impl Transactable,
    care_leaver: &NewCareLeaver,
) -> Result<(), ModelError> {
    let map = tx.put_object(ROOT, "careLeaver", ObjType::Map)?;
    tx.put(
        &map,
        "accommodationFrom",
        care_leaver.accommodation_from.to_string(),
    )?;
    let list = tx.put_object(&map, "pathwayReviews", ObjType::List)?;
    for (index, date) in care_leaver.pathway_reviews.iter().enumerate() {
        tx.insert(&list, index, date.to_string())?;
    }
    Ok(())
}

/// Records `placement` as the child's placement, replacing the whole
/// previous `placement` map.
///
/// # Errors
/// [`ModelError::Automerge`] if automerge refuses the write.
pub fn set_placement(
    tx: &mut impl Transactable,
    placement: &NewPlacement,
) -> Result<(), ModelError> {
    let map = tx.put_object(ROOT, "placement", ObjType::Map)?;
    tx.put(&map, "placementId", placement.placement_id.as_str())?;
    tx.put(&map, "startDate", placement.start_date.to_string())?;
    if let Some(end_date) = placement.end_date {
        tx.put(&map, "endDate", end_date.to_string())?;
    }
    tx.put(&map, "placementType", placement.placement_type.as_str())?;
    if let Some(provider) = placement.provider {
        tx.put(&map, "provider", provider.code())?;
    }
    put_present(
        tx,
        &map,
        [
            ("carerName", &placement.carer_name),
            ("postcode", &placement.postcode),
        ],
    )?;
    tx.put(&map, "statutoryBasis", placement.statutory_basis.code())?;
    tx.put(&map, "intendedUntil18", placement.intended_until_18)?;
    tx.put(&map, "ltfDesignated", placement.ltf_designated)?;
    for (key, date) in [
        ("childAgreementDate", placement.child_agreement_date),
        ("careOrderDate", placement.care_order_date),
    ] {
        if let Some(date) = date {
            tx.put(&map, key, date.to_string())?;
        }
    }
    for (key, interval) in [
        ("shortBreaksInterval", placement.short_breaks_interval),
        (
            "otherArrangementsInterval",
            placement.other_arrangements_interval,
        ),
        ("localInterval", placement.local_interval),
    ] {
        let Some(interval) = interval else {
            continue;
        };
        tx.put(&map, key, interval.to_string())?;
        if let Interval::Days(days) = interval {
            // Also as days, for readers from before the text keys; a signed int, as
            // JavaScript writes numbers.
            tx.put(&map, format!("{key}Days"), i64::from(days))?;
        }
    }
    Ok(())
}

/// Puts each string that is present; absent ones stay unrecorded.
fn put_present<'a>(
    tx: &mut impl Transactable,
    map: &ObjId,
    fields: impl IntoIterator<Item = (&'static str, &'a Option<String>)>,
) -> Result<(), ModelError> {
    for (key, value) in fields {
        if let Some(value) = value {
            tx.put(map, key, value.as_str())?;
        }
    }
    Ok(())
}
