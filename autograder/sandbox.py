"""Runs the worker (``autograder/worker.py``) in a sandbox and talks to it.

As root (Gradescope, CI): the worker runs as an unprivileged user (created if missing) in a fresh
0700 directory it owns, holding only the student module and a copy of the worker script; the
grader's own code (``reference/``, ``autograder/``) is made unreadable to it. Not root (a TA's
laptop): the same code path without the user switch, and a warning that isolation is reduced.
Everywhere: rlimits, seccomp where available, a scrubbed environment, stdin from /dev/null,
student output to a capped log file the judge owns, a timeout per request.
"""
from __future__ import annotations

import fcntl
import json
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from safetensors.torch import load, save

from . import worker as wire

SANDBOX_USER = os.environ.get("RNNGRADE_SANDBOX_USER", "rnngrade-sandbox")
GiB = 1 << 30
LIMITS = {  # rlimits the worker sets on itself before any student code runs
    "RLIMIT_AS": 6 * GiB,  # torch alone maps about 4 GB of address space
    "RLIMIT_CPU": 600,  # seconds of CPU over the worker's life
    "RLIMIT_FSIZE": 8 << 20,  # bytes in any file it writes (its output log included)
    "RLIMIT_NOFILE": 256,
    "RLIMIT_CORE": 0,
}
NPROC_AS_SANDBOX_USER = 256  # only as root: counts every process and thread of the sandbox user
OUTPUT_LIMIT = 2000  # characters of student output shown


class WorkerFailed(Exception):
    """The worker died, timed out or broke the protocol; ``reason`` is written for the student."""

    def __init__(self, reason: str, timed_out: bool = False):
        super().__init__(reason)
        self.reason, self.timed_out = reason, timed_out


@dataclass
class Isolation:
    user: str | None  # the unprivileged user, or None when not root
    seccomp: str = "not started"

    def describe(self) -> str:
        who = f"as user {self.user}" if self.user else "as the grading user (not root: reduced)"
        return f"sandbox: {who}; seccomp {self.seccomp}"


USER_SLOTS = 16  # graders that may run side by side as root, each with its own sandbox user
LOCK_DIR = Path(tempfile.gettempdir()) / "rnngrade-sandbox-locks"


def claim_user() -> tuple[pwd.struct_passwd, int]:
    """A sandbox user no other grader on this machine is using, and the lock that holds it.

    Killing "every process of the sandbox user" is only safe if the user is ours alone: two
    graders sharing one would kill each other's workers."""
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    attempts = [(slot, fcntl.LOCK_NB) for slot in range(USER_SLOTS)] + [(0, 0)]  # then wait
    for slot, nonblocking in attempts:
        name = SANDBOX_USER if slot == 0 else f"{SANDBOX_USER}{slot}"
        fd = os.open(LOCK_DIR / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | nonblocking)
        except BlockingIOError:
            os.close(fd)
            continue
        return ensure_user(name), fd
    raise RuntimeError("unreachable")


def ensure_user(name: str = SANDBOX_USER) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent",
                        "--shell", "/usr/sbin/nologin", name], check=True, capture_output=True)
        return pwd.getpwnam(name)


def _live_processes(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid != uid:
                    continue
                state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                continue
            if state not in ("Z", "X"):  # a zombie is dead already, waiting to be reaped
                pids.append(int(entry))
    return pids


def kill_user_processes(uid: int, timeout: float = 5.0) -> None:
    """SIGKILL every process of ``uid`` (a daemon the student forked included) and wait until
    none is alive, rescanning so one forked between scan and kill is caught too."""
    deadline = time.monotonic() + timeout
    while (pids := _live_processes(uid)) and time.monotonic() < deadline:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)


def lock_down(paths: list[Path]) -> None:
    """Make the grader's own code and data unreadable to other users (root only)."""
    for path in paths:
        if path.exists():
            path.chmod(path.stat().st_mode & ~(stat.S_IRWXG | stat.S_IRWXO))


def check_executable_by_others(python: str) -> None:
    """The worker's Python must be reachable by the sandbox user (not inside /root)."""
    path = Path(python).absolute()
    for parent in [*reversed(path.parents)]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            raise RuntimeError(
                f"the sandbox user cannot reach {path}: {parent} is not executable by others. "
                "Grade from the virtual environment made by scripts/setup.sh (as root it lives in "
                "/opt/rnngrade/venv), or set RNNGRADE_WORKER_PYTHON to a world-readable Python.")


