//! One connection of the stack under test: a rustls Connection, the socket,
//! and in memory mode the buffers between them.
//!
//! rustls does no IO of its own: the application moves TLS bytes with
//! read_tls/write_tls and processes them with process_new_packets. Each
//! `attempt_*` below is one "library call" of the shim protocol: the rustls
//! calls an application makes for that operation until it is done or the
//! transport would block, which is the want (a socket's EAGAIN, or in
//! memory mode an empty input buffer or a full output buffer). The runner
//! (runner.rs) decides what follows a want, as in the C runner.
//!
//! Transport: blocking and nonblocking modes give rustls the socket itself;
//! memory mode gives it `MemLib` (input the runner gave, output the runner
//! takes), and the runner moves bytes between it and the O_NONBLOCK socket,
//! one TLS record at a time towards rustls, so bytes after the TLS stream
//! stay with the runner for plaintext_read.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::os::unix::io::AsRawFd;
use std::time::Instant;

use crate::args::Io;
use crate::memio::{MemLib, MemRunner, MEM_LIB_OUT_CAP};
use crate::output::Native;
use crate::outcome;
use crate::transport::{self, Fail};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Read,
    Write,
}

impl Want {
    pub fn name(self) -> &'static str {
        match self {
            Want::Read => "want_read",
            Want::Write => "want_write",
        }
    }
}

/// What one attempt reported.
#[derive(Clone, Debug, Default)]
pub struct CallOut {
    pub want: Option<Want>,
    pub outcome: String,
    pub native: Native,
    pub bytes: usize,
}

impl CallOut {
    fn done(outcome: &str, ret: Option<i64>, bytes: usize) -> Self {
        CallOut { want: None, outcome: outcome.into(), native: Native { ret, ..Native::default() }, bytes }
    }
    fn want(want: Want, ret: Option<i64>, bytes: usize) -> Self {
        let mut native = outcome::would_block();
        native.ret = ret;
        CallOut { want: Some(want), outcome: String::new(), native, bytes }
    }
    fn io(e: &io::Error, reading: bool, bytes: usize) -> Self {
        let (outcome, native) = outcome::io_error(e, reading);
        CallOut { want: None, outcome, native, bytes }
    }
    fn tls(e: &rustls::Error, bytes: usize) -> Self {
        let (outcome, native) = outcome::tls_error(e);
        CallOut { want: None, outcome, native, bytes }
    }
}

fn closed_socket() -> io::Error {
    io::Error::from_raw_os_error(libc::EBADF)
}

/// The transport rustls reads and writes.
enum LibIo<'a> {
    Socket(&'a TcpStream),
    Mem(&'a mut MemLib),
    Closed,
}

impl<'a> Read for LibIo<'a> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            LibIo::Socket(s) => (*s).read(buf),
            LibIo::Mem(m) => {
                if m.input.is_empty() {
                    return if m.eof { Ok(0) } else { Err(io::ErrorKind::WouldBlock.into()) };
                }
                let n = buf.len().min(m.input.len());
                for (dst, src) in buf.iter_mut().zip(m.input.drain(..n)) {
                    *dst = src;
                }
                Ok(n)
            }
            LibIo::Closed => Err(closed_socket()),
        }
    }
}

impl<'a> Write for LibIo<'a> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            LibIo::Socket(s) => (*s).write(buf),
            LibIo::Mem(m) => {
                let room = MEM_LIB_OUT_CAP - m.output.len();
                if room == 0 {
                    return Err(io::ErrorKind::WouldBlock.into());
                }
                let n = room.min(buf.len());
                m.output.extend_from_slice(&buf[..n]);
                Ok(n)
            }
            LibIo::Closed => Err(closed_socket()),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Pulled {
    Bytes,
    Eof,
    WouldBlock,
}

enum PullError {
    Io(io::Error),
    Tls(rustls::Error),
}

pub struct Conn {
    pub tls: Option<rustls::Connection>,
    pub sock: Option<TcpStream>,
    pub io: Io,
    pub lib: MemLib,
    pub mem: MemRunner,
    /// send_close_notify was called on this connection.
    pub close_notify_queued: bool,
    /// A shutdown step finished sending it: the next one waits for the peer's.
    pub close_notify_sent: bool,
    /// process_new_packets reported the peer's close_notify (IoState::peer_has_closed).
    pub peer_closed: bool,
    /// The first error process_new_packets returned; rustls returns it for
    /// every later call and says not to call read_tls any more.
    pub failed: Option<rustls::Error>,
    /// A write step left (len, offset): a later write of the same size goes on.
    pub pending_write: Option<(usize, usize)>,
}

