//! One run (a process, or one cell of the persistent mode), in the order of
//! docs/shim-protocol.md §6: the script's syntax (exit 2), what rustls
//! cannot do (77), what the command line lacks (2), the setup (4, or 77 for
//! a --cipher rustls lacks), then the steps, one JSON line each; a deadline
//! ends the run (exit 3). Every socket is closed gracefully on every path.
//!
//! The IO-mode loops around one attempt (conn.rs) are those of the C runner
//! (stacks/shimlib/shim_io.c): blocking sockets with SO_RCVTIMEO/SO_SNDTIMEO
//! set to the time left, nonblocking sockets polled for the want, memory
//! buffers the runner fills and empties.

use std::time::Instant;

use crate::args::{Args, Io, MAX_CONNECTIONS};
use crate::config::{self, TlsSetup};
use crate::conn::{CallOut, Conn, Want};
use crate::markers::Markers;
use crate::output::{Exit, Out, Report, EXIT_TIMEOUT};
use crate::script::{Op, Step};
use crate::transport::{self, Fail};

const READ_CHUNK: usize = 16384;

/// What rustls 0.20.8 cannot do: these steps are a skip (exit 77).
fn unsupported(op: Op, args: &Args) -> Option<&'static str> {
    match op {
        Op::ShutdownQuiet => Some("rustls has no quiet shutdown (dropping the connection without \
                                   send_close_notify is free_without_shutdown)"),
        Op::ShutdownFull => Some("rustls has no call that sends close_notify and waits for the peer's"),
        Op::GetErrorAfter => Some("rustls has no error query on a return value: every call returns \
                                   its error"),
        Op::KeyUpdate => Some("rustls 0.20.8 has no call that sends a KeyUpdate (it only answers a \
                               requested one)"),
        Op::SessionResumable if args.server => Some("a rustls server keeps no per-connection \
                                                     session state to ask"),
        Op::SetOption => Some("rustls has none of these options: an EOF without close_notify is \
                               always an error, a client never offers post-handshake \
                               authentication, and there is no quiet shutdown"),
        Op::Clear => Some("a rustls connection serves one connection: it cannot be reset for \
                           another"),
        _ => None,
    }
}

