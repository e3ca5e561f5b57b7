//! `vandar completion` (clap_complete) and `vandar man` (clap_mangen).

use std::path::Path;

use clap::CommandFactory as _;

use crate::cli::Cli;
use crate::error::CliError;
use crate::output;

/// Print the completion script of `shell` on stdout.
pub fn completion(shell: clap_complete::Shell) -> Result<(), CliError> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "vandar", &mut buf);
    output::print(&String::from_utf8_lossy(&buf))?;
    Ok(())
}

/// Print the man page of `vandar` on stdout, or write `vandar.1` and one
/// `vandar-<command>[-<sub>].1` per subcommand into `out`.
pub fn man(out: Option<&Path>) -> Result<(), CliError> {
    let cmd = Cli::command();
    match out {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut buf)?;
            output::print(&String::from_utf8_lossy(&buf))?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| CliError::usage(format!("--out {}: {e}", dir.display())))?;
            let mut written = 0usize;
            write_pages(&cmd, "vandar", dir, &mut written)?;
            eprintln!("wrote {written} man pages to {}", dir.display());
        }
    }
    Ok(())
}

fn write_pages(
    cmd: &clap::Command,
    name: &str,
    dir: &Path,
    written: &mut usize,
) -> Result<(), CliError> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(name.to_uppercase())
        .render(&mut buf)?;
    std::fs::write(dir.join(format!("{name}.1")), buf)?;
    *written += 1;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir, written)?;
    }
    Ok(())
}
