//! The `vandar` binary: see the `vandar_cli` library.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    vandar_cli::main_entry()
}
