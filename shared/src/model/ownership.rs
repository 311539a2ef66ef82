//! Which child a document belongs to, read cheaply and tolerantly (for access checks).

use automerge::ReadDoc;

use super::read::MapReader;
use super::visit::VISIT_DOCUMENT_TYPE;

/// The `childId` of a visit document, or `None` if the document is not (yet) a visit
/// that names its child.
pub fn visit_child_id(doc: &impl ReadDoc) -> Option<String> {
    let root = MapReader::root(doc);
    let kind = root.string("type").ok()??;
    if kind != VISIT_DOCUMENT_TYPE {
        return None;
    }
    root.string("childId").ok()?.filter(|id| !id.is_empty())
}

/// The `workerId` of a visit document (who created it), if it names one.
pub fn visit_worker_id(doc: &impl ReadDoc) -> Option<String> {
    let root = MapReader::root(doc);
    if root.string("type").ok()?? != VISIT_DOCUMENT_TYPE {
        return None;
    }
    root.string("workerId").ok()?.filter(|id| !id.is_empty())
}

/// When a visit document says it was created (`createdAt`, device time), if it says.
pub fn visit_created_at(doc: &impl ReadDoc) -> Option<crate::sync::Timestamp> {
    MapReader::root(doc).timestamp("createdAt").ok().flatten()
}
