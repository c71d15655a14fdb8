//! The persistent mode (`--serve`): one request per line on stdin,
//! {"cell": ID, "args": [...], "script": [...]}, each run to its end line
//! before the next is read; EOF on stdin ends the server (exit 0).
//!
//! Needs: the request lines; markers come in-band on the same stdin.
//! Gives: exactly the lines a per-process run prints, the end line with
//! "exit" and "cell". Never: shares library state between cells: every
//! cell builds its own rustls config, session store, session cache and
//! ticket keys (config::setup); only the loaded code is shared.
//!
//! Cells run in this process one after the other (no fork): rustls keeps no
//! global state, and a panic ends the server, which the harness reports for
//! that cell and then replaces the server.

use std::time::Instant;

use crate::args::{self, Mode, Parsed};
use crate::json::{self, Json};
use crate::markers::{LineReader, Markers};
use crate::output::{Exit, Out, EXIT_OK};
use crate::runner::{self, Script};

/// The request's parts, or a message for a request that cannot run.
fn decode(line: &str) -> (Option<String>, Result<(Vec<String>, Json), String>) {
    let req = match json::parse(line) {
        Ok(v @ Json::Obj(_)) => v,
        Ok(_) => return (None, Err("request: expected a JSON object".into())),
        Err(e) => return (None, Err(format!("request: {}", e))),
    };
    let cell = req.get("cell").and_then(|c| c.as_str()).map(String::from);
    if cell.is_none() {
        return (None, Err("request: field 'cell': a string is required".into()));
    }
    if let Json::Obj(fields) = &req {
        if let Some((k, _)) = fields.iter().find(|(k, _)| !["cell", "args", "script"].contains(&k.as_str())) {
            return (cell, Err(format!("request: unknown field '{}'", k)));
        }
    }
    let argv = match req.get("args") {
        Some(Json::Arr(items)) => items.iter().map(|a| a.as_str().map(String::from)).collect::<Option<Vec<_>>>(),
        _ => None,
    };
    let argv = match argv {
        Some(a) => a,
        None => return (cell, Err("request: field 'args': an array of strings is required".into())),
    };
    match req.get("script") {
        Some(script) => (cell, Ok((argv, script.clone()))),
        None => (cell, Err("request: field 'script' is required".into())),
    }
}

fn is_marker(line: &str) -> bool {
    json::parse(line).ok().map_or(false, |v| v.get("marker").is_some())
}

pub fn serve() -> i32 {
    let mut stdin = LineReader::new(0);
    loop {
        let line = match stdin.read_line(None) {
            Ok(Some(line)) => line,
            Ok(None) => return EXIT_OK,
            Err(e) => {
                eprintln!("shim: stdin: {:?}", e);
                return output::EXIT_FAILURE;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if is_marker(&line) {
            // A marker the previous cell's peer sent after that cell ended.
            eprintln!("shim: a marker line between cells, ignored: {}", line);
            continue;
        }
        let start = Instant::now();
        let (cell, request) = decode(&line);
        let out = Out { cell: Some(cell.unwrap_or_default()) };
        let (argv, script) = match request {
            Ok(r) => r,
            Err(m) => {
                out.end(&Err(Exit::usage(m)));
                continue;
            }
        };
        match args::parse(&argv, Mode::Cell) {
            Ok(Parsed::Run(a)) => {
                let markers = Markers::InBand { stdin: &mut stdin };
                runner::run(&a, Script::Inline(&script), &out, markers, start);
            }
            Ok(_) => {
                out.end(&Err(Exit::usage("--version and --serve are not cell arguments")));
            }
            Err(m) => {
                out.end(&Err(Exit::usage(m)));
            }
        }
    }
}

use crate::output;
