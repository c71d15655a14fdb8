//! The step script (docs/shim-protocol.md §2), read and checked whole.
//!
//! Needs: the parsed JSON array (from the --script file or a request).
//! Gives: `decode`, the steps or a usage message (exit 2) naming the step
//! and the field, in the C runner's words, before any byte is exchanged.
//! Never: decides what rustls can do (runner::check_capabilities does).

use crate::json::Json;

pub const MAX_STEP_BYTES: i64 = 64 * 1024 * 1024;
const MAX_TIMEOUT_MS: i64 = 3600000;
const DEFAULT_TIMEOUT_MS: u64 = 5000;
const MARKER_MAX: usize = 63;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Handshake,
    Write,
    Read,
    Shutdown,
    ShutdownQuiet,
    ShutdownFull,
    GetShutdown,
    GetErrorAfter,
    KeyUpdate,
    CloseTransport,
    FreeWithoutShutdown,
    SessionResumable,
    Resume,
    SignalPeer,
    WaitPeer,
    PlaintextWrite,
    PlaintextRead,
    SetOption,
    Clear,
}

/// Each op: its name, its fields besides op and timeout_ms, and whether it
/// calls the library.
const OPS: &[(Op, &str, &[&str], bool)] = &[
    (Op::Handshake, "handshake", &["nowait"], true),
    (Op::Write, "write", &["bytes", "nowait", "until_blocked"], true),
    (Op::Read, "read", &["bytes", "until", "nowait"], true),
    (Op::Shutdown, "shutdown", &["nowait"], true),
    (Op::ShutdownQuiet, "shutdown_quiet", &[], true),
    (Op::ShutdownFull, "shutdown_full", &["nowait"], true),
    (Op::GetShutdown, "get_shutdown", &[], false),
    (Op::GetErrorAfter, "get_error_after", &[], false),
    (Op::KeyUpdate, "keyupdate", &["request_peer"], true),
    (Op::CloseTransport, "close_transport", &[], false),
    (Op::FreeWithoutShutdown, "free_without_shutdown", &[], false),
    (Op::SessionResumable, "session_resumable", &[], false),
    (Op::Resume, "resume", &[], false),
    (Op::SignalPeer, "signal_peer", &["marker"], false),
    (Op::WaitPeer, "wait_peer", &["marker"], false),
    (Op::PlaintextWrite, "plaintext_write", &["text"], false),
    (Op::PlaintextRead, "plaintext_read", &["text"], false),
    (Op::SetOption, "set_option", &["option", "scope"], false),
    (Op::Clear, "clear", &[], false),
];

const OPTIONS: &[&str] = &["ignore_unexpected_eof", "post_handshake_auth", "quiet_shutdown"];
const SCOPES: &[&str] = &["connection", "context"];

impl Op {
    pub fn name(self) -> &'static str {
        OPS.iter().find(|e| e.0 == self).map(|e| e.1).unwrap_or("?")
    }
    pub fn calls_library(self) -> bool {
        OPS.iter().any(|e| e.0 == self && e.3)
    }
    fn fields(self) -> &'static [&'static str] {
        OPS.iter().find(|e| e.0 == self).map(|e| e.2).unwrap_or(&[])
    }
}

impl Step {
    fn needs_session(&self) -> bool {
        self.op.calls_library()
            || matches!(self.op, Op::GetShutdown | Op::GetErrorAfter | Op::SessionResumable
                                 | Op::FreeWithoutShutdown | Op::Clear)
            || (self.op == Op::SetOption && self.scope == "connection")
    }
}

#[derive(Clone, Debug)]
pub struct Step {
    pub index: usize, // 1-based
    pub op: Op,
    pub timeout_ms: u64,
    pub nowait: bool,
    pub bytes: Option<usize>,
    pub until_close: bool,
    pub until_blocked: bool,
    pub request_peer: bool,
    pub marker: String,
    pub text: String,
    pub option: String,
    pub scope: String,
}

impl Step {
    pub fn where_(&self) -> String {
        format!("step {} ({})", self.index, self.op.name())
    }
}

fn int_field(v: &Json, w: &str, f: &str, min: i64, max: i64) -> Result<i64, String> {
    let n = v.as_int().ok_or_else(|| format!("{}: field '{}': expected an integer", w, f))?;
    if n < min || n > max {
        return Err(format!("{}: field '{}': {} is outside {}..{}", w, f, n, min, max));
    }
    Ok(n)
}

