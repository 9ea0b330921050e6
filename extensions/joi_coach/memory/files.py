"""Removing a person's files so that their content is gone, not just unlinked.

A file is overwritten with zeros and flushed to the disk before it is removed, so its bytes
do not stay readable in the folder's free blocks on an ordinary filesystem. (Copy-on-write
filesystems and SSD wear levelling may still keep old blocks; encryption at rest is the
answer there.)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)
_CHUNK = 1 << 20


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new file in ``folder`` durable (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def overwrite(path: Path) -> None:
    """Overwrite a file's bytes with zeros in place and flush them to the disk."""
    try:
        with open(path, "r+b") as out:
            size = os.fstat(out.fileno()).st_size
            done = 0
            while done < size:
                step = min(_CHUNK, size - done)
                out.write(b"\0" * step)
                done += step
            out.flush()
            os.fsync(out.fileno())
    except FileNotFoundError:
        return


def shred(path: Path) -> None:
    """Overwrite a file with zeros, then remove it (a missing file is fine)."""
    path = Path(path)
    overwrite(path)
    path.unlink(missing_ok=True)


def erase_exports(folder: Path) -> int:
    """Shred every file under a folder of exports Joi wrote, and the empty folders below it.

    The folder itself stays. Returns the number of files removed. The memory tab calls this
    after a forget, so no export written before it still holds the forgotten words.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    count = 0
    for path in sorted(folder.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        try:
            if path.is_file() and not path.is_symlink():
                shred(path)
                count += 1
            elif path.is_symlink():
                path.unlink(missing_ok=True)
            elif path.is_dir():
                path.rmdir()
        except OSError as exc:  # another process may be reading it; the next forget retries
            log.warning("could not remove an export file (%s)", type(exc).__name__)
    return count
