//! The visit document: one statutory (or other) visit to a child in care.
//!
//! A visit is one automerge document whose root map uses the camelCase keys
//! below; the JavaScript client writes the same keys, so they are fixed.
//! A missing key means "not answered yet": drafts are partial, and only
//! [`Visit::problems_for_submission`](super::Visit::problems_for_submission)
//! decides what must be filled in before a visit is submitted.
//!
//! | key | stored as |
//! |---|---|
//! | `schemaVersion`, `type` | `1`, `"visit"` |
//! | `visitId`, `childId`, `workerId` | UUID strings |
//! | `visitDate` | `"YYYY-MM-DD"` |
//! | `visitKind`, `location`, `notAloneReason`, `bedroomSeen`, `status` | codes |
//! | `announced`, `childSeen`, `seenAlone`, `welfareSafeguarded` | booleans |
//! | `purpose`, `notAloneDetail`, `bedroomDetail`, `observations`, `analysis` | text |
//! | `personsPresent`, `voice`, `actions` | lists of maps |
//! | `personsPresent[i]` | `name`, `role` (text), `personId` (UUID; entries added since the removal log) |
//! | `voice[i]` | `entryId`, `words`, `paraphrase` (text), `topics` (list of codes), `scale` (0 to 10), `scaleQuestion` (text: what the scale asked), `readBack` (boolean) |
//! | `actions[i]` | `actionId`, `description`, `ownerName` (text), `ownerType`, `status` (codes), `dueDate` (`"YYYY-MM-DD"`) |
//! | `madeBy` | code: `socialWorker` or `personalAdviser` (who made the visit; the schedule counts each rule's own) |
//! | `removals` | list of maps, written by the device that removed an entry from `personsPresent`, `voice` or `actions`: `entryId`, `list`, `itemId` (the removed entry's id, when it had one), `summary` (what it said, in plain words), `workerId`, `at` (milliseconds, device time) |
//! | `discarded` | map, written when a draft started in error is discarded: `reason`, `workerId`, `at` (milliseconds, device time); a discarded record never counts |
//! | `createdAt` | milliseconds since the Unix epoch, device time |
//! | `submittedAt` | milliseconds since the Unix epoch, device time of the latest submission |
//! | `oversight` | list of maps, written by the server: `entryId`, `decision` (`"signedOff"` or `"returned"`), `comment`, `managerId` (username), `managerName`, `heads` (list of hex change hashes: the version decided on), `at` (milliseconds, server time) |
//! | `amendments` | list of maps, written by the worker's device before it changes a signed-off record: `entryId`, `reason`, `workerId`, `at` (milliseconds, device time), `heads` (list of hex change hashes: the document when the amendment began) |
//! | `corrections` | list of maps, written by the server when a manager corrects a misfiled record: `entryId`, `kind` (`"moved"` or `"expunged"`), `at` (milliseconds, server time), `byId` (username), `byName`, `reason`, and `fromChild`, `toChild` (moved) or `replaces` (expunged: the id of the document this one was rebuilt from); read through [`super::correction`] |
//!
//! Narrative fields are automerge `Text` so that two people editing offline
//! merge character by character; everything else is a single value, which
//! automerge keeps as a conflict when two devices set it concurrently (see
//! [`super::conflict`]).
//!
//! `submittedAt`, `oversight`, `amendments`, `corrections`, `madeBy`, `removals`, `discarded`,
//! `scaleQuestion` and `personId` were added to schema 1 without a version change:
//! they are optional and additive, so older documents simply lack them and older
//! readers ignore them. Oversight, amendments, corrections and removals are append-only
//! records of who decided, changed, corrected or removed what, read through
//! [`super::oversight`], [`super::correction`] and [`super::removal`], not part of [`Visit`].
//!
//! Each change a Doorstep device commits carries a message naming its author and
//! device ([`super::ChangeAuthor`]); other clients' changes simply have none.
//!
//! Some answers only apply given another: "seen alone" only when the child was seen,
//! and the reason for not being seen alone only when they were not. [`Visit::read`]
//! leaves out an answer that does not apply (so a reason typed on one device never
//! stands beside "seen alone: yes" chosen on another), and the edits that settle the
//! answer they depend on also remove them (kept in the document's history).