fn bool_field(v: &Json, w: &str, f: &str) -> Result<bool, String> {
    match v {
        Json::Bool(b) => Ok(*b),
        _ => Err(format!("{}: field '{}': expected true or false", w, f)),
    }
}

fn str_field<'a>(v: &'a Json, w: &str, f: &str) -> Result<&'a str, String> {
    v.as_str().ok_or_else(|| format!("{}: field '{}': expected a string", w, f))
}

fn set_field(st: &mut Step, w: &str, f: &str, v: &Json) -> Result<(), String> {
    match f {
        "timeout_ms" => st.timeout_ms = int_field(v, w, f, 1, MAX_TIMEOUT_MS)? as u64,
        "nowait" => st.nowait = bool_field(v, w, f)?,
        "until_blocked" => st.until_blocked = bool_field(v, w, f)?,
        "request_peer" => st.request_peer = bool_field(v, w, f)?,
        "bytes" => {
            let min = if st.op == Op::Read { 1 } else { 0 };
            st.bytes = Some(int_field(v, w, f, min, MAX_STEP_BYTES)? as usize);
        }
        "until" => {
            let until = str_field(v, w, f)?;
            if until != "close" {
                return Err(format!("{}: field 'until': only \"close\" is defined, got \"{}\"",
                                   w, until));
            }
            st.until_close = true;
        }
        "marker" => st.marker = str_field(v, w, f)?.to_string(),
        "text" => st.text = str_field(v, w, f)?.to_string(),
        "option" | "scope" => {
            let value = str_field(v, w, f)?;
            let allowed = if f == "option" { OPTIONS } else { SCOPES };
            if !allowed.contains(&value) {
                return Err(format!("{}: field '{}': expected {}, got \"{}\"", w, f,
                                   allowed.join(" or "), value));
            }
            if f == "option" {
                st.option = value.to_string();
            } else {
                st.scope = value.to_string();
            }
        }
        _ => return Err(format!("{}: unknown field '{}'", w, f)),
    }
    Ok(())
}

fn check_combinations(st: &Step, has: &dyn Fn(&str) -> bool) -> Result<(), String> {
    let w = st.where_();
    match st.op {
        Op::Write if st.bytes.is_none() => Err(format!("{}: field 'bytes' is required", w)),
        Op::Write if st.until_blocked && st.bytes == Some(0) => {
            Err(format!("{}: 'until_blocked' needs 'bytes' of at least 1", w))
        }
        Op::Write if st.until_blocked && st.nowait => {
            Err(format!("{}: 'until_blocked' and 'nowait' exclude each other", w))
        }
        Op::Read if st.until_close && st.bytes.is_some() => {
            Err(format!("{}: 'bytes' and 'until' exclude each other", w))
        }
        Op::Read if st.until_close && st.nowait => {
            Err(format!("{}: 'until' and 'nowait' exclude each other", w))
        }
        Op::SignalPeer | Op::WaitPeer
            if !has("marker") || st.marker.is_empty() || st.marker.len() > MARKER_MAX
                || st.marker.contains('\n') =>
        {
            Err(format!("{}: field 'marker': required, 1-{} bytes, no newline", w, MARKER_MAX))
        }
        Op::PlaintextWrite | Op::PlaintextRead if st.text.is_empty() => {
            Err(format!("{}: field 'text': a non-empty string is required", w))
        }
        Op::SetOption if st.option.is_empty() => Err(format!("{}: field 'option' is required", w)),
        _ => Ok(()),
    }
}

fn decode_step(v: &Json, index: usize) -> Result<Step, String> {
    let w = format!("step {}", index);
    let fields = match v {
        Json::Obj(fields) => fields,
        _ => return Err(format!("{}: expected an object", w)),
    };
    let name = match v.get("op") {
        None => return Err(format!("{}: field 'op' is required", w)),
        Some(op) => str_field(op, &w, "op")?,
    };
    let op = OPS
        .iter()
        .find(|e| e.1 == name)
        .map(|e| e.0)
        .ok_or_else(|| format!("{}: unknown op '{}'", w, name))?;
    let mut st = Step {
        index, op, timeout_ms: DEFAULT_TIMEOUT_MS, nowait: false, bytes: None,
        until_close: false, until_blocked: false, request_peer: false,
        marker: String::new(), text: String::new(), option: String::new(),
        scope: "connection".to_string(),
    };
    let w = st.where_();
    for (f, value) in fields {
        if f == "op" {
            continue;
        }
        if f != "timeout_ms" && !op.fields().contains(&f.as_str()) {
            return Err(format!("{}: unknown field '{}'", w, f));
        }
        set_field(&mut st, &w, f, value)?;
    }
    check_combinations(&st, &|f| v.get(f).is_some())?;
    Ok(st)
}