fn check_capabilities(args: &Args, steps: &[Step], in_band: bool) -> Result<(), Exit> {
    for st in steps {
        if let Some(why) = unsupported(st.op, args) {
            return Err(Exit::skip(st.index, format!("{}: {}", st.where_(), why)));
        }
        if st.until_blocked && args.io() == Io::Blocking {
            return Err(Exit::skip(st.index, format!(
                "{}: until_blocked needs --io nonblocking or memory (a blocking write never \
                 reports a want)", st.where_())));
        }
    }
    let mut resumes = 0;
    for st in steps {
        let need = |what: &str| Exit::usage(format!("{}: needs {}", st.where_(), what)).at(st.index);
        match st.op {
            Op::SignalPeer if !in_band && args.marker_out.is_none() => return Err(need("--marker-out")),
            Op::WaitPeer if !in_band && args.marker_in.is_none() => return Err(need("--marker-in")),
            Op::Resume => {
                resumes += 1;
                if resumes >= MAX_CONNECTIONS {
                    return Err(Exit::usage(format!("{}: at most {} connections", st.where_(),
                                                   MAX_CONNECTIONS)).at(st.index));
                }
                if resumes >= args.fds.len() && args.connect.is_none() {
                    return Err(Exit::usage(format!(
                        "{}: no --fd left for this connection (give one descriptor per connection)",
                        st.where_())).at(st.index));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// The calls of one step.
#[derive(Default)]
struct Trace {
    calls: usize,
    last: Option<CallOut>,
}

impl Trace {
    fn record(&mut self, rep: &mut Report, out: CallOut) {
        self.calls += 1;
        if let Some(w) = out.want {
            rep.add_want(w.name());
        }
        self.last = Some(out);
    }
    fn last_want(&self) -> Option<Want> {
        self.last.as_ref().and_then(|l| l.want)
    }
    fn last_bytes(&self) -> usize {
        self.last.as_ref().map_or(0, |l| l.bytes)
    }
}

pub struct Run<'a> {
    args: &'a Args,
    out: &'a Out,
    markers: Markers<'a>,
    tls: Option<TlsSetup>,
    conns: Vec<Conn>,
    fds_used: usize,
    pattern: Vec<u8>,
    run_deadline: Instant,
}

fn timeout_exit(st: &Step, deadline: Instant, run_deadline: Instant) -> Exit {
    let which = if deadline == run_deadline { "run" } else { "step" };
    Exit::new(EXIT_TIMEOUT, format!("{}: {} deadline passed", st.where_(), which)).at(st.index)
}

impl<'a> Run<'a> {
    fn cur(&mut self) -> &mut Conn {
        self.conns.last_mut().expect("a connection")
    }

    fn open_conn(&mut self, deadline: Instant) -> Result<(), Exit> {
        let sock = match &self.args.connect {
            Some(spec) => transport::connect(spec, deadline)?,
            None => {
                let fd = *self.args.fds.get(self.fds_used).ok_or_else(|| Exit::usage(
                    "no connection left (give --fd with one descriptor per connection or --connect)"))?;
                self.fds_used += 1;
                transport::adopt_fd(fd)?
            }
        };
        let tls = self.tls.as_ref().expect("setup").connection()?;
        let conn = Conn::new(tls, sock, self.args.io())
            .map_err(|e| Exit::failure(format!("socket mode: {}", e)))?;
        self.conns.push(conn);
        Ok(())
    }

    /// Calls `attempt` until it reports no want (or once with nowait), as an
    /// application in the IO mode would. Err(Timeout) when the deadline
    /// passed, Err(Reset) when the runner met a reset (memory mode).
    fn io_call(&mut self, deadline: Instant, nowait: bool, trace: &mut Trace, rep: &mut Report,
               attempt: &mut dyn FnMut(&mut Conn) -> CallOut) -> Result<(), Fail> {
        let c = self.conns.last_mut().expect("a connection");
        loop {
            if c.io == Io::Blocking {
                if let Some(s) = &c.sock {
                    transport::set_timeouts(s, deadline).map_err(|e| Fail::Sys(format!("{}", e)))?;
                }
            }
            let result = attempt(c);
            let want = result.want;
            trace.record(rep, result);
            if c.io == Io::Memory {
                let taken_before = c.mem.taken;
                c.mem_pump_out()?;
                let want = match want {
                    None => return Ok(()),
                    Some(w) => w,
                };
                if nowait {
                    // What already arrived is given now, so the next call
                    // sees it as a readable socket would show it.
                    if want == Want::Read && c.lib.input.is_empty() {
                        c.mem_read_now()?;
                        c.mem_give_piece();
                    }
                    return Ok(());
                }
                let progress = match want {
                    Want::Read => c.mem_feed(deadline)?,
                    Want::Write => c.mem_drain(deadline, c.mem.taken != taken_before)?,
                };
                if !progress {
                    return Ok(());
                }
                continue;
            }
            let want = match want {
                Some(w) if !nowait => w,
                _ => return Ok(()),
            };
            let fd = match c.fd() {
                Some(fd) => fd,
                None => return Ok(()),
            };
            if transport::expired(deadline) {
                return Err(Fail::Timeout);
            }
            let events = if want == Want::Write { libc::POLLOUT } else { libc::POLLIN };
            transport::wait_fd(fd, events, deadline)?;
        }
    }

    /// Turns the loop's result into the report. A timeout the runner met
    /// overrides the last call's outcome, a reset it met (memory mode) does
    /// not: the library got EOF and said what it said; a completed step in
    /// memory mode is only over once its bytes are on the socket.
    fn finish_lib_step(&mut self, st: &Step, deadline: Instant, trace: Trace, mut rc: Result<(), Fail>,
                       rep: &mut Report) -> Result<(), Exit> {
        rep.calls = trace.calls;
        rep.native = trace.last.as_ref().map(|l| l.native.clone());
        if rc.is_ok() && trace.last_want().is_none() && !st.nowait {
            rc = self.cur().mem_flush(deadline);
        }
        match rc {
            Err(Fail::Timeout) => {
                rep.outcome = "error:timeout".into();
                return Err(timeout_exit(st, deadline, self.run_deadline));
            }
            Err(Fail::Reset) => {
                rep.outcome = "error:reset".into();
                return Ok(());
            }
            Err(Fail::Eof) => {}
            Err(Fail::Sys(m)) => return Err(Exit::failure(m)),
            Ok(()) => {}
        }
        if rep.outcome.is_empty() {
            rep.outcome = match &trace.last {
                Some(CallOut { want: Some(w), .. }) => w.name().to_string(),
                Some(l) if !l.outcome.is_empty() => l.outcome.clone(),
                _ => "error:other".to_string(),
            };
        }
        Ok(())
    }

    fn simple_call(&mut self, st: &Step, deadline: Instant, rep: &mut Report,
                   attempt: &mut dyn FnMut(&mut Conn) -> CallOut) -> Result<(), Exit> {
        let mut trace = Trace::default();
        let rc = self.io_call(deadline, st.nowait, &mut trace, rep, attempt);
        self.finish_lib_step(st, deadline, trace, rc, rep)
    }

    fn step_read(&mut self, st: &Step, deadline: Instant, rep: &mut Report) -> Result<(), Exit> {
        let mut trace = Trace::default();
        let mut total = 0;
        let mut buf = vec![0u8; READ_CHUNK];
        let rc = loop {
            let cap = st.bytes.map_or(READ_CHUNK, |b| (b - total).min(READ_CHUNK));
            let rc = self.io_call(deadline, st.nowait, &mut trace, rep, &mut |c| c.attempt_read(&mut buf[..cap]));
            if rc.is_err() || trace.last_want().is_some() || trace.last_bytes() == 0 {
                break rc;
            }
            total += trace.last_bytes();
            let more = st.until_close || st.bytes.map_or(false, |b| total < b);
            if st.nowait || !more {
                break rc;
            }
        };
        rep.bytes = total;
        self.finish_lib_step(st, deadline, trace, rc, rep)?;
        if rep.outcome.starts_with("data:") {
            rep.outcome = format!("data:{}", total);
        }
        Ok(())
    }

    /// Writes one block of len pattern bytes; a block an earlier call of the
    /// same size left partly taken goes on from where rustls stopped taking
    /// it, as OpenSSL's retry with the very same buffer would.
    fn write_block(&mut self, len: usize, nowait: bool, deadline: Instant, trace: &mut Trace,
                   rep: &mut Report, written: &mut usize) -> Result<(), Fail> {
        let pattern = std::mem::take(&mut self.pattern);
        let mut offset = match self.cur().pending_write {
            Some((l, off)) if l == len => off,
            _ => 0,
        };
        let rc = self.io_call(deadline, nowait, trace, rep,
                              &mut |c| c.attempt_write(&pattern[..len], &mut offset));
        self.pattern = pattern;
        *written += trace.last_bytes();
        // Bytes rustls took are its own (Writer::write copies them into its
        // send buffer): only a block it has not taken whole stays pending.
        let taking = rc.is_ok() && trace.last_want().is_some() && offset < len;
        self.cur().pending_write = if taking { Some((len, offset)) } else { None };
        rc
    }

    fn step_write(&mut self, st: &Step, deadline: Instant, rep: &mut Report) -> Result<(), Exit> {
        let len = st.bytes.unwrap_or(0);
        let mut trace = Trace::default();
        let mut total = 0;
        let mut rc;
        if !st.until_blocked {
            rc = self.write_block(len, st.nowait, deadline, &mut trace, rep, &mut total);
        } else {
            // A peer that keeps reading never blocks us: the deadline ends
            // it. A want_write counts only once the stall lasts, else the
            // next step could find room the kernel freed meanwhile.
            let mut mark = 0u64;
            loop {
                rc = self.write_block(len, true, deadline, &mut trace, rep, &mut total);
                if rc.is_ok() && trace.last_want() == Some(Want::Write) {
                    match self.send_stalled(deadline, &mut mark) {
                        Ok(false) => continue,
                        Ok(true) => {}
                        Err(f) => rc = Err(f),
                    }
                }
                if rc.is_ok() && trace.last_want().is_none() && transport::expired(deadline) {
                    rc = Err(Fail::Timeout);
                }
                if rc.is_err() || trace.last_want().is_some() || trace.last_bytes() == 0 {
                    break;
                }
            }
        }
        rep.bytes = total;
        self.finish_lib_step(st, deadline, trace, rc, rep)?;
        if rep.outcome.starts_with("ok:") {
            rep.outcome = format!("ok:{}", total);
        }
        Ok(())
    }

    /// until_blocked: after a want_write, is the send path stalled for good?
    /// (The C runner's shim_io_send_stalled: nothing in flight any more, and
    /// the kernel's send buffer full or no byte taken since the last check.)
    fn send_stalled(&mut self, deadline: Instant, mark: &mut u64) -> Result<bool, Fail> {
        let c = self.cur();
        let fd = match c.fd() {
            Some(fd) => fd,
            None => return Ok(true),
        };
        let mut accepted = transport::wait_nothing_in_flight(fd, deadline)?;
        if c.io == Io::Memory {
            c.mem_pump_out()?;
            accepted = transport::tcp_in_flight(fd)?.1;
        }
        let stalled = transport::send_buffer_full(fd) || accepted == *mark;
        *mark = accepted;
        Ok(stalled)
    }

    fn step_close_transport(&mut self, deadline: Instant, rep: &mut Report) -> Result<(), Fail> {
        let (drained, rc) = self.cur().close_transport(deadline);
        rep.drained = Some(drained);
        match rc {
            Err(Fail::Timeout) => {
                rep.outcome = "error:timeout".into();
                Err(Fail::Timeout)
            }
            Err(Fail::Reset) => {
                rep.outcome = "error:reset".into();
                Ok(())
            }
            _ => {
                rep.outcome = "ok".into();
                Ok(())
            }
        }
    }

    fn save_session_out(&self) -> Result<(), Exit> {
        match (&self.args.session_out, &self.tls) {
            (Some(path), Some(setup)) if !self.args.server => config::save_session(&setup.store, path),
            _ => Ok(()),
        }
    }

    /// The previous connection's TLS object stays alive; only its socket is
    /// closed, so that the peer, which finishes that connection before it
    /// answers on the next, sees EOF.
    fn step_resume(&mut self, st: &Step, deadline: Instant, rep: &mut Report) -> Result<(), Exit> {
        self.save_session_out()?;
        if self.step_close_transport(deadline, rep).is_err() {
            return Err(timeout_exit(st, deadline, self.run_deadline));
        }
        rep.outcome.clear();
        let before = self.tls.as_ref().map_or(0, |t| t.full_handshakes());
        self.open_conn(deadline)?;
        self.simple_call(st, deadline, rep, &mut |c| c.attempt_handshake())?;
        if rep.outcome == "ok" {
            let reused = self.tls.as_ref().map_or(0, |t| t.full_handshakes()) == before;
            rep.reused = Some(reused);
            rep.outcome = if reused { "reused" } else { "not_reused" }.into();
        }
        Ok(())
    }

    fn step_plaintext_write(&mut self, st: &Step, deadline: Instant, rep: &mut Report) -> Result<(), Exit> {
        let c = self.cur();
        let mut rc = c.mem_flush(deadline);
        if rc.is_ok() {
            rc = match &c.sock {
                None => Err(Fail::Sys("the transport is closed".into())),
                Some(s) => transport::write_all(s, st.text.as_bytes(), deadline),
            };
        }
        match rc {
            Ok(()) => {
                rep.bytes = st.text.len();
                rep.outcome = format!("ok:{}", st.text.len());
            }
            Err(Fail::Timeout) => {
                rep.outcome = "error:timeout".into();
                return Err(timeout_exit(st, deadline, self.run_deadline));
            }
            Err(Fail::Reset) => rep.outcome = "error:reset".into(),
            Err(_) => rep.outcome = "error:other".into(),
        }
        Ok(())
    }

    /// Bytes that arrived after the TLS stream but were never given to
    /// rustls come first (memory mode); in the socket modes whatever
    /// read_tls already took stays inside rustls.
    fn step_plaintext_read(&mut self, st: &Step, deadline: Instant, rep: &mut Report) -> Result<(), Exit> {
        let want = st.text.len();
        let c = self.cur();
        let n = want.min(c.mem.in_buf.len());
        let mut got: Vec<u8> = c.mem.in_buf.drain(..n).collect();
        let rc = match &c.sock {
            None if got.len() < want => Err(Fail::Sys("the transport is closed".into())),
            None => Ok(()),
            Some(s) => transport::read_exact(s, &mut got, want, deadline),
        };
        rep.bytes = got.len();
        rep.outcome = match rc {
            Ok(()) if got == st.text.as_bytes() => "match".into(),
            Ok(()) => "mismatch".into(),
            Err(Fail::Eof) => "eof".into(),
            Err(Fail::Reset) => "error:reset".into(),
            Err(Fail::Timeout) => "error:timeout".into(),
            Err(Fail::Sys(_)) => "error:other".into(),
        };
        rep.got = Some(got);
        if rep.outcome == "error:timeout" {
            return Err(timeout_exit(st, deadline, self.run_deadline));
        }
        Ok(())
    }

    fn step(&mut self, st: &Step, deadline: Instant, rep: &mut Report) -> Result<(), Exit> {
        match st.op {
            Op::Handshake => self.simple_call(st, deadline, rep, &mut |c| c.attempt_handshake()),
            Op::Shutdown => self.simple_call(st, deadline, rep, &mut |c| c.attempt_shutdown()),
            Op::Read => self.step_read(st, deadline, rep),
            Op::Write => self.step_write(st, deadline, rep),
            Op::GetShutdown => {
                // rustls tells whether the peer's close_notify was processed
                // (IoState::peer_has_closed) but keeps what it sent to itself.
                rep.outcome = "unknown".into();
                Ok(())
            }
            Op::SessionResumable => {
                let yes = self.tls.as_ref().map_or(false, |t| t.store.session().is_some());
                rep.resumable = Some(yes);
                rep.outcome = if yes { "resumable" } else { "not_resumable" }.into();
                Ok(())
            }
            Op::FreeWithoutShutdown => {
                // A client's session is already in the store rustls fills
                // as sessions arrive; dropping the Connection sends nothing.
                self.save_session_out()?;
                self.cur().tls = None;
                rep.outcome = "ok".into();
                Ok(())
            }
            Op::CloseTransport => match self.step_close_transport(deadline, rep) {
                Err(_) => Err(timeout_exit(st, deadline, self.run_deadline)),
                Ok(()) => Ok(()),
            },
            Op::Resume => self.step_resume(st, deadline, rep),
            Op::SignalPeer => {
                rep.outcome = "ok".into();
                self.markers.signal(self.out, &st.marker)
            }
            Op::WaitPeer => {
                if self.markers.wait(&st.marker, deadline)? {
                    rep.outcome = "ok".into();
                    Ok(())
                } else {
                    rep.outcome = "error:timeout".into();
                    Err(timeout_exit(st, deadline, self.run_deadline))
                }
            }
            Op::PlaintextWrite => self.step_plaintext_write(st, deadline, rep),
            Op::PlaintextRead => self.step_plaintext_read(st, deadline, rep),
            Op::ShutdownQuiet | Op::ShutdownFull | Op::GetErrorAfter | Op::KeyUpdate
            | Op::SetOption | Op::Clear => {
                Err(Exit::skip(st.index, "not supported"))
            }
        }
    }

    fn run_steps(&mut self, steps: &[Step]) -> Result<(), Exit> {
        for st in steps {
            let mut rep = Report::new(st.index, st.op.name());
            let deadline = (Instant::now() + std::time::Duration::from_millis(st.timeout_ms))
                .min(self.run_deadline);
            let t0 = Instant::now();
            let rc = self.step(st, deadline, &mut rep);
            if self.conns.last().map_or(false, |c| c.mem.sock_reset) {
                // what the runner saw; the outcome is what rustls said
                rep.transport = Some("reset");
            }
            rep.ms = t0.elapsed().as_secs_f64() * 1000.0;
            match rc {
                Ok(()) => self.out.step(&rep),
                Err(e) => {
                    if e.code == EXIT_TIMEOUT {
                        self.out.step(&rep);
                        return Err(e);
                    }
                    let message = if e.message.starts_with("step ") {
                        e.message
                    } else {
                        format!("{}: {}", st.where_(), e.message)
                    };
                    return Err(Exit { code: e.code, step: st.index, message });
                }
            }
        }
        Ok(())
    }

    fn cleanup(&mut self, deadline: Instant) {
        for mut c in self.conns.drain(..) {
            c.tls = None;
            let _ = c.close_transport(deadline);
        }
    }
}

/// Where the script comes from: a --script file, or a request's inline array.
pub enum Script<'s> {
    File(&'s str),
    Inline(&'s crate::json::Json),
}

/// Runs one cell after its command line was understood; prints the hello
/// line, the step lines and the end line, and returns the exit code.
pub fn run(args: &Args, script: Script, out: &Out, markers: Markers, start: Instant) -> i32 {
    let run_deadline = start + std::time::Duration::from_millis(args.deadline_ms);
    out.hello(args.role(), args.tls(), args.io().name());
    let in_band = matches!(markers, Markers::InBand { .. });
    let steps = match script {
        Script::File(path) => crate::script::load(path),
        Script::Inline(v) => crate::script::decode(v),
    };
    let steps = match steps {
        Ok(s) => s,
        Err(m) => return out.end(&Err(Exit::usage(m))),
    };
    if let Err(e) = check_capabilities(args, &steps, in_band) {
        return out.end(&Err(e));
    }
    let longest = steps.iter().filter(|s| s.op == Op::Write).filter_map(|s| s.bytes).max().unwrap_or(0);
    let mut r = Run {
        args, out, markers, tls: None, conns: Vec::new(), fds_used: 0,
        pattern: (0..longest.max(1)).map(|i| i as u8).collect(), run_deadline,
    };
    let mut result = config::setup(args).map(|t| r.tls = Some(t));
    if let (Ok(()), Some(path), Some(setup)) = (&result, &args.session_in, &r.tls) {
        if !args.server {
            result = config::load_session(&setup.store, path);
        }
    }
    if result.is_ok() {
        result = r.open_conn(run_deadline);
    }
    if result.is_ok() {
        result = r.run_steps(&steps);
    }
    if result.is_ok() {
        result = r.save_session_out();
    }
    r.cleanup(if result.is_ok() { run_deadline } else { Instant::now() });
    out.end(&result)
}
