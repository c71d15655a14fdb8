//! The command line (docs/shim-protocol.md §1), per process and per cell of
//! the persistent mode (the request's `args`).
//!
//! Needs: the arguments without the program name. Gives: `parse`, which
//! returns the arguments or a usage message (exit 2) naming the argument,
//! with the C runner's wording. Never: opens a file or a descriptor.

pub const DEFAULT_DEADLINE_MS: u64 = 10000;
const MAX_DEADLINE_MS: u64 = 3600000;
pub const MAX_CONNECTIONS: usize = 4;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Io {
    Blocking,
    Nonblocking,
    Memory,
}

impl Io {
    pub fn name(self) -> &'static str {
        match self {
            Io::Blocking => "blocking",
            Io::Nonblocking => "nonblocking",
            Io::Memory => "memory",
        }
    }
}

/// Which command line: a process of its own, or one cell of `--serve`,
/// whose script, sockets and markers come through the request and stdin.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Process,
    Cell,
}

#[derive(Clone, Debug, Default)]
pub struct Args {
    pub server: bool,
    pub tls13: bool,
    pub io: Option<Io>,
    pub fds: Vec<i32>,
    pub connect: Option<String>,
    pub cert: Option<String>,
    pub key: Option<String>,
    pub script: Option<String>,
    pub marker_in: Option<i32>,
    pub marker_out: Option<i32>,
    pub deadline_ms: u64,
    pub cipher: Option<String>,
    pub session_in: Option<String>,
    pub session_out: Option<String>,
}

impl Args {
    pub fn role(&self) -> &'static str {
        if self.server {
            "server"
        } else {
            "client"
        }
    }
    pub fn tls(&self) -> &'static str {
        if self.tls13 {
            "1.3"
        } else {
            "1.2"
        }
    }
    pub fn io(&self) -> Io {
        self.io.unwrap_or(Io::Blocking)
    }
}

pub enum Parsed {
    Version,
    Serve,
    Run(Args),
}

const OPTIONS: &[&str] = &[
    "--role", "--tls", "--io", "--fd", "--connect", "--cert", "--key", "--script",
    "--marker-out", "--marker-in", "--deadline-ms", "--cipher", "--session-in", "--session-out",
];

/// Options the persistent mode leaves out of a cell's `args`: the script
/// comes inline, the connection through --connect, markers in-band.
const NOT_IN_CELL: &[&str] = &["--script", "--fd", "--marker-in", "--marker-out"];

fn choice<'a>(opt: &str, val: &str, names: &[&'a str]) -> Result<&'a str, String> {
    names
        .iter()
        .find(|n| **n == val)
        .copied()
        .ok_or_else(|| format!("{}: '{}' is not one of the accepted values", opt, val))
}

fn int(opt: &str, val: &str, min: u64, max: u64) -> Result<u64, String> {
    match val.parse::<u64>() {
        Ok(v) if v >= min && v <= max && !val.starts_with('+') => Ok(v),
        _ => Err(format!("{}: '{}' is not an integer in {}..{}", opt, val, min, max)),
    }
}

fn fds(val: &str) -> Result<Vec<i32>, String> {
    if val.is_empty() {
        return Err("--fd: empty list".to_string());
    }
    let mut out = Vec::new();
    for part in val.split(',') {
        match part.parse::<i32>() {
            Ok(fd) if fd >= 0 && !part.starts_with('+') => out.push(fd),
            _ => {
                return Err(format!("--fd: '{}' is not a comma-separated list of descriptors", val))
            }
        }
        if out.len() > MAX_CONNECTIONS {
            return Err(format!("--fd: at most {} descriptors", MAX_CONNECTIONS));
        }
    }
    Ok(out)
}

fn set(a: &mut Args, opt: &str, val: &str, role_seen: &mut bool) -> Result<(), String> {
    match opt {
        "--role" => {
            a.server = choice(opt, val, &["client", "server"])? == "server";
            *role_seen = true;
        }
        "--tls" => a.tls13 = choice(opt, val, &["1.2", "1.3"])? == "1.3",
        "--io" => {
            a.io = Some(match choice(opt, val, &["blocking", "nonblocking", "memory"])? {
                "blocking" => Io::Blocking,
                "nonblocking" => Io::Nonblocking,
                _ => Io::Memory,
            })
        }
        "--fd" => a.fds = fds(val)?,
        "--connect" => a.connect = Some(val.to_string()),
        "--cert" => a.cert = Some(val.to_string()),
        "--key" => a.key = Some(val.to_string()),
        "--script" => a.script = Some(val.to_string()),
        "--cipher" => a.cipher = Some(val.to_string()),
        "--session-in" => a.session_in = Some(val.to_string()),
        "--session-out" => a.session_out = Some(val.to_string()),
        "--marker-in" => a.marker_in = Some(int(opt, val, 0, 65535)? as i32),
        "--marker-out" => a.marker_out = Some(int(opt, val, 0, 65535)? as i32),
        _ => a.deadline_ms = int(opt, val, 1, MAX_DEADLINE_MS)?,
    }
    Ok(())
}