class Sandbox:
    """One worker at a time over one student module; restarted fresh after any failure."""

    def __init__(self, module_source: str, *, threads: int = 1, python: str | None = None):
        self.module_source, self.threads = module_source, threads
        self.python = python or os.environ.get("RNNGRADE_WORKER_PYTHON") or sys.executable
        self.root = os.geteuid() == 0
        self.isolation = Isolation(user=SANDBOX_USER if self.root else None)
        self.private = Path(tempfile.mkdtemp(prefix="rnngrade-judge-"))  # 0700, judge only
        self.proc: subprocess.Popen | None = None
        self.hello: dict = {}
        self.final_output = ""
        self.starts = 0
        self.lock_fd: int | None = None
        if self.root:
            self.pw, self.lock_fd = claim_user()
            self.isolation.user = self.pw.pw_name
            check_executable_by_others(self.python)
            here = Path(__file__).resolve().parent
            lock_down([here, here.parent / "reference"])

    # -- life cycle --------------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> dict:
        """Start a fresh worker in a fresh directory; return its hello (names or import error)."""
        self.stop()
        self.starts += 1
        work = Path(tempfile.mkdtemp(prefix="rnngrade-sbx-"))
        (work / wire.STUDENT_FILE).write_text(self.module_source)
        shutil.copy(Path(wire.__file__), work / "worker.py")
        self.work, self.log_path = work, self.private / f"output-{self.starts}.log"
        log = open(self.log_path, "wb")
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        config = {"request_fd": req_r, "reply_fd": rep_w, "limits": dict(LIMITS),
                  "threads": self.threads}
        kwargs = {}
        if self.root:
            config["limits"]["RLIMIT_NPROC"] = NPROC_AS_SANDBOX_USER
            for p in [work, *work.iterdir()]:
                os.chown(p, self.pw.pw_uid, self.pw.pw_gid)
            kwargs = dict(user=self.pw.pw_uid, group=self.pw.pw_gid, extra_groups=[])
        work.chmod(0o700)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
        try:
            self.proc = subprocess.Popen(
                [self.python, "-I", "worker.py", json.dumps(config)], cwd=work, env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, pass_fds=(req_r, rep_w),
                start_new_session=True, **kwargs)
        finally:
            os.close(req_r), os.close(rep_w), log.close()
        self.req_w, self.rep_r = req_w, rep_r
        try:
            self.hello, _ = self._receive(time.monotonic() + timeout)
        except WorkerFailed as e:
            self.hello = {"ok": False, "crashed": True, "error": {"type": "WorkerFailed", "message":
                f"{e.reason.replace('while being graded', 'while being imported')}, so no part "
                "could be graded. Remove calls such as sys.exit(), os._exit() or exit() and code "
                "that runs when a class is defined"}}
            self.stop()
        self.isolation.seccomp = self.hello.get("seccomp", self.isolation.seccomp)
        return self.hello

    def stop(self) -> None:
        """Kill the worker and every process of the sandbox (its session, or its user as root)."""
        if self.proc is None:
            return
        for fd in (self.req_w, self.rep_r):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.root:
            kill_user_processes(self.pw.pw_uid)
        self.proc.wait()
        self.proc = None
        shutil.rmtree(self.work, ignore_errors=True)

    def close(self) -> None:
        """Kill every worker, then keep what they printed in ``final_output``."""
        self.stop()
        self.final_output = self.output()
        shutil.rmtree(self.private, ignore_errors=True)
        if self.lock_fd is not None:  # the sandbox user is free for another grader
            os.close(self.lock_fd)
            self.lock_fd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- requests ----------------------------------------------------------------------------
    def request(self, header: dict, tensors: dict, timeout: float) -> tuple[dict, dict]:
        """Send one request; return the reply header and tensors. Raises WorkerFailed after
        killing the worker (the caller may ``start()`` a fresh one)."""
        if self.proc is None:
            self.start()
            if self.proc is None:
                raise WorkerFailed(self.hello["error"]["message"])
        payload = save({k: v.contiguous() for k, v in tensors.items()}) if tensors else b""
        deadline = time.monotonic() + timeout
        try:
            wire.write_frame(self.req_w, header, payload, deadline)
        except (OSError, TimeoutError):
            self.stop()
            raise WorkerFailed("your code stopped answering the grader (it exited, crashed or "
                               "hung); the worker was restarted for the other parts") from None
        reply, blob = self._receive(deadline)
        return reply, (dict(load(blob)) if blob else {})

    def _receive(self, deadline: float) -> tuple[dict, bytes]:
        try:
            return wire.read_frame(self.rep_r, deadline)
        except TimeoutError:
            self.stop()
            raise WorkerFailed("timed out (an infinite loop, or far too slow); the worker was "
                               "stopped and restarted for the other parts", timed_out=True) from None
        except (EOFError, ValueError, OSError, UnicodeDecodeError):
            code = None
            if self.proc is not None:
                try:  # the pipe closes a moment before the exit status is there
                    code = self.proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    pass
            self.stop()
            how = ("was killed (out of memory or CPU time?)" if code is not None and code < 0
                   else "exited" if code is not None else "broke the grader's protocol")
            log = self.log_path  # this worker's own log
            full = log.exists() and log.stat().st_size >= LIMITS["RLIMIT_FSIZE"]
            raise WorkerFailed(f"your code {how} while being graded"
                               + (f" (exit status {code})" if code is not None else "")
                               + (f"; it had printed {LIMITS['RLIMIT_FSIZE'] >> 20} MiB, the "
                                  "most it may print: remove the prints in loops" if full else "")
                               ) from None

    def output(self) -> str:
        """The student's captured stdout/stderr so far, truncated."""
        text = ""
        for path in sorted(self.private.glob("output-*.log")):
            with open(path, "rb") as f:
                text += f.read(OUTPUT_LIMIT + 1).decode("utf-8", "replace")
        if len(text) > OUTPUT_LIMIT:
            text = text[:OUTPUT_LIMIT] + "\n... (output truncated)"
        return text
