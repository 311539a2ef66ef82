//! Plain JavaScript objects and arrays, built and read directly.
//!
//! The screens get their data as plain objects. Building them here with `Reflect` (one
//! small non-generic call per field) costs far less wasm than building a
//! `serde_json::Value` and serialising it, and the browser parses and prints the JSON.

use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// A plain object under construction.
pub struct Obj(Object);

impl Obj {
    /// An empty object.
    pub fn new() -> Obj {
        Obj(Object::new())
    }

    /// A shallow copy of `value` (an object), to add fields to without changing it.
    pub fn copy(value: &JsValue) -> Obj {
        Obj(Object::assign(&Object::new(), &Object::from(value.clone())))
    }

    /// Sets `key` to `value` (`None` becomes `null`).
    pub fn set(self, key: &str, value: impl ToJs) -> Obj {
        set(&self.0, key, &value.to_js());
        self
    }

    /// The object.
    pub fn done(self) -> JsValue {
        self.0.into()
    }
}

impl Default for Obj {
    fn default() -> Self {
        Obj::new()
    }
}

fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `object[key]` (`undefined` if it is not there or `object` is not an object).
pub fn get(object: &JsValue, key: &str) -> JsValue {
    Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]` as text, if it is a string.
pub fn text(object: &JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

/// `object[key]` as a number, if it is one.
pub fn number(object: &JsValue, key: &str) -> Option<f64> {
    get(object, key).as_f64()
}

/// The strings in the array at `object[key]` (anything else in it is skipped).
pub fn texts(object: &JsValue, key: &str) -> Vec<String> {
    items(object, key)
        .iter()
        .filter_map(JsValue::as_string)
        .collect()
}

/// The items of the array at `object[key]` (none if it is not an array).
pub fn items(object: &JsValue, key: &str) -> Vec<JsValue> {
    list(&get(object, key))
}

/// The items of `value` (none if it is not an array).
pub fn list(value: &JsValue) -> Vec<JsValue> {
    if Array::is_array(value) {
        Array::from(value).to_vec()
    } else {
        Vec::new()
    }
}

/// An array of `values`.
pub fn array<T: ToJs>(values: impl IntoIterator<Item = T>) -> JsValue {
    let array = Array::new();
    for value in values {
        array.push(&value.to_js());
    }
    array.into()
}

/// A value as the screens get it: numbers as JavaScript numbers (never `BigInt`), `None`
/// as `null` (not `undefined`: the screens test answers against `null`).
pub trait ToJs {
    /// The value.
    fn to_js(self) -> JsValue;
}

impl ToJs for JsValue {
    fn to_js(self) -> JsValue {
        self
    }
}

impl ToJs for &str {
    fn to_js(self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for String {
    fn to_js(self) -> JsValue {
        JsValue::from_str(&self)
    }
}

impl ToJs for &String {
    fn to_js(self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl ToJs for bool {
    fn to_js(self) -> JsValue {
        JsValue::from_bool(self)
    }
}

impl ToJs for usize {
    fn to_js(self) -> JsValue {
        JsValue::from_f64(self as f64)
    }
}

impl ToJs for i64 {
    fn to_js(self) -> JsValue {
        JsValue::from_f64(self as f64)
    }
}

impl ToJs for u64 {
    fn to_js(self) -> JsValue {
        JsValue::from_f64(self as f64)
    }
}

impl ToJs for f64 {
    fn to_js(self) -> JsValue {
        JsValue::from_f64(self)
    }
}

impl<T: ToJs> ToJs for Option<T> {
    fn to_js(self) -> JsValue {
        self.map_or(JsValue::NULL, ToJs::to_js)
    }
}
