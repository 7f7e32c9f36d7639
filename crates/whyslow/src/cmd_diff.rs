//! `whyslow diff`: differential flamegraph and table of changes between two profiles.

use crate::cli::DiffArgs;
use crate::output;
use anyhow::{Context, Result};
use std::io::{BufWriter, Write};

/// Runs `whyslow diff`.
pub fn run(args: DiffArgs) -> Result<()> {
    let before = output::read_file(&args.before, None)?;
    let after = output::read_file(&args.after, None)?;
    let view = match args.view.as_deref() {
        Some(flag) => {
            output::choose_view(&before, Some(flag))?;
            output::choose_view(&after, Some(flag))?
        }
        None => output::choose_view(&after, None)?,
    };
    let title = format!("{} → {}", args.before.display(), args.after.display());
    let file = std::fs::File::create(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let mut out = BufWriter::new(file);
    render::diff_html::write(&before, &after, view, &title, &mut out)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    out.flush()
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    eprintln!(
        "whyslow: wrote {} (differential flamegraph: red = grew, blue = shrank)",
        args.output.display()
    );
    if args.top > 0 {
        println!("{}", render::changes_table(&before, &after, view, args.top));
    }
    Ok(())
}