use automerge::ReadDoc;

use super::ModelError;
use super::coded::coded_enum;
use super::read::MapReader;
use crate::sync::Timestamp;

/// The visit schema version this build reads and writes.
pub const VISIT_SCHEMA_VERSION: u64 = 1;

/// The root `type` of a visit document.
pub const VISIT_DOCUMENT_TYPE: &str = "visit";

/// A visit document read into plain Rust values.
///
/// Narrative text fields are `String`s that are empty when nothing has been
/// written (a missing key and an empty text mean the same); all other
/// answers are `None` until answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    /// This visit's id (UUID text).
    pub visit_id: String,
    /// The child visited (UUID text).
    pub child_id: String,
    /// The worker who visited (UUID text).
    pub worker_id: String,
    /// The date of the visit as stored; may not be a real date in a draft.
    pub visit_date: Option<String>,
    /// Why the visit happened.
    pub visit_kind: Option<VisitKind>,
    /// Where the child was seen.
    pub location: Option<VisitLocation>,
    /// Whether the carer knew about the visit in advance.
    pub announced: Option<bool>,
    /// The purpose of the visit.
    pub purpose: String,
    /// Everyone present besides the worker, with their role.
    pub persons_present: Vec<PersonPresent>,
    /// Whether the worker saw the child.
    pub child_seen: Option<bool>,
    /// Whether the worker spoke to the child in private (CPPCR reg 29).
    pub seen_alone: Option<bool>,
    /// Which reg 29 exception applied when the child was not seen alone.
    pub not_alone_reason: Option<NotAloneReason>,
    /// More about why the child was not seen alone.
    pub not_alone_detail: String,
    /// Whether the child's bedroom was seen.
    pub bedroom_seen: Option<BedroomSeen>,
    /// Why the bedroom was not seen, or what was seen.
    pub bedroom_detail: String,
    /// What the worker saw ("say what you see").
    pub observations: String,
    /// What the child said, one entry per thing said.
    pub voice: Vec<VoiceEntry>,
    /// The worker's own analysis, not just description.
    pub analysis: String,
    /// What was agreed to happen next.
    pub actions: Vec<Action>,
    /// Whether the child's welfare is adequately safeguarded and promoted by
    /// the placement; `false` triggers a review of the case (CPPCR reg 30).
    pub welfare_safeguarded: Option<bool>,
    /// Where the record is in its life.
    pub status: Option<VisitStatus>,
    /// When the visit record was created, by the device's clock.
    pub created_at: Option<Timestamp>,
    /// When the record was last submitted, by the device's clock; `None`
    /// until it is first submitted (or when a client did not record it).
    pub submitted_at: Option<Timestamp>,
    /// Who made the visit: the child's social worker or a personal adviser.
    pub made_by: Option<VisitMaker>,
    /// Set when a draft started in error was discarded; it then never counts.
    pub discarded: Option<Discard>,
}

/// Why and by whom a draft was discarded (the `discarded` map).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discard {
    /// Why, in the worker's words.
    pub reason: String,
    /// Who discarded it.
    pub worker_id: String,
    /// When, by their device's clock.
    pub at: Option<Timestamp>,
}

/// A person at the visit other than the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonPresent {
    /// This person's entry id (UUID text); `None` for entries added before ids were.
    pub person_id: Option<String>,
    /// Their name.
    pub name: String,
    /// Their role or relationship to the child, e.g. "foster carer".
    pub role: String,
}

