//! Reading Pyroscope's flamebearer JSON (what `/pyroscope/render` answers)
//! in the profile end-to-end tests.
#![allow(clippy::unwrap_used, dead_code)]

use std::collections::BTreeMap;

/// Every node as `(function name, total, self)`, from the flamebearer's
/// levels (`[x_delta, total, self, name index]` per node).
pub fn nodes(flamebearer: &serde_json::Value) -> Vec<(String, i64, i64)> {
    let names: Vec<&str> = flamebearer["names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    let mut out = Vec::new();
    for level in flamebearer["levels"].as_array().unwrap() {
        let level: Vec<i64> = level
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect();
        for node in level.chunks(4) {
            out.push((names[node[3] as usize].to_string(), node[1], node[2]));
        }
    }
    out
}

/// Per function name the summed total of its nodes, and the whole's ticks.
pub fn totals(flamebearer: &serde_json::Value) -> (BTreeMap<String, i64>, i64) {
    let mut out = BTreeMap::new();
    for (name, total, _) in nodes(flamebearer) {
        *out.entry(name).or_default() += total;
    }
    (out, flamebearer["numTicks"].as_i64().unwrap())
}
