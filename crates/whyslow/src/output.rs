//! Writing profiles to the files a user asked for, and reading them back.
//!
//! Maps `-o` paths and `--format`/`--view` flags onto the `render` crate and
//! turns its errors into messages that name the file.

use anyhow::{bail, Context, Result};
use model::Profile;
use query::ValueView;
use render::Format;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

/// Chooses the value view: the flag if given (validated against the profile),
/// else the profile's natural default.
pub fn choose_view(profile: &Profile, flag: Option<&str>) -> Result<ValueView> {
    let Some(flag) = flag else {
        return Ok(ValueView::default_for(profile));
    };
    let view: ValueView = flag.parse().map_err(|_| {
        anyhow::anyhow!("unknown view '{flag}' (expected one of: cpu, off-cpu, wall, samples)")
    })?;
    let available = ValueView::available(profile);
    if !available.contains(&view) {
        let names: Vec<String> = available.iter().map(|v| v.to_string()).collect();
        bail!(
            "this profile has no '{view}' values (it has: {}){}",
            names.join(", "),
            if view == ValueView::OffCpu || view == ValueView::Wall {
                "; record with --off-cpu to get them"
            } else {
                ""
            }
        );
    }
    Ok(view)
}

/// The format for an output path: `--format` wins, else the extension.
pub fn format_for(path: &Path, flag: Option<&str>) -> Result<Format> {
    if let Some(flag) = flag {
        return flag.parse::<Format>().map_err(|e| anyhow::anyhow!("{e}"));
    }
    Format::from_path(path).with_context(|| {
        format!(
            "cannot tell the output format from '{}': use an extension (.html, .folded, .pb.gz, .speedscope.json, .perf-script) or --format",
            path.display()
        )
    })
}

/// Writes `profile` to `path` in `format`.
pub fn write_file(
    profile: &Profile,
    path: &Path,
    format: Format,
    view: ValueView,
    title: &str,
) -> Result<()> {
    let file =
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut out = BufWriter::new(file);
    render::write_profile(profile, format, view, title, &mut out)
        .with_context(|| format!("cannot write {} as {}", path.display(), format.name()))?;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Reads a profile from a file (or standard input for `-`), detecting its format
/// unless `format_flag` names it.
pub fn read_file(path: &Path, format_flag: Option<&str>) -> Result<Profile> {
    let bytes = if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .context("cannot read standard input")?;
        buf
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    let hint = match format_flag {
        Some(flag) => Some(flag.parse::<Format>().map_err(|e| anyhow::anyhow!("{e}"))?),
        None => None,
    };
    render::read_profile(&bytes, hint)
        .with_context(|| format!("cannot read profile {}", path.display()))
}

/// Human description of a format for the "wrote …" line.
pub fn describe(format: Format) -> &'static str {
    match format {
        Format::FlamegraphHtml => "interactive flamegraph",
        Format::Folded => "folded stacks",
        Format::Pprof => "pprof",
        Format::Speedscope => "speedscope",
        Format::PerfScript => "perf script text",
    }
}