/// One thing the child said, kept apart from the worker's paraphrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceEntry {
    /// This entry's id (UUID text).
    pub entry_id: String,
    /// The child's own words, verbatim.
    pub words: String,
    /// The worker's paraphrase, kept separate from the child's words.
    pub paraphrase: String,
    /// What the child talked about, without repeats.
    pub topics: Vec<VoiceTopic>,
    /// A 0 to 10 answer (e.g. "how safe do you feel"), `None` if not asked.
    /// Kept as read so validation can report values outside 0 to 10.
    pub scale: Option<i64>,
    /// The question the scale answered, e.g. "How safe do you feel at home?".
    pub scale_question: String,
    /// Whether the entry was read back to the child.
    pub read_back: Option<bool>,
}

/// Something agreed at the visit, with who will do it and by when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// This action's id (UUID text).
    pub action_id: String,
    /// What will be done.
    pub description: String,
    /// What kind of person or body owns the action.
    pub owner_type: Option<ActionOwnerType>,
    /// Who owns the action.
    pub owner_name: String,
    /// When it is due, as stored; may not be a real date in a draft.
    pub due_date: Option<String>,
    /// Whether it is still open.
    pub status: Option<ActionStatus>,
}

coded_enum! {
    /// Why the visit happened (`visitKind`).
    pub enum VisitKind {
        /// A visit required by CPPCR reg 28.
        Statutory = "statutory",
        /// A visit the child or someone else asked for.
        Requested = "requested",
        /// A visit after a complaint.
        PostComplaint = "postComplaint",
        /// Any other visit.
        Other = "other",
    }
}

coded_enum! {
    /// Where the child was seen (`location`).
    pub enum VisitLocation {
        /// Where the child lives.
        Placement = "placement",
        /// At school.
        School = "school",
        /// Somewhere else in the community.
        Community = "community",
        /// By video call.
        Virtual = "virtual",
    }
}

coded_enum! {
    /// The CPPCR reg 29 exception that applied when the child was not seen
    /// alone (`notAloneReason`).
    pub enum NotAloneReason {
        /// The child, of sufficient age and understanding, refused.
        Refused = "refused",
        /// The worker judged it inappropriate given the child's age or understanding.
        Inappropriate = "inappropriate",
        /// The worker was unable to.
        Unable = "unable",
    }
}

coded_enum! {
    /// Whether the child's bedroom was seen (`bedroomSeen`).
    pub enum BedroomSeen {
        /// It was seen.
        Yes = "yes",
        /// It was not seen; `bedroomDetail` says why.
        No = "no",
        /// There was no bedroom to see, e.g. a visit at school.
        NotApplicable = "notApplicable",
    }
}

coded_enum! {
    /// What a child's words were about (`topics`).
    pub enum VoiceTopic {
        /// Home and the people there.
        Home = "home",
        /// School or college.
        School = "school",
        /// Time with family.
        FamilyTime = "familyTime",
        /// Friends.
        Friends = "friends",
        /// Health.
        Health = "health",
        /// Feelings.
        Feelings = "feelings",
        /// Feeling safe.
        Safety = "safety",
        /// Hopes and plans.
        HopesPlans = "hopesPlans",
        /// Their social worker.
        MySocialWorker = "mySocialWorker",
    }
}

coded_enum! {
    /// Who owns an action (`ownerType`).
    pub enum ActionOwnerType {
        /// The social worker.
        Worker = "worker",
        /// The carer.
        Carer = "carer",
        /// The child.
        Child = "child",
        /// Another agency, e.g. school or health.
        OtherAgency = "otherAgency",
    }
}

coded_enum! {
    /// Whether an action is still to do (`status` of an action).
    pub enum ActionStatus {
        /// Still to do.
        Open = "open",
        /// Done.
        Done = "done",
        /// No longer needed.
        Cancelled = "cancelled",
    }
}

coded_enum! {
    /// Who made the visit (`madeBy`): the rules count only the visits they name (the
    /// placement rules a social worker's, care-leaver visits a personal adviser's).
    pub enum VisitMaker {
        /// The child's social worker (the authority's representative, CPPCR reg 28).
        SocialWorker = "socialWorker",
        /// A personal adviser (Care Leavers (England) Regulations 2010 reg 8).
        PersonalAdviser = "personalAdviser",
    }
}

