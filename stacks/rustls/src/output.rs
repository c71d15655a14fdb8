//! What the shim prints (docs/shim-protocol.md §3, §6): one JSON object per
//! line on stdout, written and flushed at once, and the exit codes.
//!
//! Needs: nothing but stdout. Gives: the hello, step, marker and end lines
//! (the end line carries "exit" and "cell" in the persistent mode).
//! Never: writes anything but JSON lines to stdout, or panics when stdout is
//! gone (the harness may have stopped reading).

use std::io::Write;

use crate::json::{n, s, Json, ObjBuilder};

pub const EXIT_OK: i32 = 0;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_TIMEOUT: i32 = 3;
pub const EXIT_FAILURE: i32 = 4;
pub const EXIT_SKIP: i32 = 77;

pub const SHIM: &str = "rustls";
pub const LIBRARY: &str = "rustls 0.20.8";
pub const API: &str = "native";
const MAX_WANTS: usize = 64;

pub fn emit(line: &Json) {
    let mut text = line.to_line();
    text.push('\n');
    let out = std::io::stdout();
    let mut lock = out.lock();
    let _ = lock.write_all(text.as_bytes());
    let _ = lock.flush();
}

/// How a run ends early: the exit code, the step to blame (0: the run as a
/// whole) and the message.
#[derive(Debug)]
pub struct Exit {
    pub code: i32,
    pub step: usize,
    pub message: String,
}

impl Exit {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Exit { code, step: 0, message: message.into() }
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Exit::new(EXIT_USAGE, message)
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Exit::new(EXIT_FAILURE, message)
    }
    pub fn skip(step: usize, message: impl Into<String>) -> Self {
        Exit { code: EXIT_SKIP, step, message: message.into() }
    }
    pub fn at(mut self, step: usize) -> Self {
        self.step = step;
        self
    }
}

/// The native view of the last library call: `ret` the count a reader or
/// writer call returned (null for calls that return no count), `error` the
/// rustls error or io::ErrorKind by name ("" on success), `queue` their
/// texts, `errno` the system error inside an io::Error.
#[derive(Clone, Debug, Default)]
pub struct Native {
    pub ret: Option<i64>,
    pub error: String,
    pub queue: Vec<String>,
    pub errno: i32,
}

impl Native {
    fn to_json(&self) -> Json {
        ObjBuilder::new()
            .add("ret", self.ret.map(n).unwrap_or(Json::Null))
            .add("error", s(&self.error))
            .add("queue", Json::Arr(self.queue.iter().take(4).map(|q| s(q)).collect()))
            .add("errno", n(self.errno as i64))
            .build()
    }
}

#[derive(Clone, Debug, Default)]
pub struct Report {
    pub step: usize,
    pub op: &'static str,
    pub outcome: String,
    pub wants: Vec<&'static str>,
    pub wants_dropped: usize,
    pub calls: usize,
    pub native: Option<Native>,
    pub bytes: usize,
    pub ms: f64,
    pub reused: Option<bool>,
    pub resumable: Option<bool>,
    pub got: Option<Vec<u8>>,
    pub drained: Option<usize>,
    pub read_past: Vec<String>,
    /// Memory mode: "reset" once the runner met a reset on the socket.
    pub transport: Option<&'static str>,
}

impl Report {
    pub fn new(step: usize, op: &'static str) -> Self {
        Report { step, op, ..Report::default() }
    }

    pub fn add_want(&mut self, want: &'static str) {
        if self.wants.len() < MAX_WANTS {
            self.wants.push(want);
        } else {
            self.wants_dropped += 1;
        }
    }

    /// rustls keeps no shutdown flags the application can read (no
    /// SSL_get_shutdown): "flags" is always null.
    pub fn to_json(&self) -> Json {
        let mut o = ObjBuilder::new()
            .add("step", n(self.step as i64))
            .add("op", s(self.op))
            .add("outcome", s(&self.outcome))
            .add("wants", Json::Arr(self.wants.iter().map(|w| s(w)).collect()));
        if self.wants_dropped > 0 {
            o.push("wants_dropped", n(self.wants_dropped as i64));
        }
        o.push("calls", n(self.calls as i64));
        o.push("native", self.native.as_ref().map(Native::to_json).unwrap_or(Json::Null));
        o.push("flags", Json::Null);
        o.push("bytes", n(self.bytes as i64));
        o.push("ms", Json::Fixed(format!("{:.2}", self.ms)));
        if let Some(r) = self.reused {
            o.push("reused", Json::Bool(r));
        }
        if let Some(r) = self.resumable {
            o.push("resumable", Json::Bool(r));
        }
        if let Some(g) = &self.got {
            o.push("got", s(&String::from_utf8_lossy(g)));
        }
        if let Some(d) = self.drained {
            o.push("drained", n(d as i64));
        }
        if let Some(t) = self.transport {
            o.push("transport", s(t));
        }
        if !self.read_past.is_empty() {
            o.push("read_past", Json::Arr(self.read_past.iter().map(|r| s(r)).collect()));
        }
        o.build()
    }
}

/// The lines of one run; `cell` is Some in the persistent mode.
pub struct Out {
    pub cell: Option<String>,
}

impl Out {
    pub fn version(serve: bool) {
        let mut o = ObjBuilder::new().add("shim", s(SHIM)).add("library", s(LIBRARY)).add("api", s(API));
        if serve {
            o.push("serve", Json::Bool(true));
        }
        emit(&o.build());
    }

    pub fn hello(&self, role: &str, tls: &str, io: &str) {
        emit(&ObjBuilder::new()
            .add("shim", s(SHIM)).add("library", s(LIBRARY)).add("api", s(API))
            .add("role", s(role)).add("tls", s(tls)).add("io", s(io))
            .build());
    }

    pub fn step(&self, rep: &Report) {
        emit(&rep.to_json());
    }

    pub fn marker(&self, name: &str) {
        emit(&ObjBuilder::new().add("marker", s(name)).build());
    }

    /// The end line; returns the exit code of the run.
    pub fn end(&self, result: &Result<(), Exit>) -> i32 {
        let mut o = ObjBuilder::new();
        let code = match result {
            Ok(()) => {
                o.push("end", s("ok"));
                EXIT_OK
            }
            Err(e) => {
                let kind = match e.code {
                    EXIT_TIMEOUT => "timeout",
                    EXIT_SKIP => "skip",
                    _ => "error",
                };
                eprintln!("shim: {}", e.message);
                o.push("end", s(kind));
                if e.step > 0 || e.code == EXIT_SKIP {
                    o.push("step", n(e.step as i64));
                }
                o.push("message", s(&e.message));
                e.code
            }
        };
        if let Some(cell) = &self.cell {
            o.push("exit", n(code as i64));
            o.push("cell", s(cell));
        }
        emit(&o.build());
        code
    }
}
