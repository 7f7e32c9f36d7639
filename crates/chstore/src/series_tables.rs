//! The series tables (not yet defined).

use crate::schema::Table;

pub(crate) const TABLES: &[&Table] = &[];