coded_enum! {
    /// Where a visit record is in its life (`status`).
    pub enum VisitStatus {
        /// Still being written.
        Draft = "draft",
        /// Sent for management oversight.
        Submitted = "submitted",
    }
}

impl Visit {
    /// Reads a visit document.
    ///
    /// # Errors
    /// [`ModelError::WrongDocumentType`] if the root `type` is not `"visit"`,
    /// [`ModelError::UnsupportedSchemaVersion`] if `schemaVersion` is not 1,
    /// [`ModelError::MissingField`] if an id is missing, and
    /// [`ModelError::WrongValueType`] or [`ModelError::UnknownCode`] naming the
    /// field when a value cannot be understood.
    pub fn read(doc: &impl ReadDoc) -> Result<Visit, ModelError> {
        let summary = VisitSummary::read(doc)?;
        let root = MapReader::root(doc);
        // Why the child was not seen alone applies unless they were seen alone or not seen.
        let reason_applies = summary.seen_alone != Some(true) && summary.child_seen != Some(false);
        Ok(Visit {
            visit_id: summary.visit_id,
            child_id: summary.child_id,
            worker_id: summary.worker_id,
            visit_date: summary.visit_date,
            visit_kind: summary.visit_kind,
            location: summary.location,
            announced: root.bool("announced")?,
            purpose: root.text("purpose")?,
            persons_present: root
                .maps("personsPresent")?
                .iter()
                .map(|person| {
                    Ok(PersonPresent {
                        person_id: person.string("personId")?,
                        name: person.text("name")?,
                        role: person.text("role")?,
                    })
                })
                .collect::<Result<_, ModelError>>()?,
            child_seen: summary.child_seen,
            seen_alone: summary.seen_alone,
            not_alone_reason: root.code("notAloneReason")?.filter(|_| reason_applies),
            not_alone_detail: if reason_applies {
                root.text("notAloneDetail")?
            } else {
                String::new()
            },
            bedroom_seen: root.code("bedroomSeen")?,
            bedroom_detail: root.text("bedroomDetail")?,
            observations: root.text("observations")?,
            voice: root
                .maps("voice")?
                .iter()
                .map(read_voice_entry)
                .collect::<Result<_, _>>()?,
            analysis: root.text("analysis")?,
            actions: summary.actions,
            welfare_safeguarded: root.bool("welfareSafeguarded")?,
            status: summary.status,
            created_at: summary.created_at,
            submitted_at: summary.submitted_at,
            made_by: summary.made_by,
            discarded: read_discard(&root)?,
        })
    }
}

/// What a listing needs of a visit: who, when, where, whether the child was seen (alone),
/// its actions and its state; none of the narrative (purpose, observations, the child's words,
/// analysis), which is most of a visit's bytes and most of the cost of reading it.
/// [`Visit::read`] starts from this, so the two agree on every field they share.
#[derive(Debug, Clone, PartialEq)]
pub struct VisitSummary {
    /// As [`Visit::visit_id`].
    pub visit_id: String,
    /// As [`Visit::child_id`].
    pub child_id: String,
    /// As [`Visit::worker_id`].
    pub worker_id: String,
    /// As [`Visit::visit_date`].
    pub visit_date: Option<String>,
    /// As [`Visit::visit_kind`].
    pub visit_kind: Option<VisitKind>,
    /// As [`Visit::location`].
    pub location: Option<VisitLocation>,
    /// As [`Visit::child_seen`].
    pub child_seen: Option<bool>,
    /// As [`Visit::seen_alone`].
    pub seen_alone: Option<bool>,
    /// As [`Visit::actions`].
    pub actions: Vec<Action>,
    /// As [`Visit::status`].
    pub status: Option<VisitStatus>,
    /// As [`Visit::created_at`].
    pub created_at: Option<Timestamp>,
    /// As [`Visit::submitted_at`].
    pub submitted_at: Option<Timestamp>,
    /// As [`Visit::made_by`].
    pub made_by: Option<VisitMaker>,
    /// Whether [`Visit::discarded`] is set.
    pub discarded: bool,
}