/// Required arguments are checked after the loop so that the message names
/// the first one missing, whatever order the others came in.
fn check_complete(a: &Args, role_seen: bool, tls_seen: bool, mode: Mode) -> Result<(), String> {
    if !role_seen {
        return Err("--role is required (client or server)".into());
    }
    if !tls_seen {
        return Err("--tls is required (1.2 or 1.3)".into());
    }
    if a.io.is_none() {
        return Err("--io is required (blocking, nonblocking or memory)".into());
    }
    if mode == Mode::Cell && a.connect.is_none() {
        return Err("--connect is required in serve mode".into());
    }
    if a.fds.is_empty() && a.connect.is_none() {
        return Err("one of --fd or --connect is required".into());
    }
    if !a.fds.is_empty() && a.connect.is_some() {
        return Err("--fd and --connect exclude each other".into());
    }
    if mode == Mode::Process && a.script.is_none() {
        return Err("--script is required".into());
    }
    if a.cert.is_none() || a.key.is_none() {
        return Err("--cert and --key are required".into());
    }
    Ok(())
}

pub fn parse(argv: &[String], mode: Mode) -> Result<Parsed, String> {
    if mode == Mode::Process && argv.len() == 1 && argv[0] == "--version" {
        return Ok(Parsed::Version);
    }
    if mode == Mode::Process && argv.len() == 1 && argv[0] == "--serve" {
        return Ok(Parsed::Serve);
    }
    let mut a = Args { deadline_ms: DEFAULT_DEADLINE_MS, ..Args::default() };
    let mut tls_seen = false;
    let mut role_seen = false;
    let mut i = 0;
    while i < argv.len() {
        let opt = argv[i].as_str();
        if !OPTIONS.contains(&opt) {
            return Err(format!("unknown argument '{}'", opt));
        }
        if mode == Mode::Cell && NOT_IN_CELL.contains(&opt) {
            return Err(format!("{} is not a serve-mode argument (it comes with the request)", opt));
        }
        let val = argv.get(i + 1).ok_or_else(|| format!("{} needs a value", opt))?;
        set(&mut a, opt, val, &mut role_seen)?;
        tls_seen |= opt == "--tls";
        i += 2;
    }
    check_complete(&a, role_seen, tls_seen, mode)?;
    Ok(Parsed::Run(a))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &str) -> Vec<String> {
        args.split_whitespace().map(String::from).collect()
    }

    fn err(args: &str, mode: Mode) -> String {
        match parse(&v(args), mode) {
            Err(e) => e,
            Ok(_) => panic!("accepted: {}", args),
        }
    }

    #[test]
    fn messages_name_the_argument() {
        let base = "--role client --tls 1.3 --io memory --fd 3 --cert c --key k";
        assert_eq!(err("--bogus 1", Mode::Process), "unknown argument '--bogus'");
        assert_eq!(err("--role", Mode::Process), "--role needs a value");
        assert_eq!(err(base, Mode::Process), "--script is required");
        assert_eq!(err("--role client --io memory", Mode::Process), "--tls is required (1.2 or 1.3)");
        assert_eq!(err(&format!("{} --script s --connect h:1", base), Mode::Process),
                   "--fd and --connect exclude each other");
        assert_eq!(err("--fd 1,2,3,4,5", Mode::Process), "--fd: at most 4 descriptors");
        assert_eq!(err(&format!("{} --script s", base), Mode::Cell),
                   "--fd is not a serve-mode argument (it comes with the request)");
        assert_eq!(err("--deadline-ms 0", Mode::Process),
                   "--deadline-ms: '0' is not an integer in 1..3600000");
    }

    #[test]
    fn a_cell_needs_connect_and_no_script() {
        let cell = "--role server --tls 1.2 --io blocking --connect 127.0.0.1:9 --cert c --key k";
        match parse(&v(cell), Mode::Cell) {
            Ok(Parsed::Run(a)) => assert!(a.server && !a.tls13 && a.script.is_none()),
            _ => panic!("a cell's args"),
        }
    }
}
