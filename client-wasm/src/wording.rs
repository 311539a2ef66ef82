//! The one wording of a visit, handed to the screens.
//!
//! The words live in `shared::model::wording`, where the print, the exports and subject
//! access read them too; [`wording`] gives the JavaScript the same table, so no screen
//! keeps a copy of its own. It ships inside the wasm, so it works offline like the rest.

use shared::model::FormSection;
use shared::model::wording::{choices, field_labels};
use wasm_bindgen::JsValue;
use wasm_bindgen::prelude::wasm_bindgen;

use crate::js::{Obj, array};

/// The visit's words for the screens:
/// - `fields`: field key → label (`{ visitDate: "Date of the visit", … }`);
/// - `choices`: field key → `[[code, words], …]` for each coded question (`topics`,
///   `ownerType` and `actionStatus` for a voice entry's topics and an action's owner and
///   status);
/// - `sections`: the form's `[[key, title], …]` in task-list order;
/// - `sectionOf`: field key → the key of the form section that holds it.
#[wasm_bindgen]
pub fn wording() -> JsValue {
    let pairs = |list: Vec<(&'static str, &'static str)>| {
        array(list.into_iter().map(|(code, words)| array([code, words])))
    };
    let fields = field_labels();
    let labels = fields
        .iter()
        .fold(Obj::new(), |obj, (key, label)| obj.set(key, *label));
    let section_of = fields.iter().fold(Obj::new(), |obj, (key, _)| {
        obj.set(key, FormSection::of_field(key).key())
    });
    let choices = choices()
        .into_iter()
        .fold(Obj::new(), |obj, (key, list)| obj.set(key, pairs(list)));
    let sections = array(
        FormSection::ALL
            .into_iter()
            .map(|section| array([section.key(), section.title()])),
    );
    Obj::new()
        .set("fields", labels.done())
        .set("choices", choices.done())
        .set("sections", sections)
        .set("sectionOf", section_of.done())
        .done()
}