impl VisitSummary {
    /// Reads the summary of a visit document.
    ///
    /// # Errors
    /// As [`Visit::read`], for the fields a summary holds.
    pub fn read(doc: &impl ReadDoc) -> Result<VisitSummary, ModelError> {
        let root = MapReader::root(doc);
        check_header(&root, VISIT_DOCUMENT_TYPE, VISIT_SCHEMA_VERSION)?;
        let child_seen = root.bool("childSeen")?;
        Ok(VisitSummary {
            visit_id: root.required_string("visitId")?,
            child_id: root.required_string("childId")?,
            worker_id: root.required_string("workerId")?,
            visit_date: root.string("visitDate")?,
            visit_kind: root.code("visitKind")?,
            location: root.code("location")?,
            child_seen,
            // Seen alone only applies to a child who was seen.
            seen_alone: root
                .bool("seenAlone")?
                .filter(|_| child_seen != Some(false)),
            actions: root
                .maps("actions")?
                .iter()
                .map(read_action)
                .collect::<Result<_, _>>()?,
            status: root.code("status")?,
            created_at: root.timestamp("createdAt")?,
            submitted_at: root.timestamp("submittedAt")?,
            made_by: root.code("madeBy")?,
            discarded: root.map("discarded")?.is_some(),
        })
    }
}

/// The `discarded` map, if any.
fn read_discard<D: ReadDoc>(root: &MapReader<'_, D>) -> Result<Option<Discard>, ModelError> {
    root.map("discarded")?
        .map(|map| {
            Ok(Discard {
                reason: map.text("reason")?,
                worker_id: map.text("workerId")?,
                at: map.timestamp("at")?,
            })
        })
        .transpose()
}

impl Visit {
    /// The fields a [`VisitSummary`] holds, as they are here.
    pub fn summary(&self) -> VisitSummary {
        VisitSummary {
            visit_id: self.visit_id.clone(),
            child_id: self.child_id.clone(),
            worker_id: self.worker_id.clone(),
            visit_date: self.visit_date.clone(),
            visit_kind: self.visit_kind,
            location: self.location,
            child_seen: self.child_seen,
            seen_alone: self.seen_alone,
            actions: self.actions.clone(),
            status: self.status,
            created_at: self.created_at,
            submitted_at: self.submitted_at,
            made_by: self.made_by,
            discarded: self.discarded.is_some(),
        }
    }
}

/// Checks the root `type` and `schemaVersion` shared by every document.
pub(crate) fn check_header<D: ReadDoc>(
    root: &MapReader<'_, D>,
    expected: &'static str,
    supported: u64,
) -> Result<(), ModelError> {
    let found = root.string("type")?;
    if found.as_deref() != Some(expected) {
        return Err(ModelError::WrongDocumentType { expected, found });
    }
    let version = root
        .int("schemaVersion")?
        .ok_or_else(|| ModelError::MissingField {
            field: "schemaVersion".to_owned(),
        })?;
    if u64::try_from(version).ok() != Some(supported) {
        return Err(ModelError::UnsupportedSchemaVersion {
            document: expected,
            found: version,
            supported,
        });
    }
    Ok(())
}

fn read_voice_entry<D: ReadDoc>(entry: &MapReader<'_, D>) -> Result<VoiceEntry, ModelError> {
    Ok(VoiceEntry {
        entry_id: entry.required_string("entryId")?,
        words: entry.text("words")?,
        paraphrase: entry.text("paraphrase")?,
        topics: entry.codes("topics")?,
        scale: entry.int("scale")?,
        scale_question: entry.text("scaleQuestion")?,
        read_back: entry.bool("readBack")?,
    })
}

fn read_action<D: ReadDoc>(action: &MapReader<'_, D>) -> Result<Action, ModelError> {
    Ok(Action {
        action_id: action.required_string("actionId")?,
        description: action.text("description")?,
        owner_type: action.code("ownerType")?,
        owner_name: action.text("ownerName")?,
        due_date: action.string("dueDate")?,
        status: action.code("status")?,
    })
}
