//! The checker's [`Environment`] on a real machine: tracepoint fields from
//! `<tracefs>/events/CAT/NAME/format`. `char NAME[N]` is a `string[N]`,
//! `__data_loc char[]` a `string[64]`, every other field (pointers
//! included: read them with `str()`) a 64-bit integer of its signedness.

use crate::check::{Environment, FieldLookup};
use crate::types::{Type, STR_SIZE};
use bpf::tracefs::{Field, Tracefs};

/// Answers field questions from tracefs.
pub struct TracefsEnvironment<'a> {
    tracefs: &'a Tracefs,
}

impl<'a> TracefsEnvironment<'a> {
    /// Reads formats under `tracefs`.
    pub fn new(tracefs: &'a Tracefs) -> Self {
        Self { tracefs }
    }
}

/// The language type of a tracepoint field.
pub fn field_type(field: &Field) -> Type {
    let is_char = field.type_name.trim_start_matches("const ").trim() == "char"
        || field.type_name.ends_with("char[]");
    if field.data_loc && is_char {
        Type::Str { size: STR_SIZE }
    } else if field.array_len.is_some() && is_char {
        Type::Str {
            size: field.size as usize,
        }
    } else {
        Type::Int {
            signed: field.signed,
        }
    }
}

impl Environment for TracefsEnvironment<'_> {
    fn tracepoint_field(&self, category: &str, event: &str, field: &str) -> FieldLookup {
        // With wildcards, the first match stands for all.
        let Ok(found) = self.tracefs.tracepoints(&format!("{category}:{event}")) else {
            return FieldLookup::Unknown;
        };
        let Some(first) = found.first() else {
            return FieldLookup::Unknown;
        };
        let Ok(fields) = self.tracefs.tracepoint_fields(&first.category, &first.name) else {
            return FieldLookup::Unknown;
        };
        let fields: Vec<&Field> = fields.iter().filter(|f| !f.is_common()).collect();
        match fields.iter().find(|f| f.name == field) {
            Some(f) => FieldLookup::Found(field_type(f)),
            None => FieldLookup::Missing {
                available: fields.iter().map(|f| f.name.clone()).collect(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn char_arrays_and_data_loc_are_strings() {
        let fields = bpf::tracefs::parse_format(
            "format:\n\tfield:unsigned short common_type;\toffset:0;\tsize:2;\tsigned:0;\n\n\
             \tfield:char prev_comm[16];\toffset:8;\tsize:16;\tsigned:0;\n\
             \tfield:__data_loc char[] name;\toffset:24;\tsize:4;\tsigned:0;\n\
             \tfield:const char * filename;\toffset:32;\tsize:8;\tsigned:0;\n\
             \tfield:int prio;\toffset:40;\tsize:4;\tsigned:1;\n",
        )
        .expect("format");
        let types: Vec<Type> = fields.iter().skip(1).map(field_type).collect();
        assert_eq!(
            types,
            vec![
                Type::Str { size: 16 },
                Type::Str { size: 64 },
                Type::UINT,
                Type::INT
            ]
        );
    }
}
