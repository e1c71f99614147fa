//! `wayfinder`: runs the system (all services in one process, or one service)
//! and talks to a running one. See `wayfinder --help`.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = wayfinder::cli::Cli::parse();
    match wayfinder::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
