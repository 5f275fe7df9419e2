"""Atomic file writes, and file names as the file system has them.

Atomic writes: a temporary file in the target's folder, renamed over the target.

Temporary files are named `.chromatize-PID-XXXXXXXX.tmp` (short, whatever the target's name,
so a 255-character file name still fits). A run killed with SIGKILL cannot remove its own; the
next write into the same folder removes those whose process is gone.
"""
from __future__ import annotations

import codecs
import os
import tempfile
from pathlib import Path
from typing import Callable

TMP_PREFIX = ".chromatize-"
_swept: set[Path] = set()


ESCAPE = "chromatize.escape"


def _escape_undecodable(err: UnicodeError):
    """Codec error handler: a byte that was not UTF-8 in a file name (Python keeps it as a lone
    surrogate, U+DC80-U+DCFF) is written as \\xNN; anything else unencodable as \\uNNNN."""
    if not isinstance(err, UnicodeEncodeError):
        raise err
    chunk = err.object[err.start:err.end]
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if 0xDC80 <= ord(c) <= 0xDCFF else f"\\u{ord(c):04x}"
                   for c in chunk), err.end


codecs.register_error(ESCAPE, _escape_undecodable)


def printable(text: object) -> str:
    """A path or message fit for one line of a terminal: bytes of a file name that are not UTF-8
    as \\xNN (latin1_\\xe9.jpg), line breaks and other control characters as \\n, \\r, \\xNN."""
    text = str(text).encode("utf-8", ESCAPE).decode("utf-8")
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)


def name_bytes(name: str) -> int:
    """Length of a file name in bytes as the file system stores it (undecodable bytes kept)."""
    return len(os.fsencode(name))


def atomic_write(path: str | Path, write: Callable[[str], None], *, tmp_folder: Path | None = None) -> Path:
    """Call write(tmp_path), then rename tmp_path to `path`; nothing is left behind on failure.
    tmp_folder: where the temporary file goes (on the same file system; default: path's folder)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", suffix=".tmp", dir=tmp_folder or path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())             # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def sweep_stale(folder: Path) -> int:
    """Remove temporary files left in `folder` by runs that no longer exist (once per folder and
    process); returns how many were removed."""
    folder = folder.resolve()
    if folder in _swept:
        return 0
    _swept.add(folder)
    removed = 0
    for tmp in folder.glob(f"{TMP_PREFIX}*.tmp"):
        pid = tmp.name[len(TMP_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
