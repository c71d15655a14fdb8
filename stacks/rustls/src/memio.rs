//! Memory mode (docs/shim-protocol.md §4): the buffers between rustls and
//! the socket, and how the runner moves bytes through them, as the C runner
//! does (stacks/shimlib/shim_io.c).
//!
//! Needs: a connection whose socket is O_NONBLOCK. Gives: the library's
//! side (`MemLib`: what read_tls reads and write_tls fills), the runner's
//! side (`MemRunner`), and the moves: library output to the socket as far
//! as it takes it, socket input to the library one TLS record (at most
//! 16 KiB) at a time after a want_read, EOF once everything before it was
//! given. Never: waits past a deadline, or gives rustls bytes that follow
//! the last record it asked for (they stay for plaintext_read).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::time::Instant;

use crate::args::Io;
use crate::conn::Conn;
use crate::transport::{self, Fail};

/// Memory mode: the library's side of the buffers. Input is what the
/// runner gave (EOF once it says so); output holds at most MEM_LIB_OUT_CAP
/// bytes, so a peer that stops reading shows as a full transport.
pub const MEM_LIB_OUT_CAP: usize = 2 * (16384 + 512);

#[derive(Default)]
pub struct MemLib {
    pub input: VecDeque<u8>,
    pub eof: bool,
    pub output: Vec<u8>,
}

/// Runner-side memory-mode state (what the C runner keeps in shim_conn).
#[derive(Default)]
pub struct MemRunner {
    pub in_buf: Vec<u8>,
    pub rec_left: usize,
    pub sock_eof: bool,
    pub eof_given: bool,
    pub sock_reset: bool,
    pub out: Vec<u8>,
    pub taken: u64,
}

impl Conn {
    /// Sends what the socket takes now, without waiting.
    fn mem_send_now(&mut self) -> Result<(), Fail> {
        let sock = match &self.sock {
            Some(s) => s,
            None => return Ok(()),
        };
        while !self.mem.out.is_empty() {
            match (&*sock).write(&self.mem.out) {
                Ok(n) => {
                    self.mem.out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if transport::is_reset(&e) => {
                    self.mem_reset();
                    return Ok(());
                }
                Err(e) => return Err(Fail::Sys(format!("send: {}", e))),
            }
        }
        Ok(())
    }

    /// A reset is what the socket says, not what the library says: as an
    /// application does, the runner ends the input (the library gets EOF
    /// after what arrived before) and drops the output; the library's own
    /// result stays the outcome, the step line says "transport": "reset".
    fn mem_reset(&mut self) {
        self.mem.sock_reset = true;
        self.mem.sock_eof = true;
        self.mem.out.clear();
    }

    const MEM_OUT_CAP: usize = 32 * 1024;

    fn mem_take(&mut self) {
        let room = Self::MEM_OUT_CAP.saturating_sub(self.mem.out.len());
        let n = room.min(self.lib.output.len());
        if n > 0 {
            self.mem.out.extend(self.lib.output.drain(..n));
            self.mem.taken += n as u64;
        }
    }

    /// Moves library output to the socket until one of them has nothing more
    /// to give or take. Output for a closed transport is dropped.
    pub fn mem_pump_out(&mut self) -> Result<(), Fail> {
        loop {
            self.mem_take();
            if self.sock.is_none() || self.mem.sock_reset {
                self.mem.out.clear();
                self.lib.output.clear();
            }
            if self.mem.out.is_empty() {
                return Ok(());
            }
            let before = self.mem.out.len();
            self.mem_send_now()?;
            if self.mem.out.len() == before {
                return Ok(());
            }
        }
    }

    const MEM_IN_CAP: usize = 64 * 1024;

    /// Reads what the socket has now into the runner's input buffer.
    pub fn mem_read_now(&mut self) -> Result<(), Fail> {
        let sock = match &self.sock {
            Some(s) if !self.mem.sock_eof && self.mem.in_buf.len() < Self::MEM_IN_CAP => s,
            _ => return Ok(()),
        };
        let mut buf = vec![0u8; Self::MEM_IN_CAP - self.mem.in_buf.len()];
        match (&*sock).read(&mut buf) {
            Ok(0) => self.mem.sock_eof = true,
            Ok(n) => self.mem.in_buf.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.mem_reset(),
            Err(e) => return Err(Fail::Sys(format!("recv: {}", e))),
        }
        Ok(())
    }

    /// Gives the library the next piece of input: the rest of the current
    /// TLS record (at most 16 KiB), or EOF once everything before it was
    /// given. Returns whether anything was given.
    pub fn mem_give_piece(&mut self) -> bool {
        const HEADER: usize = 5;
        const CHUNK: usize = 16384;
        if self.sock.is_none() {
            self.mem.sock_eof = true;
        }
        let m = &mut self.mem;
        if m.rec_left == 0 && m.in_buf.len() >= HEADER {
            m.rec_left = HEADER + ((m.in_buf[3] as usize) << 8 | m.in_buf[4] as usize);
        } else if m.rec_left == 0 && m.sock_eof {
            m.rec_left = m.in_buf.len(); // a fragment of a header before EOF
        }
        if m.rec_left > 0 && !m.in_buf.is_empty() {
            let n = m.rec_left.min(m.in_buf.len()).min(CHUNK);
            self.lib.input.extend(m.in_buf.drain(..n));
            m.rec_left -= n;
            return true;
        }
        if m.in_buf.is_empty() && m.sock_eof && !m.eof_given {
            self.lib.eof = true;
            m.eof_given = true;
            return true;
        }
        false
    }

    /// Waits until the socket can take output (when there is some) or has
    /// input, and moves what it can.
    fn mem_wait_socket(&mut self, deadline: Instant) -> Result<(), Fail> {
        let fd = match self.fd() {
            Some(fd) => fd,
            None => return Ok(()),
        };
        let mut events = libc::POLLIN;
        if !self.mem.out.is_empty() {
            events |= libc::POLLOUT;
        }
        let revents = transport::wait_fd(fd, events, deadline)?;
        if revents & libc::POLLOUT != 0 {
            self.mem_pump_out()?;
        }
        if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
            self.mem_read_now()?;
        }
        Ok(())
    }

