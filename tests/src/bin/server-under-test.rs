//! The real `doorstep-server` command line, built inside the tests package so that
//! end-to-end tests can start it as a separate process (and kill it) through
//! `CARGO_BIN_EXE_server-under-test`.

fn main() -> std::process::ExitCode {
    server::cli::main()
}
