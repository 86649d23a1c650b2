"""Who this process is, in a form another process on the same machine can check for life.

Several bot processes may share one SQLite file on one machine (see README, "Growing"). A job row
left "queued" or "running" is either another live process's job or the leftover of a process that
died without finishing it. The id is hostname, pid and the process's start time, because pids are
reused: a pid alone could name a new, unrelated process after a restart (in a container the bot is
pid 1 every time). On Linux the start time comes from `/proc/<pid>/stat`; elsewhere the check falls
back to whether the pid exists.
"""

from __future__ import annotations

import functools
import os
import socket

__all__ = ["is_running", "this_process"]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), "" where unknown, None if no such pid."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[19].decode()  # field 22 of stat(5); fields[0] is field 3 (after the name)
    except FileNotFoundError:
        return None
    except (OSError, IndexError, UnicodeDecodeError):
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return ""
    return ""


@functools.cache
def this_process() -> str:
    """The id of this process for job rows: "<hostname>:<pid>:<start time>"."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid) or ''}"


def is_running(owner: str) -> bool | None:
    """Whether the process `owner` names is alive; None when it ran on another machine (cannot tell)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3:
        return False
    host, pid_text, started = parts
    if host != socket.gethostname():
        return None
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    now = _start_time(pid)
    if now is None:
        return False
    return not (now and started and now != started)