    /// want_read: gives the library its next piece, reading (and waiting
    /// for) the socket as needed. Ok(false): nothing can ever come (EOF
    /// already given, or the library has input it does not read).
    pub fn mem_feed(&mut self, deadline: Instant) -> Result<bool, Fail> {
        if !self.lib.input.is_empty() {
            return Ok(false);
        }
        loop {
            if self.mem_give_piece() {
                return Ok(true);
            }
            if self.mem.eof_given {
                return Ok(false);
            }
            self.mem_wait_socket(deadline)?;
        }
    }

    /// want_write: if the pump took anything from the library since the
    /// call, there is room: call again at once. Otherwise wait until the
    /// socket takes some. Nothing pending at all: no progress is possible.
    pub fn mem_drain(&mut self, deadline: Instant, took_any: bool) -> Result<bool, Fail> {
        let fd = self.fd();
        if took_any {
            return Ok(true);
        }
        let fd = match fd {
            Some(fd) if !self.mem.out.is_empty() && !self.mem.sock_reset => fd,
            _ => return Ok(false),
        };
        transport::wait_fd(fd, libc::POLLOUT, deadline)?;
        self.mem_pump_out()?;
        Ok(true)
    }

    /// Memory mode: sends everything the library has written, waiting for
    /// the socket within the deadline.
    pub fn mem_flush(&mut self, deadline: Instant) -> Result<(), Fail> {
        if self.io != Io::Memory {
            return Ok(());
        }
        loop {
            self.mem_pump_out()?;
            match self.fd() {
                Some(fd) if !self.mem.out.is_empty() => {
                    transport::wait_fd(fd, libc::POLLOUT, deadline)?;
                }
                _ => return Ok(()),
            }
        }
    }

}
