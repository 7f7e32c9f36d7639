//! The serde shape of speedscope's file format (src/lib/file-format-spec.ts in
//! jlfwong/speedscope): the file, shared frames, sampled and evented profiles.
//! Conversion to and from the model is in `speedscope.rs`.

use serde::{Deserialize, Serialize};

/// A speedscope file; `W` is the number type of weights and positions
/// (integers when writing, floats when reading).
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct File<W> {
    #[serde(rename = "$schema", default)]
    pub(super) schema: String,
    #[serde(default = "Shared::default")]
    pub(super) shared: Shared,
    pub(super) profiles: Vec<SpeedscopeProfile<W>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) name: Option<String>,
    #[serde(
        rename = "activeProfileIndex",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub(super) active_profile_index: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) exporter: Option<String>,
}

/// Data shared by all profiles of a file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Shared {
    pub(super) frames: Vec<Frame>,
}

/// A frame: function name, optional file and (start) line.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Frame {
    pub(super) name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) line: Option<serde_json::Number>,
}

/// One profile: stacks with weights, or open/close events over time.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
pub(super) enum SpeedscopeProfile<W> {
    #[serde(rename = "sampled")]
    Sampled {
        #[serde(default)]
        name: String,
        #[serde(default = "unit_none")]
        unit: String,
        #[serde(rename = "startValue")]
        start_value: W,
        #[serde(rename = "endValue")]
        end_value: W,
        samples: Vec<Vec<usize>>,
        weights: Vec<W>,
    },
    #[serde(rename = "evented")]
    Evented {
        #[serde(default)]
        name: String,
        #[serde(default = "unit_none")]
        unit: String,
        #[serde(rename = "startValue")]
        start_value: W,
        #[serde(rename = "endValue")]
        end_value: W,
        events: Vec<Event<W>>,
    },
}

/// The unit speedscope assumes when none is given.
pub(super) fn unit_none() -> String {
    "none".to_string()
}

/// An open (`O`) or close (`C`) of a frame at time `at`.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Event<W> {
    #[serde(rename = "type")]
    pub(super) kind: String,
    pub(super) at: W,
    pub(super) frame: usize,
}
