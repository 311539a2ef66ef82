//! The little CBOR (RFC 8949) the protocol needs: a reader of any well-formed item into a
//! borrowed [`Value`], and a writer of maps, text, byte strings, arrays and booleans.
//!
//! Written by hand instead of a general CBOR crate to keep the browser's wasm small. The
//! reader takes untrusted bytes: it never panics, never allocates more than the input's
//! length justifies (declared lengths are checked against the bytes left), and refuses
//! items nested deeper than [`MAX_DEPTH`]. Like the general decoder it replaced, it reads
//! one item and ignores any bytes after it; it accepts indefinite-length strings, arrays and
//! maps, unsigned integers, and tags, negative numbers and floats (kept as [`Value::Other`], not interpreted); it refuses
//! unassigned simple values.

/// How deeply arrays, maps and tags may nest (the general decoder's limit).
pub const MAX_DEPTH: usize = 256;

/// One CBOR item, borrowing its strings from the input.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// A text string (major type 3).
    Text(std::borrow::Cow<'a, str>),
    /// A byte string (major type 2).
    Bytes(std::borrow::Cow<'a, [u8]>),
    /// An array (major type 4).
    Array(Vec<Value<'a>>),
    /// A map (major type 5), entries in the order written.
    Map(Vec<(Value<'a>, Value<'a>)>),
    /// `true` or `false`.
    Bool(bool),
    /// `null` (and `undefined`).
    Null,
    /// An unsigned integer (major type 0).
    Unsigned(u64),
    /// A negative integer, a float or a tagged item: well-formed, not read.
    Other,
}

/// Why bytes are not one well-formed CBOR item (the text of `DecodeError::Cbor`).
pub type CborError = &'static str;

/// Reads one CBOR item from the start of `bytes`.
///
/// # Errors
/// A short description when the bytes end early, a string is not UTF-8, a length does not
/// fit, the nesting is too deep or a byte is not valid CBOR.
pub fn read(bytes: &[u8]) -> Result<Value<'_>, CborError> {
    Reader { bytes, at: 0 }.item(0)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// The break byte that ends an indefinite-length item.
const BREAK: u8 = 0xff;

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.bytes.get(self.at).ok_or("unexpected end of input")?;
        self.at += 1;
        Ok(b)
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8], CborError> {
        let left = self.bytes.len() - self.at;
        let len = usize::try_from(len)
            .ok()
            .filter(|len| *len <= left)
            .ok_or("unexpected end of input")?;
        let out = &self.bytes[self.at..self.at + len];
        self.at += len;
        Ok(out)
    }

    /// The argument of an initial byte's additional information; `None` for indefinite.
    fn argument(&mut self, info: u8) -> Result<Option<u64>, CborError> {
        let width = match info {
            0..=23 => return Ok(Some(u64::from(info))),
            24 => 1,
            25 => 2,
            26 => 4,
            27 => 8,
            31 => return Ok(None),
            _ => return Err("invalid additional information"),
        };
        Ok(Some(
            self.take(width)?
                .iter()
                .fold(0, |n, b| (n << 8) | u64::from(*b)),
        ))
    }

    fn at_break(&mut self) -> Result<bool, CborError> {
        if *self.bytes.get(self.at).ok_or("unexpected end of input")? == BREAK {
            self.at += 1;
            return Ok(true);
        }
        Ok(false)
    }

    /// A byte or text string's content: definite, or the chunks of an indefinite one.
    fn string(
        &mut self,
        major: u8,
        len: Option<u64>,
    ) -> Result<std::borrow::Cow<'a, [u8]>, CborError> {
        if let Some(len) = len {
            return Ok(self.take(len)?.into());
        }
        let mut joined = Vec::new();
        while !self.at_break()? {
            let initial = self.byte()?;
            let len = self.argument(initial & 0x1f)?;
            match (initial >> 5 == major, len) {
                (true, Some(len)) => joined.extend_from_slice(self.take(len)?),
                _ => return Err("invalid chunk in an indefinite-length string"),
            }
        }
        Ok(joined.into())
    }

    /// How many items an array or map holds (`None`: until a break), bounded by the input.
    fn count(&self, len: Option<u64>) -> Result<Option<usize>, CborError> {
        len.map(|len| {
            usize::try_from(len)
                .ok()
                .filter(|n| *n <= self.bytes.len() - self.at)
                .ok_or("unexpected end of input")
        })
        .transpose()
    }

    fn item(&mut self, depth: usize) -> Result<Value<'a>, CborError> {
        if depth > MAX_DEPTH {
            return Err("items nested too deeply");
        }
        let initial = self.byte()?;
        let (major, info) = (initial >> 5, initial & 0x1f);
        if major == 7 {
            return match info {
                20 => Ok(Value::Bool(false)),
                21 => Ok(Value::Bool(true)),
                22 | 23 => Ok(Value::Null),
                25..=27 => self.argument(info).map(|_| Value::Other),
                _ => Err("unexpected break or unassigned simple value"),
            };
        }
        let len = self.argument(info)?;
        match major {
            0 => len
                .map(Value::Unsigned)
                .ok_or("an integer of indefinite length"),
            1 if len.is_some() => Ok(Value::Other),
            2 => Ok(Value::Bytes(self.string(major, len)?)),
            3 => match self.string(major, len)? {
                std::borrow::Cow::Borrowed(b) => std::str::from_utf8(b)
                    .map(|s| Value::Text(s.into()))
                    .map_err(|_| "invalid utf-8 in a text string"),
                std::borrow::Cow::Owned(b) => String::from_utf8(b)
                    .map(|s| Value::Text(s.into()))
                    .map_err(|_| "invalid utf-8 in a text string"),
            },
            4 => {
                let mut items = Vec::new();
                match self.count(len)? {
                    Some(n) => {
                        for _ in 0..n {
                            items.push(self.item(depth + 1)?);
                        }
                    }
                    None => {
                        while !self.at_break()? {
                            items.push(self.item(depth + 1)?);
                        }
                    }
                }
                Ok(Value::Array(items))
            }
            5 => {
                let mut entries = Vec::new();
                match self.count(len)? {
                    Some(n) => {
                        for _ in 0..n {
                            entries.push((self.item(depth + 1)?, self.item(depth + 1)?));
                        }
                    }
                    None => {
                        while !self.at_break()? {
                            entries.push((self.item(depth + 1)?, self.item(depth + 1)?));
                        }
                    }
                }
                Ok(Value::Map(entries))
            }
            6 if len.is_some() => self.item(depth + 1).map(|_| Value::Other),
            _ => Err("indefinite length on a number or tag"),
        }
    }
}

