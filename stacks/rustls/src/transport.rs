//! TCP plumbing: inherited or connected sockets, waits with deadlines, the
//! graceful close, and what the kernel says about a socket's queues.
//!
//! Needs: Linux (TCP_INFO, SO_MEMINFO, SIOCINQ/SIOCOUTQ). Gives: the helpers
//! the runner uses around rustls. Never: sleeps or waits past a deadline
//! (every wait is a poll with the time left); never closes a socket with
//! unread bytes without draining first, so a FIN stays a FIN.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream, ToSocketAddrs};
use std::os::unix::io::{AsRawFd, FromRawFd, RawFd};
use std::time::{Duration, Instant};

use crate::output::Exit;

#[derive(Debug, PartialEq, Eq)]
pub enum Fail {
    Timeout,
    Reset,
    Eof,
    Sys(String),
}

pub fn ms_left(deadline: Instant) -> i32 {
    let left = deadline.saturating_duration_since(Instant::now());
    let ms = left.as_millis() + if left.subsec_nanos() % 1_000_000 > 0 { 1 } else { 0 };
    ms.min(i32::MAX as u128) as i32
}

pub fn expired(deadline: Instant) -> bool {
    Instant::now() >= deadline
}

/// An inherited descriptor; it must be a TCP socket.
pub fn adopt_fd(fd: RawFd) -> Result<TcpStream, Exit> {
    let mut ty: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: a plain getsockopt into a local int.
    let rc = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_TYPE, &mut ty as *mut _ as *mut libc::c_void, &mut len)
    };
    if rc != 0 || ty != libc::SOCK_STREAM {
        return Err(Exit::failure(format!("descriptor {} is not a stream socket", fd)));
    }
    // SAFETY: the harness gave us this descriptor to own.
    Ok(unsafe { TcpStream::from_raw_fd(fd) })
}

pub fn connect(spec: &str, deadline: Instant) -> Result<TcpStream, Exit> {
    let bad = || Exit::usage(format!("--connect: '{}' is not HOST:PORT", spec));
    let (host, port) = spec.rsplit_once(':').ok_or_else(bad)?;
    let port: u16 = port.parse().map_err(|_| bad())?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| Exit::usage(format!("--connect {}: {}", spec, e)))?
        .next()
        .ok_or_else(|| Exit::failure(format!("--connect {}: no address", spec)))?;
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    let s = TcpStream::connect_timeout(&addr, left).map_err(|e| Exit::failure(format!("connect: {}", e)))?;
    s.set_nodelay(true).map_err(|e| Exit::failure(format!("TCP_NODELAY: {}", e)))?;
    Ok(s)
}

/// Waits until fd is readable (POLLIN) or writable (POLLOUT); Ok(revents).
pub fn wait_fd(fd: RawFd, events: libc::c_short, deadline: Instant) -> Result<libc::c_short, Fail> {
    loop {
        let mut p = libc::pollfd { fd, events, revents: 0 };
        // SAFETY: one pollfd on the stack.
        let n = unsafe { libc::poll(&mut p, 1, ms_left(deadline)) };
        if n > 0 {
            return Ok(p.revents);
        }
        if n == 0 {
            return Err(Fail::Timeout);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(Fail::Sys(format!("poll: {}", e)));
        }
    }
}

/// A blocking call must come back by the deadline: the kernel timeouts
/// make a blocked recv/send fail with EAGAIN (WouldBlock). Zero would mean
/// no timeout, hence the 1 ms floor.
pub fn set_timeouts(s: &TcpStream, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
    s.set_read_timeout(Some(left))?;
    s.set_write_timeout(Some(left))
}

pub fn is_reset(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe)
}

