//! The differential flamegraph page: the merged call tree of two profiles
//! (`query::diff_tree`) in AFTER's shape, each frame red where its share of
//! self time grew and blue where it shrank (intensity ∝ the change, full at the
//! largest one or 10 points), before/after/delta in the tooltip, and a table of
//! the top changes (`query::top_changes`). Shares `flamegraph_html`'s engine.
//! Not a page `read` can load a profile from: it embeds the comparison only.

use crate::error::RenderError;
use crate::flamegraph_html::page::{self, escape_html, PageKind};
use model::Profile;
use query::{diff_tree, top_changes, ChangeRow, DiffTree, ValueView};
use serde::Serialize;
use std::collections::HashMap;
use std::io::{BufWriter, Write};

/// Script that turns the embedded comparison into trees for the engine.
const PAGE_JS: &str = include_str!("../assets/diff_page.js");
/// Id of the JSON data island of a comparison.
pub(crate) const DATA_ID: &str = "whyslow-diff";
/// `format` field of an embedded comparison.
const FORMAT: &str = "whyslow-diff";
/// Rows of the table of top changes.
const TOP_ROWS: usize = 30;
/// Change in percentage points below which no bar of the table is full.
const FULL_BAR_POINTS: f64 = 10.0;

/// Everything the differential page embeds.
#[derive(Serialize)]
struct DiffData<'a> {
    /// Always [`FORMAT`].
    format: &'static str,
    /// Version of this layout.
    version: u32,
    /// Title shown in the header.
    title: &'a str,
    /// `--view` spelling of the compared values.
    view: &'static str,
    /// Unit of the compared values.
    unit: &'a str,
    /// Notes of the before profile.
    before_comments: &'a [String],
    /// Notes of the after profile.
    after_comments: &'a [String],
    /// Frame names.
    strings: Vec<&'a str>,
    /// Distance back to each node's parent (`node - parent`), 0 for the root (node 0).
    node_parent_delta: Vec<u32>,
    /// Name of each node (index into `strings`).
    node_name: Vec<u32>,
    /// Value ending at each node in the before profile.
    before_self: Vec<i64>,
    /// Value ending at each node in the after profile.
    after_self: Vec<i64>,
}

/// The embedded form of `tree`.
fn encode<'a>(
    tree: &'a DiffTree,
    before: &'a Profile,
    after: &'a Profile,
    view: ValueView,
    title: &'a str,
) -> DiffData<'a> {
    let count = tree.nodes.len();
    let mut parent_delta = vec![0u32; count];
    for (id, node) in tree.nodes.iter().enumerate() {
        for &child in &node.children {
            // query::diff_tree numbers children after their parent.
            if let Some(delta) = parent_delta.get_mut(child) {
                *delta = child.saturating_sub(id) as u32;
            }
        }
    }
    let mut strings: Vec<&str> = Vec::new();
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let node_name = tree
        .nodes
        .iter()
        .map(|n| {
            *ids.entry(n.name.as_str()).or_insert_with(|| {
                strings.push(n.name.as_str());
                (strings.len() - 1) as u32
            })
        })
        .collect();
    let unit = if view.extractor(after).is_available() {
        view.unit(after)
    } else {
        view.unit(before)
    };
    DiffData {
        format: FORMAT,
        version: 1,
        title,
        view: view.name(),
        unit,
        before_comments: &before.comments,
        after_comments: &after.comments,
        strings,
        node_parent_delta: parent_delta,
        node_name,
        before_self: tree.nodes.iter().map(|n| n.before_self).collect(),
        after_self: tree.nodes.iter().map(|n| n.after_self).collect(),
    }
}

/// Writes the table of the functions whose share of self time changed most.
fn write_changes(out: &mut dyn Write, rows: &[ChangeRow]) -> std::io::Result<()> {
    writeln!(
        out,
        "<section id=\"wf-changes\" class=\"wf-changes\">\n<h2>Top changes in self time</h2>\n\
         <p>Each function's own time as a share of its profile's total, before and after \
         (change in percentage points). Click a row to find the function in the flamegraph.</p>"
    )?;
    let changed: Vec<&ChangeRow> = rows
        .iter()
        .filter(|r| r.delta_points.abs() >= 0.005)
        .take(TOP_ROWS)
        .collect();
    if changed.is_empty() {
        return writeln!(
            out,
            "<p>No function's share of self time changed.</p>\n</section>"
        );
    }
    // Bars are full at the largest change or 10 points, as the flamegraph's colours.
    let largest = changed
        .iter()
        .map(|r| r.delta_points.abs())
        .fold(FULL_BAR_POINTS, f64::max);
    writeln!(
        out,
        "<table>\n<thead><tr><th>Function</th><th class=\"num\">Before</th>\
         <th class=\"num\">After</th><th class=\"num\">Change</th><th></th></tr></thead>\n<tbody>"
    )?;
    for row in changed {
        let direction = if row.delta_points > 0.0 { "up" } else { "down" };
        let name = escape_html(&row.name);
        writeln!(
            out,
            "<tr data-name=\"{name}\"><td class=\"fn\">{name}</td>\
             <td class=\"num\">{:.1}%</td><td class=\"num\">{:.1}%</td>\
             <td class=\"num {direction}\">{:+.1} pts</td>\
             <td class=\"bar\"><span class=\"{direction}\" style=\"width:{:.1}%\"></span></td></tr>",
            row.before_percent,
            row.after_percent,
            row.delta_points,
            100.0 * row.delta_points.abs() / largest
        )?;
    }
    writeln!(out, "</tbody>\n</table>\n</section>")
}

