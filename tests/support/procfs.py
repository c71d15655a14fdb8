"""Processes and sockets seen through /proc: what a test checks is left
behind (a process, a listening socket) once a run has ended. Linux only,
read-only, no guessing."""
from __future__ import annotations

import os
import re
from pathlib import Path


def processes_with(token: str) -> list[int]:
    """Live processes (not zombies) whose command line contains token."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if token.encode() in cmd and state != "Z":
            found.append(int(entry))
    return found


def pids_with_env(tag: str) -> set[int]:
    """Processes whose environment holds TAG (every child of a tagged run
    inherits it)."""
    found = set()
    needle = tag.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                if needle in f.read():
                    found.add(int(entry))
        except OSError:
            continue
    return found


def socket_inodes(pid: int) -> set[int]:
    """The inodes of the sockets process pid holds open."""
    out = set()
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            m = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            continue
        if m:
            out.add(int(m.group(1)))
    return out


def _listening(tables=("/proc/net/tcp", "/proc/net/tcp6")) -> list[tuple[int, int]]:
    """(port, inode) of every TCP socket in LISTEN state (state 0A)."""
    out = []
    for table in tables:
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if len(cols) > 9 and cols[3] == "0A":
                out.append((int(cols[1].rsplit(":", 1)[1], 16), int(cols[9])))
    return out


def listening_inodes() -> set[int]:
    return {inode for _, inode in _listening()}


def listening_ports(pid: int) -> list[int]:
    """The IPv4 TCP ports process pid listens on."""
    mine = socket_inodes(pid)
    return [port for port, inode in _listening(("/proc/net/tcp",)) if inode in mine]


def port_listened(port: int) -> bool:
    return any(p == port for p, _ in _listening())
