//! Tolerant field readers shared by the typed documents.
//!
//! The same documents are written by this crate and by the JavaScript client
//! (automerge JS 3.x), which stores plain strings as collaborative `Text`
//! objects and numbers as `Int`, `Uint` or `F64`. The readers here accept every
//! such spelling of a value, and turn anything else into a [`ModelError`] that
//! names the field's path (e.g. `"voice[1].scale"`), so no document content
//! can make reading panic.

use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};

use super::{Coded, ModelError};
use crate::sync::Timestamp;

/// Reads the keys of one map object; `path` locates the map for messages.
pub(crate) struct MapReader<'a, D> {
    doc: &'a D,
    obj: ObjId,
    /// Empty for the root map, otherwise e.g. `"voice[0]"` or `"placement"`.
    path: String,
}

impl<'a, D: ReadDoc> MapReader<'a, D> {
    /// A reader over the document's root map.
    pub(crate) fn root(doc: &'a D) -> Self {
        Self {
            doc,
            obj: automerge::ROOT,
            path: String::new(),
        }
    }

    /// The path of `key` inside this map, for error messages.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn get(&self, key: &str) -> Result<Option<(Value<'a>, ObjId)>, ModelError> {
        Ok(self.doc.get(&self.obj, key)?)
    }

    /// A string stored either as a scalar string or as a text object.
    pub(crate) fn string(&self, key: &str) -> Result<Option<String>, ModelError> {
        self.get(key)?
            .map(|(value, id)| string_value(self.doc, &value, &id, || self.path_of(key)))
            .transpose()
    }

    /// Like [`Self::string`], but for narrative fields where a missing key
    /// and an empty text both mean "nothing written yet".
    pub(crate) fn text(&self, key: &str) -> Result<String, ModelError> {
        Ok(self.string(key)?.unwrap_or_default())
    }

    /// A string every document must have, such as an id.
    pub(crate) fn required_string(&self, key: &str) -> Result<String, ModelError> {
        self.string(key)?.ok_or_else(|| ModelError::MissingField {
            field: self.path_of(key),
        })
    }

    /// A yes/no answer.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, ModelError> {
        match self.get(key)? {
            None => Ok(None),
            Some((Value::Scalar(scalar), _)) if matches!(*scalar, ScalarValue::Boolean(_)) => {
                Ok(Some(matches!(*scalar, ScalarValue::Boolean(true))))
            }
            Some((value, id)) => Err(self.wrong_type(key, "a boolean", &value, &id)),
        }
    }

    /// A whole number written as `Int`, `Uint`, `Timestamp` or an integral `F64`.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ModelError> {
        match self.get(key)? {
            None => Ok(None),
            Some((value, id)) => match &value {
                Value::Scalar(scalar) => integral(scalar)
                    .map(Some)
                    .ok_or_else(|| self.wrong_type(key, "a whole number", &value, &id)),
                Value::Object(_) => Err(self.wrong_type(key, "a whole number", &value, &id)),
            },
        }
    }

    /// A point in time stored as milliseconds since the Unix epoch.
    pub(crate) fn timestamp(&self, key: &str) -> Result<Option<Timestamp>, ModelError> {
        let Some(millis) = self.int(key)? else {
            return Ok(None);
        };
        u64::try_from(millis)
            .map(|millis| Some(Timestamp::from_millis(millis)))
            .map_err(|_| ModelError::WrongValueType {
                field: self.path_of(key),
                expected: "milliseconds since 1970",
                found: format!("the value {millis}"),
            })
    }

    /// A coded answer, e.g. `"postComplaint"`.
    pub(crate) fn code<T: Coded>(&self, key: &str) -> Result<Option<T>, ModelError> {
        self.string(key)?
            .map(|code| parse_code(&code, self.path_of(key)))
            .transpose()
    }

    /// A nested map, `None` when the key is missing.
    pub(crate) fn map(&self, key: &str) -> Result<Option<MapReader<'a, D>>, ModelError> {
        match self.get(key)? {
            None => Ok(None),
            Some((Value::Object(ObjType::Map), obj)) => Ok(Some(MapReader {
                doc: self.doc,
                obj,
                path: self.path_of(key),
            })),
            Some((value, id)) => Err(self.wrong_type(key, "a map", &value, &id)),
        }
    }

    /// A list of maps (e.g. `voice`); a missing key reads as an empty list.
    pub(crate) fn maps(&self, key: &str) -> Result<Vec<MapReader<'a, D>>, ModelError> {
        self.list_items(key)?
            .into_iter()
            .map(|(path, value, obj)| match value {
                Value::Object(ObjType::Map) => Ok(MapReader {
                    doc: self.doc,
                    obj,
                    path,
                }),
                other => Err(wrong_type(self.doc, path, "a map", &other, &obj)),
            })
            .collect()
    }

    /// A list of codes (e.g. `topics`), without repeats, in first-seen order;
    /// a missing key reads as an empty list.
    pub(crate) fn codes<T: Coded + PartialEq>(&self, key: &str) -> Result<Vec<T>, ModelError> {
        let mut codes = Vec::new();
        for (path, value, id) in self.list_items(key)? {
            let code = parse_code(&string_value(self.doc, &value, &id, || path.clone())?, path)?;
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
        Ok(codes)
    }

    /// Every element of the list at `key` with its path.
    fn list_items(&self, key: &str) -> Result<Vec<(String, Value<'a>, ObjId)>, ModelError> {
        let list = match self.get(key)? {
            None => return Ok(Vec::new()),
            Some((Value::Object(ObjType::List), list)) => list,
            Some((value, id)) => return Err(self.wrong_type(key, "a list", &value, &id)),
        };
        let path = self.path_of(key);
        let mut items = Vec::new();
        for index in 0..self.doc.length(&list) {
            if let Some((value, id)) = self.doc.get(&list, index)? {
                items.push((format!("{path}[{index}]"), value, id));
            }
        }
        Ok(items)
    }

    fn wrong_type(
        &self,
        key: &str,
        expected: &'static str,
        found: &Value<'_>,
        id: &ObjId,
    ) -> ModelError {
        wrong_type(self.doc, self.path_of(key), expected, found, id)
    }
}