/// Writes the differential flamegraph page comparing `before` with `after`
/// under `view`, titled `title`.
pub fn write(
    before: &Profile,
    after: &Profile,
    view: ValueView,
    title: &str,
    out: &mut dyn Write,
) -> Result<(), RenderError> {
    let tree = diff_tree(before, after, view);
    let data = encode(&tree, before, after, view, title);
    let mut out = BufWriter::with_capacity(1 << 16, out);
    page::write_head(&mut out, PageKind::Diff, title)?;
    write_changes(&mut out, &top_changes(before, after, view))?;
    page::write_json_island(&mut out, DATA_ID, &data)?;
    page::write_tail(&mut out, PAGE_JS)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests may panic

    use super::*;
    use model::{FrameKind, ProfileBuilder, Sample, SampleLabels, ValueType};

    /// A CPU profile from `(stack root first, nanoseconds)` pairs.
    fn profile_of(stacks: &[(&[&str], i64)]) -> Profile {
        let mut b = ProfileBuilder::new(vec![ValueType::new("cpu", "nanoseconds")]);
        for (stack, value) in stacks {
            let locations = stack
                .iter()
                .rev()
                .map(|n| b.named_location(n, "", 0, FrameKind::User))
                .collect();
            b.add_sample(Sample {
                locations,
                values: vec![*value],
                labels: SampleLabels::default(),
            });
        }
        b.finish()
    }

    fn page(before: &Profile, after: &Profile) -> String {
        let mut out = Vec::new();
        write(before, after, ValueView::Cpu, "a → b", &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn island(page: &str) -> serde_json::Value {
        let tag = "<script type=\"application/json\" id=\"whyslow-diff\">";
        let start = page.find(tag).unwrap() + tag.len();
        let len = page[start..].find("</script>").unwrap();
        serde_json::from_str(&page[start..start + len]).unwrap()
    }

    #[test]
    fn embeds_the_merged_tree_with_both_sides() {
        let before = profile_of(&[(&["main", "hot_a"], 70), (&["main", "hot_b"], 30)]);
        let after = profile_of(&[(&["main", "hot_a"], 20), (&["main", "hot_c"], 180)]);
        let data = island(&page(&before, &after));
        assert_eq!(data["format"], "whyslow-diff");
        assert_eq!(data["unit"], "nanoseconds");
        let names: Vec<&str> = data["node_name"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                data["strings"][i.as_u64().unwrap() as usize]
                    .as_str()
                    .unwrap()
            })
            .collect();
        let at = |name: &str| names.iter().position(|n| *n == name).unwrap();
        assert_eq!(names[0], "all");
        assert_eq!(data["before_self"][at("hot_b")], 30);
        assert_eq!(data["after_self"][at("hot_b")], 0);
        assert_eq!(data["after_self"][at("hot_c")], 180);
        // Every node's parent comes before it; main hangs off the root.
        let deltas = data["node_parent_delta"].as_array().unwrap();
        assert_eq!(deltas[0], 0);
        assert_eq!(deltas[at("main")].as_u64().unwrap() as usize, at("main"));
        for (i, d) in deltas.iter().enumerate().skip(1) {
            let d = d.as_u64().unwrap() as usize;
            assert!(d >= 1 && d <= i);
        }
    }

    #[test]
    fn table_lists_biggest_changes_first() {
        let before = profile_of(&[(&["main", "hot_a"], 70), (&["main", "hot_b"], 30)]);
        let after = profile_of(&[(&["main", "hot_a"], 40), (&["main", "hot_b"], 60)]);
        let page = page(&before, &after);
        let a = page.find("<tr data-name=\"hot_a\">").unwrap();
        let b = page.find("<tr data-name=\"hot_b\">").unwrap();
        assert!(a < b);
        assert!(page.contains("<td class=\"num down\">-30.0 pts</td>"));
        assert!(page.contains("<td class=\"num up\">+30.0 pts</td>"));
        assert!(
            !page.contains("data-name=\"main\""),
            "unchanged rows are left out"
        );
    }

    #[test]
    fn names_are_escaped_in_table_and_data() {
        let evil = "<b>x</b></script>";
        let before = profile_of(&[(&[evil], 1)]);
        let after = profile_of(&[(&[evil], 1), (&["other"], 1)]);
        let page = page(&before, &after);
        assert!(page.contains("data-name=\"&lt;b&gt;x&lt;/b&gt;&lt;/script&gt;\""));
        assert_eq!(page.matches("</script>").count(), 4);
        assert_eq!(island(&page)["strings"][1], evil);
    }

    #[test]
    fn identical_profiles_say_nothing_changed() {
        let p = profile_of(&[(&["main"], 5)]);
        assert!(page(&p, &p).contains("No function's share of self time changed."));
    }

    #[test]
    fn flamegraph_reader_refuses_a_diff_page() {
        let p = profile_of(&[(&["main"], 5)]);
        let err = crate::flamegraph_html::read(&page(&p, &p)).unwrap_err();
        assert!(err.to_string().contains("differential"), "{err}");
    }

    #[test]
    fn page_script_cannot_close_its_element_early() {
        assert!(!PAGE_JS.to_ascii_lowercase().contains("</script"));
    }
}
