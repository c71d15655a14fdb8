//! Markers between the shim and the mock peer (docs/shim-protocol.md §2
//! signal_peer / wait_peer): one line "NAME\n" per marker on the
//! --marker-out / --marker-in pipes, or in the persistent mode in-band, a
//! line {"marker": "NAME"} on stdout and on stdin.
//!
//! Needs: the pipe descriptors, or the serve loop's stdin reader. Gives:
//! `Markers::signal` and `Markers::wait`, which reads the next line before
//! the deadline and compares it. Never: blocks past the deadline.

use std::io;
use std::time::Instant;

use crate::json;
use crate::output::{Exit, Out};
use crate::transport::{self, Fail};

/// Lines from a descriptor (a pipe or stdin), read with poll so that a
/// deadline holds, kept in a buffer of our own so nothing is read twice.
pub struct LineReader {
    fd: i32,
    buf: Vec<u8>,
    eof: bool,
}

const MAX_LINE: usize = 64 * 1024 * 1024;

impl LineReader {
    pub fn new(fd: i32) -> Self {
        LineReader { fd, buf: Vec::new(), eof: false }
    }

    /// The next line without its newline; Ok(None) at EOF. A deadline of
    /// None waits as long as it takes (the serve loop between cells).
    pub fn read_line(&mut self, deadline: Option<Instant>) -> Result<Option<String>, Fail> {
        loop {
            if let Some(i) = self.buf.iter().position(|&c| c == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).take(i).collect();
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.eof {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                let line = std::mem::take(&mut self.buf);
                return Ok(Some(String::from_utf8_lossy(&line).into_owned()));
            }
            if self.buf.len() > MAX_LINE {
                return Err(Fail::Sys("line too long".into()));
            }
            if let Some(d) = deadline {
                transport::wait_fd(self.fd, libc::POLLIN, d)?;
            }
            let mut chunk = [0u8; 65536];
            // SAFETY: read into a stack buffer of that size.
            let n = unsafe { libc::read(self.fd, chunk.as_mut_ptr() as *mut libc::c_void, chunk.len()) };
            if n > 0 {
                self.buf.extend_from_slice(&chunk[..n as usize]);
            } else if n == 0 {
                self.eof = true;
            } else {
                let e = io::Error::last_os_error();
                if !matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock) {
                    return Err(Fail::Sys(format!("read: {}", e)));
                }
            }
        }
    }
}

pub enum Markers<'a> {
    Pipes { input: Option<LineReader>, output: Option<i32> },
    InBand { stdin: &'a mut LineReader },
}

impl<'a> Markers<'a> {
    pub fn pipes(marker_in: Option<i32>, marker_out: Option<i32>) -> Self {
        Markers::Pipes { input: marker_in.map(LineReader::new), output: marker_out }
    }

    pub fn signal(&mut self, out: &Out, name: &str) -> Result<(), Exit> {
        match self {
            Markers::InBand { .. } => {
                out.marker(name);
                Ok(())
            }
            Markers::Pipes { output: None, .. } => Err(Exit::usage(format!(
                "marker '{}': no marker pipe to write to (--marker-out)", name))),
            Markers::Pipes { output: Some(fd), .. } => {
                let line = format!("{}\n", name);
                // SAFETY: write from a live buffer; a marker line is far below PIPE_BUF.
                let n = unsafe { libc::write(*fd, line.as_ptr() as *const libc::c_void, line.len()) };
                if n != line.len() as isize {
                    return Err(Exit::failure(format!("marker write: {}", io::Error::last_os_error())));
                }
                Ok(())
            }
        }
    }

    /// Ok(true): the marker came; Ok(false): the deadline passed.
    pub fn wait(&mut self, name: &str, deadline: Instant) -> Result<bool, Exit> {
        let (reader, in_band) = match self {
            Markers::InBand { stdin } => (&mut **stdin, true),
            Markers::Pipes { input: Some(r), .. } => (r, false),
            Markers::Pipes { input: None, .. } => {
                return Err(Exit::usage(format!(
                    "marker '{}': no marker pipe to read from (--marker-in)", name)))
            }
        };
        let line = match reader.read_line(Some(deadline)) {
            Err(Fail::Timeout) => return Ok(false),
            Err(f) => return Err(Exit::failure(format!("marker read: {:?}", f))),
            Ok(None) if in_band => {
                return Err(Exit::failure(format!("marker '{}': marker channel closed", name)))
            }
            Ok(None) => {
                return Err(Exit::failure(format!(
                    "marker '{}': the other side closed its marker pipe", name)))
            }
            Ok(Some(line)) => line,
        };
        let got = if in_band {
            json::parse(&line).ok().and_then(|v| v.get("marker").and_then(|m| m.as_str().map(String::from)))
        } else {
            Some(line.clone())
        };
        match got {
            Some(g) if g == name => Ok(true),
            Some(g) => Err(Exit::failure(format!("expected marker '{}', got '{}'", name, g))),
            None => Err(Exit::failure(format!("expected marker '{}', got the line {}", name, line))),
        }
    }
}