/// The integer held by a scalar, accepting every way a whole number arrives.
pub(crate) fn integral(scalar: &ScalarValue) -> Option<i64> {
    match scalar {
        ScalarValue::Int(number) | ScalarValue::Timestamp(number) => Some(*number),
        ScalarValue::Uint(number) => i64::try_from(*number).ok(),
        // `i64::MAX as f64` rounds up to exactly 2^63, so every whole number
        // in this half-open range converts to an `i64` without loss.
        ScalarValue::F64(number)
            if number.fract() == 0.0 && (i64::MIN as f64..i64::MAX as f64).contains(number) =>
        {
            Some(*number as i64)
        }
        _ => None,
    }
}

/// A value shown to a person, e.g. when two devices disagree about it.
pub(crate) fn render_value(doc: &impl ReadDoc, value: &Value<'_>, id: &ObjId) -> String {
    match value {
        Value::Object(ObjType::Text) => doc.text(id).unwrap_or_default(),
        Value::Object(ObjType::Map | ObjType::Table) => "(a group of answers)".to_owned(),
        Value::Object(ObjType::List) => "(a list)".to_owned(),
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(text) => text.to_string(),
            ScalarValue::Boolean(true) => "Yes".to_owned(),
            ScalarValue::Boolean(false) => "No".to_owned(),
            ScalarValue::Null => "(empty)".to_owned(),
            other => integral(other).map_or_else(|| other.to_string(), |number| number.to_string()),
        },
    }
}

/// A string stored either as a scalar string or as a text object.
pub(crate) fn string_value(
    doc: &impl ReadDoc,
    value: &Value<'_>,
    id: &ObjId,
    path: impl FnOnce() -> String,
) -> Result<String, ModelError> {
    match value {
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(text) => Ok(text.to_string()),
            _ => Err(wrong_type(doc, path(), "text", value, id)),
        },
        Value::Object(ObjType::Text) => Ok(doc.text(id)?),
        Value::Object(_) => Err(wrong_type(doc, path(), "text", value, id)),
    }
}

fn parse_code<T: Coded>(code: &str, field: String) -> Result<T, ModelError> {
    T::from_code(code).ok_or_else(|| ModelError::UnknownCode {
        field,
        value: code.to_owned(),
    })
}

/// The error for a value of the wrong kind, describing what was found.
pub(crate) fn wrong_type(
    doc: &impl ReadDoc,
    field: String,
    expected: &'static str,
    found: &Value<'_>,
    id: &ObjId,
) -> ModelError {
    let found = match found {
        Value::Object(ObjType::Text) => format!("the text {:?}", render_value(doc, found, id)),
        Value::Object(_) => render_value(doc, found, id),
        Value::Scalar(scalar) => format!("the value {}", describe_scalar(scalar)),
    };
    ModelError::WrongValueType {
        field,
        expected,
        found,
    }
}

/// A scalar as written in an error message, e.g. `"yes"` (quoted) or `1.5`.
pub(crate) fn describe_scalar(scalar: &ScalarValue) -> String {
    match scalar {
        ScalarValue::Str(text) => format!("{:?}", text.as_str()),
        ScalarValue::F64(number) => number.to_string(),
        other => other.to_string(),
    }
}
