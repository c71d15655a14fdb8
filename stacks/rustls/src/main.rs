//! tlsclose shim for rustls 0.20 (docs/shim-protocol.md), in Rust, from
//! Debian's packaged crates only (rustls, libc).
//!
//! Needs: the harness's arguments (or `--serve`, the persistent mode).
//! Gives: the hello line, one JSON line per step, the end line and the exit
//! codes of the shim protocol (0, 2, 3, 4, 77), in the order §6 fixes.
//! Never: verifies certificates, shares library state between runs, leaves
//! a socket without its graceful close.
//!
//! README.md beside this file maps the protocol onto rustls.

mod args;
mod config;
mod conn;
mod json;
mod markers;
mod memio;
mod outcome;
mod output;
mod pem;
mod runner;
mod script;
mod serve;
mod transport;

use std::time::Instant;

use args::{Mode, Parsed};
use markers::Markers;
use output::{Exit, Out};

fn main() {
    let start = Instant::now();
    let argv: Vec<String> = std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let code = match args::parse(&argv, Mode::Process) {
        Ok(Parsed::Version) => {
            Out::version(true);
            output::EXIT_OK
        }
        Ok(Parsed::Serve) => serve::serve(),
        Ok(Parsed::Run(a)) => {
            let out = Out { cell: None };
            let markers = Markers::pipes(a.marker_in, a.marker_out);
            let path = a.script.clone().unwrap_or_default();
            runner::run(&a, runner::Script::File(&path), &out, markers, start)
        }
        Err(message) => Out { cell: None }.end(&Err(Exit::usage(message))),
    };
    std::process::exit(code);
}
