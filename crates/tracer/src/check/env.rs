//! What the checker may ask about the machine: the fields of a tracepoint.
//!
//! The front end stays pure (no tracefs reads); the command passes an
//! [`Environment`] that reads `<tracefs>/events/CAT/NAME/format`. Without
//! one ([`NoEnvironment`]) every `args.NAME` is taken as a 64-bit integer.

use crate::types::Type;

/// Answer to "what is `args.FIELD` of tracepoint CATEGORY:EVENT?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FieldLookup {
    /// No information (offline checking): assume an unsigned 64-bit integer.
    Unknown,
    /// The tracepoint exists and has no such field; lists the fields it has.
    Missing {
        /// Field names of the tracepoint, in format order.
        available: Vec<String>,
    },
    /// The field's type (`char[N]` arrays are `Str { size: N }`).
    Found(Type),
}

/// Facts about the machine the program will run on.
pub trait Environment {
    /// The type of `args.FIELD` for `category:event` (no wildcards: the
    /// checker asks for the first attach point as written).
    fn tracepoint_field(&self, category: &str, event: &str, field: &str) -> FieldLookup;
}

/// An environment that knows nothing (every tracepoint field is an integer).
#[derive(Clone, Copy, Debug, Default)]
pub struct NoEnvironment;

impl Environment for NoEnvironment {
    fn tracepoint_field(&self, _category: &str, _event: &str, _field: &str) -> FieldLookup {
        FieldLookup::Unknown
    }
}
