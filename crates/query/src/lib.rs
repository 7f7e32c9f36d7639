//! Analysis over the model: what views ask of the data.
//!
//! For profiles: which value to show (`view`), the call tree (`tree`), the top
//! functions (`top`) and the comparison of two profiles (`diff`). No I/O and no
//! rendering here.
