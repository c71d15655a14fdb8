"""Writing output files so that no reader ever sees half of one.

A browser refreshing the report, a CI step uploading results.json or a
second run reading a baseline may look at the file at any moment: each file
is written next to its final name and renamed over it in one step.
"""
from __future__ import annotations

import os
import tempfile


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Writes data to path (mode 0644) through a temporary file and a rename."""
    path = os.fspath(path)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
