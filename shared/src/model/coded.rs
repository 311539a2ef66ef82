//! Closed sets of codes stored as strings in documents.
//!
//! Coded answers (`visitKind`, `notAloneReason`, `status`, ...) are stored as
//! short camelCase strings because the JavaScript client writes the same
//! documents. Each set becomes a Rust enum through [`coded_enum!`], which keeps
//! the variant and its stored code side by side so the two cannot drift apart.

/// A Rust enum whose values are stored in documents as fixed string codes.
pub trait Coded: Sized + Copy + 'static {
    /// Every value, in schema order.
    const ALL: &'static [Self];

    /// The code stored in the document, e.g. `"postComplaint"`.
    fn code(self) -> &'static str;

    /// The value for a stored code, or `None` when the code is not in the set.
    fn from_code(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|value| value.code() == code)
    }
}

/// Declares a documented enum together with the string code of each variant
/// and implements [`Coded`] for it.
macro_rules! coded_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $code:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
        }

        impl $crate::model::Coded for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];

            fn code(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)+
                }
            }
        }
    };
}

pub(crate) use coded_enum;
