//! The `doorstep-server` binary; everything lives in [`server::cli`].

fn main() -> std::process::ExitCode {
    server::cli::main()
}
