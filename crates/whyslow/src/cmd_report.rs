//! `whyslow report`: read any profile file, print its top table, convert it.

use crate::cli::ReportArgs;
use crate::output;
use anyhow::Result;

/// Runs `whyslow report`.
pub fn run(args: ReportArgs) -> Result<()> {
    let profile = output::read_file(&args.input, args.input_format.as_deref())?;
    let view = output::choose_view(&profile, args.output.view.as_deref())?;
    let title = args
        .output
        .title
        .clone()
        .unwrap_or_else(|| args.input.display().to_string());
    for path in &args.output.outputs {
        let format = output::format_for(path, args.output.format.as_deref())?;
        output::write_file(&profile, path, format, view, &title)?;
        eprintln!(
            "whyslow: wrote {} ({})",
            path.display(),
            output::describe(format)
        );
    }
    if args.output.top > 0 {
        if profile.samples.is_empty() {
            eprintln!("whyslow: {} has no samples", args.input.display());
        } else {
            println!("{}", render::top_table(&profile, view, args.output.top));
        }
    }
    Ok(())
}