/// Writes CBOR items into a byte vector (definite lengths, shortest arguments).
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    fn head(&mut self, major: u8, n: u64) -> &mut Self {
        let major = major << 5;
        match n {
            0..=23 => self.0.push(major | n as u8),
            24..=0xff => self.0.extend([major | 24, n as u8]),
            0x100..=0xffff => {
                self.0.push(major | 25);
                self.0.extend((n as u16).to_be_bytes());
            }
            0x1_0000..=0xffff_ffff => {
                self.0.push(major | 26);
                self.0.extend((n as u32).to_be_bytes());
            }
            _ => {
                self.0.push(major | 27);
                self.0.extend(n.to_be_bytes());
            }
        }
        self
    }

    /// A map of `entries` entries (each then written as a key and a value).
    pub fn map(&mut self, entries: usize) -> &mut Self {
        self.head(5, entries as u64)
    }

    /// An array of `items` items (each then written).
    pub fn array(&mut self, items: usize) -> &mut Self {
        self.head(4, items as u64)
    }

    /// A text string.
    pub fn text(&mut self, text: &str) -> &mut Self {
        self.head(3, text.len() as u64);
        self.0.extend_from_slice(text.as_bytes());
        self
    }

    /// A byte string.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.head(2, bytes.len() as u64);
        self.0.extend_from_slice(bytes);
        self
    }

    /// An unsigned integer.
    pub fn unsigned(&mut self, value: u64) -> &mut Self {
        self.head(0, value)
    }

    /// `true` or `false`.
    pub fn bool(&mut self, value: bool) -> &mut Self {
        self.0.push(if value { 0xf5 } else { 0xf4 });
        self
    }
}