/// Rules that span steps: what a step needs must still exist. A `resume`
/// brings a fresh TLS object and socket.
fn check_sequence(steps: &[Step]) -> Result<(), String> {
    let (mut freed_at, mut closed_at, mut cleared_at) = (0, 0, 0);
    for (i, st) in steps.iter().enumerate() {
        if st.op == Op::GetErrorAfter && (i == 0 || !steps[i - 1].op.calls_library()) {
            return Err(format!("step {} (get_error_after): the previous step must call the \
                                library (handshake, write, read, shutdown*, keyupdate)", st.index));
        }
        if freed_at > 0 && st.needs_session() {
            return Err(format!("{}: the TLS object was freed by step {}", st.where_(), freed_at));
        }
        if cleared_at > 0 && st.needs_session()
            && !matches!(st.op, Op::GetShutdown | Op::SessionResumable) {
            return Err(format!("{}: the TLS object was cleared by step {} and waits for a resume",
                               st.where_(), cleared_at));
        }
        if closed_at > 0 && matches!(st.op, Op::PlaintextWrite | Op::PlaintextRead) {
            return Err(format!("{}: the transport was closed by step {}", st.where_(), closed_at));
        }
        match st.op {
            Op::FreeWithoutShutdown => freed_at = st.index,
            Op::CloseTransport => closed_at = st.index,
            Op::Clear => cleared_at = st.index,
            Op::Resume => {
                freed_at = 0;
                closed_at = 0;
                cleared_at = 0;
            }
            _ => {}
        }
    }
    Ok(())
}

pub fn decode(root: &Json) -> Result<Vec<Step>, String> {
    let items = match root {
        Json::Arr(items) => items,
        _ => return Err("step script: expected a JSON array of steps".into()),
    };
    if items.is_empty() {
        return Err("step script: no steps".into());
    }
    let steps = items
        .iter()
        .enumerate()
        .map(|(i, v)| decode_step(v, i + 1))
        .collect::<Result<Vec<_>, _>>()?;
    check_sequence(&steps)?;
    Ok(steps)
}

/// Reads and decodes a --script file.
pub fn load(path: &str) -> Result<Vec<Step>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {}", path, e))?;
    let root = crate::json::parse(&text).map_err(|e| format!("{}: {}", path, e))?;
    decode(&root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::parse;

    fn err(script: &str) -> String {
        decode(&parse(script).unwrap()).unwrap_err()
    }

    #[test]
    fn bad_scripts_name_step_and_field() {
        assert_eq!(err(r#"[{"op": "handshake", "nowait": 1}]"#),
                   "step 1 (handshake): field 'nowait': expected true or false");
        assert_eq!(err(r#"[{"op": "write", "bytes": 1.5}]"#),
                   "step 1 (write): field 'bytes': expected an integer");
        assert_eq!(err(r#"[{"op": "write"}]"#), "step 1 (write): field 'bytes' is required");
        assert_eq!(err(r#"[{"op": "read", "byte": 1}]"#), "step 1 (read): unknown field 'byte'");
        assert_eq!(err(r#"[{"op": "jump"}]"#), "step 1: unknown op 'jump'");
        assert_eq!(err(r#"[{"op": "signal_peer", "marker": "a\nb"}]"#),
                   "step 1 (signal_peer): field 'marker': required, 1-63 bytes, no newline");
        assert_eq!(err(r#"[{"op": "close_transport"}, {"op": "plaintext_read", "text": "x"}]"#),
                   "step 2 (plaintext_read): the transport was closed by step 1");
        assert_eq!(err(r#"[{"op": "get_error_after"}]"#),
                   "step 1 (get_error_after): the previous step must call the library \
                    (handshake, write, read, shutdown*, keyupdate)");
        assert_eq!(err("[]"), "step script: no steps");
    }

    #[test]
    fn good_script() {
        let steps = decode(&parse(r#"[{"op": "read", "until": "close", "timeout_ms": 7},
                                      {"op": "write", "bytes": 5, "until_blocked": true}]"#)
                           .unwrap()).unwrap();
        assert!(steps[0].until_close && steps[0].timeout_ms == 7);
        assert!(steps[1].until_blocked && steps[1].bytes == Some(5));
    }
}
