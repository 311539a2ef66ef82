//! The device's records as the plain objects the screens render: a child's caseload
//! entry with its timescales from `shared::schedule::documents_schedule`, a document's
//! sync state.

use super::*;

pub(super) fn parse_id(text: &str) -> Result<DocumentId, ClientError> {
    DocumentId::parse_url_or_id(text).map_err(|err| ClientError::BadArgument(err.to_string()))
}

/// `"saving"`, `"device"` (saved here only), `"sending"`, `"server"` or `"refused"`.
pub(super) fn document_sync(state: &State, id: &DocumentId) -> &'static str {
    if state.pending_writes.get(id).copied().unwrap_or(0) > 0 {
        return "saving";
    }
    if !state.unsent.contains(id) {
        return "server";
    }
    let Some(core) = state.core.as_ref() else {
        return "device";
    };
    if core.is_refused(id) {
        "refused"
    } else if state.link.as_ref().is_some_and(|l| l.ready) {
        "sending"
    } else {
        "device"
    }
}

pub(super) fn child_entry(state: &State, child_ref: &str, child_document: Option<&str>) -> JsValue {
    let core = state.core.as_ref();
    let mut cache = state.summaries.borrow_mut();
    // Bring the cache up to date with every document in memory; documents still loading
    // are shown as last summarised.
    for id in &state.documents {
        if let Some(doc) = core.and_then(|c| c.document(id))
            && let Some(fresh) = CachedSummary::refresh(cache.get(id), id, doc)
        {
            cache.insert(*id, fresh);
            state.summaries_dirty.set(true);
        }
    }
    let profile = child_document
        .and_then(|id| DocumentId::parse_url_or_id(id).ok())
        .and_then(|id| cache.get(&id))
        .map_or(JsValue::NULL, |c| c.profile.clone());
    // Each visit's summary (a copy, with its sync state), newest first.
    let mut visits: Vec<(Option<String>, JsValue)> = state
        .documents
        .iter()
        .filter_map(|id| {
            let cached = cache.get(id)?;
            (cached.child.as_deref() == Some(child_ref) && cached.summary.is_object())
                .then_some(())?;
            let summary = Obj::copy(&cached.summary)
                .set("sync", document_sync(state, id))
                .done();
            Some((js::text(&summary, "visitDate"), summary))
        })
        .collect();
    shared::small_sort::sort_small_by(&mut visits, |a, b| a.0 > b.0);
    let needs_decision = visits
        .iter()
        .filter(|(_, v)| js::number(v, "conflicts").is_some_and(|n| n > 0.0))
        .count();
    Obj::new()
        .set("childRef", child_ref)
        .set("profile", profile)
        .set("needsDecision", needs_decision)
        .set("visits", array(visits.into_iter().map(|(_, v)| v)))
        .done()
}

/// The child's timescales on `today` from the documents on this device, by the council's
/// rules (`shared::schedule::documents_schedule`, what the dashboard computes from the
/// same facts); `None` while the child's document or one of its listed visits has not
/// been read yet (the answer would be wrong, not late).
pub(super) fn child_schedule_view(
    state: &State,
    child: &crate::server_api::CaseloadChild,
    today: CalendarDate,
) -> Option<Obj> {
    let cache = state.summaries.borrow();
    let child_id = DocumentId::parse_url_or_id(child.child_document_id.as_deref()?).ok()?;
    let child_doc = cache.get(&child_id)?.child_doc.clone()?;
    let listed: Vec<DocumentId> = child
        .visit_document_ids
        .iter()
        .filter_map(|id| DocumentId::parse_url_or_id(id).ok())
        .collect();
    if listed
        .iter()
        .any(|id| cache.get(id).is_none_or(|cached| !cached.read))
    {
        return None;
    }
    let visits: Vec<VisitSummary> = state
        .documents
        .iter()
        .filter_map(|id| cache.get(id)?.visit.clone())
        .filter(|visit| visit.child_id == child.child_ref)
        .collect();
    let schedule = documents_schedule(&child_doc, &visits, &state.caseload.policy, today);
    let next = schedule.next_due.as_ref();
    Some(
        Obj::new()
            .set("status", schedule.status.as_str())
            .set("nextDue", next.map(|r| r.due.to_string()))
            .set("rule", next.map(|r| r.rule.to_string()))
            .set(
                "reason",
                next.map(|r| r.reason.clone())
                    .or(schedule.no_schedule_reason.clone()),
            )
            .set(
                "lastQualifyingVisit",
                schedule.last_qualifying_visit.map(|d| d.to_string()),
            ),
    )
}
