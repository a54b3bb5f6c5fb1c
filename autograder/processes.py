"""Processes and files the sandbox leaves behind, judge side: finding and killing every process
of the sandbox user (as root) or every descendant of the judge (not root), and removing what the
sandbox user wrote outside its own folder. Linux ``/proc`` and ``prctl``."""
from __future__ import annotations

import ctypes
import os
import signal
import time
from pathlib import Path

PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36
SHARED_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")


def _states(pid: str) -> list[str]:
    """The state letter of every thread of ``pid``: a thread-group leader that exited while
    its other threads run shows "Z" itself, but its tasks do not."""
    states = []
    for task in os.listdir(f"/proc/{pid}/task"):
        stat = Path(f"/proc/{pid}/task/{task}/stat").read_text()
        states.append(stat.rsplit(")", 1)[1].split()[0])
    return states


def live_processes(uid: int) -> list[int]:
    """Every process of ``uid`` with a thread still running (zombie leaders included)."""
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid != uid:
                    continue
                if any(s not in ("Z", "X") for s in _states(entry)):
                    pids.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, NotADirectoryError):
                continue
    return pids


def kill_user_processes(uid: int, timeout: float = 5.0) -> None:
    """SIGKILL every process of ``uid`` (a daemon the student forked included) and wait until
    none is alive, rescanning so one forked between scan and kill is caught too."""
    deadline = time.monotonic() + timeout
    while (pids := live_processes(uid)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)


def harden_judge() -> str:
    """Not root: the worker runs as the judge's own user, so the judge makes itself undumpable
    (no /proc/<judge>/mem, environ or ptrace for same-user processes) and a child subreaper (a
    worker's daemon, orphaned, becomes the judge's child and can be found and killed)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        done = [name for option, name in ((PR_SET_DUMPABLE, "undumpable"),
                                          (PR_SET_CHILD_SUBREAPER, "subreaper"))
                if libc.prctl(option, 0 if option == PR_SET_DUMPABLE else 1, 0, 0, 0) == 0]
        return " and ".join(done)
    except (OSError, AttributeError):
        return ""


def _children(ppid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) == ppid:
                out.append(int(entry))
    return out


def kill_orphans(keep: set[int], timeout: float = 5.0) -> None:
    """Not root: SIGKILL the judge's children that are not ``keep`` (its live workers): with the
    judge a subreaper, every orphaned descendant of a worker ends up among them. Reaped here."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        strays = [pid for pid in _children(os.getpid()) if pid not in keep]
        if not strays:
            return
        for pid in strays:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, os.WNOHANG)
            except (ProcessLookupError, ChildProcessError, PermissionError):
                pass
        time.sleep(0.01)


def remove_files_of(uid: int, places=SHARED_WRITABLE) -> int:
    """Delete what ``uid`` left in the shared writable folders (as root, after grading); how many."""
    removed = 0
    for place in places:
        for root, dirs, files in os.walk(place, topdown=False):
            for name in files + dirs:
                path = os.path.join(root, name)
                try:
                    if os.lstat(path).st_uid == uid:
                        (os.rmdir if os.path.isdir(path) and not os.path.islink(path)
                         else os.unlink)(path)
                        removed += 1
                except OSError:
                    pass
    return removed