impl Conn {
    pub fn new(tls: rustls::Connection, sock: TcpStream, io: Io) -> io::Result<Self> {
        sock.set_nonblocking(io != Io::Blocking)?;
        Ok(Conn {
            tls: Some(tls), sock: Some(sock), io, lib: MemLib::default(), mem: MemRunner::default(),
            close_notify_queued: false, close_notify_sent: false, peer_closed: false,
            failed: None, pending_write: None,
        })
    }

    pub fn fd(&self) -> Option<i32> {
        self.sock.as_ref().map(|s| s.as_raw_fd())
    }

    /// Splits self into the rustls connection and its transport.
    fn parts(&mut self) -> Option<(&mut rustls::Connection, LibIo)> {
        let io = match (self.io, &self.sock) {
            (Io::Memory, _) => LibIo::Mem(&mut self.lib),
            (_, Some(s)) => LibIo::Socket(s),
            (_, None) => LibIo::Closed,
        };
        self.tls.as_mut().map(|t| (t, io))
    }

    /// write_tls until rustls has nothing left: Ok(true), or Ok(false) when
    /// the transport would block.
    fn flush(&mut self) -> io::Result<bool> {
        let (tls, mut io) = match self.parts() {
            Some(p) => p,
            None => return Ok(true),
        };
        while tls.wants_write() {
            match tls.write_tls(&mut io) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    /// read_tls once, then process_new_packets. After a failure rustls
    /// repeats the error and read_tls is not called again (rustls's own
    /// advice in the process_new_packets documentation); the alert rustls
    /// queued for the failure is written first, as complete_io does.
    fn pull(&mut self) -> Result<Pulled, PullError> {
        if let Some(e) = &self.failed {
            return Err(PullError::Tls(e.clone()));
        }
        let (pulled, processed) = {
            let (tls, mut io) = match self.parts() {
                Some(p) => p,
                None => return Err(PullError::Io(closed_socket())),
            };
            let pulled = loop {
                match tls.read_tls(&mut io) {
                    Ok(0) => break Pulled::Eof,
                    Ok(_) => break Pulled::Bytes,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Pulled::WouldBlock),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(PullError::Io(e)),
                }
            };
            (pulled, tls.process_new_packets())
        };
        match processed {
            Ok(state) => {
                self.peer_closed |= state.peer_has_closed();
                Ok(pulled)
            }
            Err(e) => {
                self.failed = Some(e.clone());
                let _ = self.flush();
                Err(PullError::Tls(e))
            }
        }
    }

    fn pull_error(e: PullError, reading: bool) -> CallOut {
        match e {
            PullError::Io(e) => CallOut::io(&e, reading, 0),
            PullError::Tls(e) => CallOut::tls(&e, 0),
        }
    }

    fn no_session() -> CallOut {
        CallOut::io(&io::Error::new(io::ErrorKind::Other, "the TLS object was freed"), false, 0)
    }

    /// The handshake: write what rustls has, read and process until it is
    /// no longer handshaking (ClientConnection/ServerConnection::is_handshaking).
    pub fn attempt_handshake(&mut self) -> CallOut {
        let mut eof = false;
        loop {
            match self.flush() {
                Err(e) => return CallOut::io(&e, false, 0),
                Ok(false) => return CallOut::want(Want::Write, None, 0),
                Ok(true) => {}
            }
            match &self.tls {
                None => return Self::no_session(),
                Some(t) if !t.is_handshaking() => return CallOut::done("ok", None, 0),
                Some(_) if eof => {
                    let e = io::Error::new(io::ErrorKind::UnexpectedEof, "EOF during the handshake");
                    return CallOut::io(&e, false, 0);
                }
                Some(_) => {}
            }
            match self.pull() {
                Ok(Pulled::WouldBlock) => return CallOut::want(Want::Read, None, 0),
                Ok(Pulled::Eof) => eof = true,
                Ok(Pulled::Bytes) => {}
                // process_new_packets handles every record read_tls took:
                // a failure in a record after the peer's Finished belongs to
                // the connection, not to the handshake that completed before
                // it. The next call reports it (self.failed).
                Err(PullError::Tls(_)) if !self.tls.as_ref().map_or(true, |t| t.is_handshaking()) => {
                    return CallOut::done("ok", None, 0)
                }
                Err(e) => return Self::pull_error(e, false),
            }
        }
    }

    /// One read: rustls's reader (Reader::read); when it needs input,
    /// read_tls and process_new_packets, after writing what rustls wants to
    /// send (an answer to a KeyUpdate goes out only with the next write in
    /// rustls 0.20, but alerts and TLS 1.2 no_renegotiation do not wait).
    pub fn attempt_read(&mut self, buf: &mut [u8]) -> CallOut {
        loop {
            let r = match self.tls.as_mut() {
                None => return Self::no_session(),
                Some(t) => t.reader().read(buf),
            };
            match r {
                Ok(0) => return CallOut::done("closed", Some(0), 0),
                Ok(n) => return CallOut::done(&format!("data:{}", n), Some(n as i64), n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return CallOut::io(&e, true, 0),
            }
            if let Err(e) = self.flush() {
                return CallOut::io(&e, true, 0);
            }
            match self.pull() {
                Ok(Pulled::WouldBlock) => return CallOut::want(Want::Read, None, 0),
                Ok(_) => {}
                Err(e) => return Self::pull_error(e, true),
            }
        }
    }

    /// Writes data[*offset..]: rustls's writer takes what its buffer limit
    /// allows (Writer::write, never an error in 0.20), write_tls sends it.
    /// Done when every byte was taken and written to the transport.
    pub fn attempt_write(&mut self, data: &[u8], offset: &mut usize) -> CallOut {
        let start = *offset;
        loop {
            match self.flush() {
                Err(e) => return CallOut::io(&e, false, *offset - start),
                Ok(false) => return CallOut::want(Want::Write, Some((*offset - start) as i64), *offset - start),
                Ok(true) => {}
            }
            if *offset == data.len() {
                let n = *offset - start;
                return CallOut::done(&format!("ok:{}", n), Some(n as i64), n);
            }
            let n = match self.tls.as_mut() {
                None => return Self::no_session(),
                Some(t) => t.writer().write(&data[*offset..]).unwrap_or(0),
            };
            *offset += n;
            if n == 0 && !self.tls.as_ref().map_or(false, |t| t.wants_write()) {
                let e = io::Error::new(io::ErrorKind::Other, "rustls took no bytes and has nothing to send");
                return CallOut::io(&e, false, *offset - start);
            }
        }
    }

    /// shutdown: the first time, send_close_notify and write it out (`sent`,
    /// or `complete` when the peer's close_notify was already processed);
    /// once that is done, read and process until the peer's close_notify
    /// (`complete`). rustls has no call that waits for the peer, and
    /// send_close_notify queues one more alert each time it is called
    /// (src/conn.rs CommonState::send_close_notify keeps no state), so the
    /// shim calls it once per connection.
    pub fn attempt_shutdown(&mut self) -> CallOut {
        if self.tls.is_none() {
            return Self::no_session();
        }
        if !self.close_notify_sent {
            if !self.close_notify_queued {
                self.tls.as_mut().unwrap().send_close_notify();
                self.close_notify_queued = true;
            }
            match self.flush() {
                Err(e) => return CallOut::io(&e, false, 0),
                Ok(false) => return CallOut::want(Want::Write, None, 0),
                Ok(true) => {}
            }
            self.close_notify_sent = true;
            return CallOut::done(if self.peer_closed { "complete" } else { "sent" }, None, 0);
        }
        loop {
            if self.peer_closed {
                return CallOut::done("complete", None, 0);
            }
            match self.pull() {
                Ok(Pulled::WouldBlock) => return CallOut::want(Want::Read, None, 0),
                Ok(Pulled::Eof) if !self.peer_closed => {
                    let e = io::Error::new(io::ErrorKind::UnexpectedEof,
                                           "the transport ended before the peer's close_notify");
                    return CallOut::io(&e, false, 0);
                }
                Ok(_) => {}
                Err(e) => return Self::pull_error(e, false),
            }
        }
    }

    /// Graceful transport close (FIN, drain until EOF, close).
    pub fn close_transport(&mut self, deadline: Instant) -> (usize, Result<(), Fail>) {
        self.mem.sock_eof = true;
        self.mem.out.clear();
        match self.sock.take() {
            None => (0, Ok(())),
            Some(s) => transport::close_graceful(s, deadline),
        }
    }
}