/// Graceful close: FIN, then read and discard until the other side's EOF or
/// the deadline, then close. Returns the bytes drained and how it ended.
pub fn close_graceful(s: TcpStream, deadline: Instant) -> (usize, Result<(), Fail>) {
    if let Err(e) = s.shutdown(Shutdown::Write) {
        let reset = is_reset(&e) || e.raw_os_error() == Some(libc::ENOTCONN);
        return (0, if reset { Err(Fail::Reset) } else { Ok(()) });
    }
    let _ = s.set_nonblocking(true);
    let mut drained = 0;
    let mut buf = [0u8; 16384];
    loop {
        match (&s).read(&mut buf) {
            Ok(0) => return (drained, Ok(())),
            Ok(n) => drained += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if let Err(f) = wait_fd(s.as_raw_fd(), libc::POLLIN, deadline) {
                    return (drained, Err(f));
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if is_reset(&e) => return (drained, Err(Fail::Reset)),
            Err(e) => return (drained, Err(Fail::Sys(format!("recv: {}", e)))),
        }
    }
}

// ---- what the kernel says ----------------------------------------------------

/// Bytes in a socket queue (SIOCOUTQ: the send queue), -1 on error.
pub fn queued(fd: RawFd, request: libc::Ioctl) -> i32 {
    let mut n: libc::c_int = 0;
    // SAFETY: the ioctl writes one int.
    let rc = unsafe { libc::ioctl(fd, request, &mut n as *mut libc::c_int) };
    if rc == 0 {
        n
    } else {
        -1
    }
}

pub const SIOCOUTQ: libc::Ioctl = libc::TIOCOUTQ;

pub fn writable_now(fd: RawFd) -> bool {
    let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
    // SAFETY: one pollfd, no wait.
    unsafe { libc::poll(&mut p, 1, 0) == 1 && (p.revents & libc::POLLOUT) != 0 }
}

/// Segments in flight and every byte the kernel ever took (acknowledged
/// plus still queued), from struct tcp_info: tcpi_unacked is the u32 at
/// byte 24, tcpi_bytes_acked the u64 at byte 120 (linux/tcp.h; libc 0.2.139
/// has no tcp_info for Linux).
pub fn tcp_in_flight(fd: RawFd) -> Result<(u32, u64), Fail> {
    let mut buf = [0u8; 256];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: the kernel writes at most len bytes into buf.
    let rc = unsafe {
        libc::getsockopt(fd, libc::IPPROTO_TCP, libc::TCP_INFO, buf.as_mut_ptr() as *mut libc::c_void, &mut len)
    };
    if rc != 0 || (len as usize) < 128 {
        return Err(Fail::Sys(format!("TCP_INFO: {}", io::Error::last_os_error())));
    }
    let mut u32b = [0u8; 4];
    u32b.copy_from_slice(&buf[24..28]);
    let mut u64b = [0u8; 8];
    u64b.copy_from_slice(&buf[120..128]);
    let outq = queued(fd, SIOCOUTQ).max(0) as u64;
    Ok((u32::from_ne_bytes(u32b), u64::from_ne_bytes(u64b) + outq))
}

/// The kernel refuses more (sk_wmem_queued >= sk_sndbuf): what makes send()
/// fail with EAGAIN.
pub fn send_buffer_full(fd: RawFd) -> bool {
    let mut mem = [0u32; 16];
    let mut len = std::mem::size_of_val(&mem) as libc::socklen_t;
    // SAFETY: the kernel writes at most len bytes into mem.
    let rc = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_MEMINFO, mem.as_mut_ptr() as *mut libc::c_void, &mut len)
    };
    let wmem_queued = 5; // SK_MEMINFO_WMEM_QUEUED
    if rc != 0 || (len as usize) < 4 * (wmem_queued + 1) {
        return !writable_now(fd);
    }
    mem[wmem_queued] >= mem[libc::SK_MEMINFO_SNDBUF as usize]
}

/// How often an in-flight check is repeated while nothing wakes poll.
const SETTLE_TICK_MS: i32 = 2;

/// Waits until nothing is in flight (the kernel has no event for it, so
/// POLLOUT or a short tick re-checks it, within the deadline).
pub fn wait_nothing_in_flight(fd: RawFd, deadline: Instant) -> Result<u64, Fail> {
    loop {
        let (segments, accepted) = tcp_in_flight(fd)?;
        if segments == 0 {
            return Ok(accepted);
        }
        let left = ms_left(deadline);
        if left == 0 {
            return Err(Fail::Timeout);
        }
        let mut p = libc::pollfd { fd, events: libc::POLLOUT, revents: 0 };
        // SAFETY: one pollfd on the stack.
        let n = unsafe { libc::poll(&mut p, 1, left.min(SETTLE_TICK_MS)) };
        if n == 1 && (p.revents & libc::POLLOUT) != 0 {
            return tcp_in_flight(fd).map(|(_, a)| a);
        }
    }
}

// ---- the bare socket (plaintext steps) ------------------------------------------

/// Writes all of data on the bare socket before the deadline.
pub fn write_all(s: &std::net::TcpStream, mut data: &[u8], deadline: Instant) -> Result<(), Fail> {
    while !data.is_empty() {
        match (&*s).write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                wait_fd(s.as_raw_fd(), libc::POLLOUT, deadline)?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if is_reset(&e) => return Err(Fail::Reset),
            Err(e) => return Err(Fail::Sys(format!("send: {}", e))),
        }
    }
    Ok(())
}

/// Reads until got holds want bytes: Err(Eof) when the peer ends first.
pub fn read_exact(s: &std::net::TcpStream, got: &mut Vec<u8>, want: usize, deadline: Instant) -> Result<(), Fail> {
    let mut buf = vec![0u8; want];
    while got.len() < want {
        wait_fd(s.as_raw_fd(), libc::POLLIN, deadline)?;
        match (&*s).read(&mut buf[..want - got.len()]) {
            Ok(0) => return Err(Fail::Eof),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return Err(Fail::Reset),
            Err(e) => return Err(Fail::Sys(format!("recv: {}", e))),
        }
    }
    Ok(())
}
