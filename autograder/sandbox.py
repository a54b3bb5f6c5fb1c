"""Runs the worker (``autograder/worker.py``) in a sandbox and talks to it.

As root (Gradescope, CI): the worker starts in a fresh 0700 directory holding only the student
module and copies of ``worker.py``, ``protocol.py`` and ``training.py``; before any student code
it covers the grader's own files (``hidden``: the homework, ``reference/``, the engine) in a
private mount namespace where the platform allows one, then becomes an unprivileged user (created
if missing) for good. Where no mount namespace can be made, those folders are made unreadable to
other users while the sandbox lives, and their modes restored after. Not root (a TA's laptop): the
same code path without the user switch, and a warning that isolation is reduced. Everywhere:
rlimits, seccomp where available, a scrubbed environment, stdin from /dev/null, student output to
a capped log file the judge owns, a deadline per request.

``Sandbox.request`` always returns a ``protocol.Reply``: a crash, a timeout or a broken frame is a
failed reply of its own kind (``ErrorKind.CRASHED``, ``TIMEOUT``, ``PROTOCOL``), never an exception.
"""
from __future__ import annotations

import dataclasses
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

from safetensors import SafetensorError
from safetensors.torch import load, save

from . import confine, protocol, spawner, worker
from .processes import harden_judge, kill_orphans, kill_user_processes, remove_files_of
from .protocol import ErrorKind, Hello, ProtocolError, Reply

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

    def __init__(self, reason: str, kind: str = ErrorKind.CRASHED):
        super().__init__(reason)
        self.reason, self.kind = reason, kind


@dataclass
class Isolation:
    user: str | None  # the unprivileged user, or None when not root
    seccomp: str = "not started"
    files: str = ""  # how the grader's files were kept from the worker
    judge: str = ""  # not root: how the judge protects itself from a same-user worker

    def describe(self) -> str:
        who = f"as user {self.user}" if self.user else "as the grading user (not root: reduced)"
        return f"sandbox: {who}; seccomp {self.seccomp}" + (
            f"; grader's files {self.files}" if self.files else "") + (
            f"; judge {self.judge}" if self.judge else "")


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


def lock_down(paths: list[Path]) -> dict[Path, int]:
    """Make the grader's own code and data unreadable to other users (root only); returns the
    modes they had, for ``restore``."""
    before = {}
    for path in paths:
        if path.exists():
            before[path] = path.stat().st_mode
            path.chmod(before[path] & ~(stat.S_IRWXG | stat.S_IRWXO))
    return before


def restore(modes: dict[Path, int]) -> None:
    for path, mode in modes.items():
        try:
            path.chmod(stat.S_IMODE(mode))
        except OSError:
            pass


def mount_namespaces_work() -> bool:
    """Can this root process make a private mount namespace (not in every container)?"""
    try:
        return subprocess.run(["unshare", "--mount", "true"], capture_output=True,
                              timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


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


def hidden_paths(hidden, python: str) -> tuple[str, ...]:
    """The folders to hide from the worker: the homework's, and the engine's own. A folder that
    holds the worker's Python or its packages (a venv inside a checkout) is hidden but for it."""
    keep = [Path(sys.prefix).resolve(), Path(python).absolute().parent]
    out: list[Path] = []

    def add(p: Path) -> None:
        inside = [k for k in keep if k == p or p in k.parents]
        if not inside:
            out.append(p)
        elif p not in inside:
            for child in sorted(p.iterdir()):
                if child.is_dir() and not child.is_symlink():
                    add(child)

    for p in (Path(__file__).resolve().parent, *hidden):
        if Path(p).exists():
            add(Path(p).resolve())
    # a folder inside another hidden one is hidden with it (and could not be mounted over)
    return tuple(dict.fromkeys(str(p) for p in out if not any(q in p.parents for q in out)))


def worker_python() -> str:
    return os.environ.get("RNNGRADE_WORKER_PYTHON") or sys.executable


def warm_up() -> None:
    """Start the warm process that forks workers (``spawner.py``), to import torch while the
    judge prepares its cases."""
    spawner.warm_up(worker_python())


class Sandbox:
    """One worker at a time over one student module; restarted fresh after any failure."""

    workers: set[int] = set()  # the live workers of every sandbox in this process

    def __init__(self, cells, *, threads: int = 1, python: str | None = None,
                 hidden: tuple[Path, ...] = (), skip: tuple[tuple[int, int], ...] = (),
                 modules: frozenset[str] = frozenset()):
        """``cells``: the student's cells (``submission.Cell``s: label and source), or one
        module's source; ``skip``: (cell index, line) of statements not to run; ``modules``:
        the names the student's helper modules (first among the cells) are imported by."""
        self.modules = sorted(modules)
        self.cells = [{"label": worker.STUDENT_FILE, "source": cells}] if isinstance(cells, str) \
            else [{"label": c.label, "source": c.source} for c in cells]
        self.skip, self.threads = [list(x) for x in skip], threads
        self.definitions_only = False  # set when running every statement did not finish
        self.notes: list[str] = []
        self.python = python or worker_python()
        self.root = os.geteuid() == 0
        self.isolation = Isolation(user=SANDBOX_USER if self.root else None)
        self.private = Path(tempfile.mkdtemp(prefix="rnngrade-judge-"))  # 0700, judge only
        self.proc: subprocess.Popen | spawner.Forked | None = None
        self.hello = Hello(False)
        self.final_output = ""
        self.starts = 0
        self.next_id = 1
        self.lock_fd: int | None = None
        self.hidden = hidden_paths(hidden, self.python)
        self.modes: dict[Path, int] = {}
        if not self.root:
            self.isolation.judge = harden_judge()
        if self.root:
            self.pw, self.lock_fd = claim_user()
            self.isolation.user = self.pw.pw_name
            check_executable_by_others(self.python)
            if self.hidden and not mount_namespaces_work():
                self.modes = lock_down([Path(p) for p in self.hidden])
                self.isolation.files = "unreadable to other users (modes restored after)"

    # -- life cycle --------------------------------------------------------------------------
    def start(self, timeout: float = 90.0) -> Hello:
        """Start a fresh worker in a fresh directory; return its hello (names or import error).
        If running the cells does not finish in time, once more with their definitions only."""
        hello = self._start(timeout)
        if not hello.ok and hello.error is not None and "timed out" in hello.error.message \
                and not self.definitions_only:
            self.definitions_only = True
            self.notes.append(f"Running your cells did not finish within {timeout:.0f} s (a "
                              "training loop in a graded cell?), so they were graded from their "
                              "definitions only: imports, functions, classes and constants")
            hello = self._start(timeout)
        return hello

    def _start(self, timeout: float) -> Hello:
        self.stop()
        self.starts += 1
        work = Path(tempfile.mkdtemp(prefix="rnngrade-sbx-"))
        (work / worker.CELLS_FILE).write_text(json.dumps(
            {"cells": self.cells, "skip": self.skip, "definitions_only": self.definitions_only,
             "modules": self.modules}))
        spawner.copy_sandbox_side(work)  # used when the worker starts from scratch
        self.work, self.log_path = work, self.private / f"output-{self.starts}.log"
        log = open(self.log_path, "wb")
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        config = {"limits": dict(LIMITS), "threads": self.threads}
        # the worker hides them itself; never "/", the scratch folders it makes private anyway,
        # or a folder holding its own
        config["hide"] = [] if self.modes else [
            p for p in self.hidden if Path(p).parent != Path(p)
            and p not in confine.PRIVATE_DIRS and Path(p) not in work.parents]
        if self.root:  # ... then drops root, before student code
            config["limits"]["RLIMIT_NPROC"] = NPROC_AS_SANDBOX_USER
            config["drop"] = {"uid": self.pw.pw_uid, "gid": self.pw.pw_gid}
            for p in [work, *work.iterdir()]:
                os.chown(p, self.pw.pw_uid, self.pw.pw_gid)
        work.chmod(0o700)
        env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "LANG": "C.UTF-8",
               "OMP_NUM_THREADS": str(self.threads), "MKL_NUM_THREADS": str(self.threads)}
        try:
            self.proc = spawner.spawn(self.python, work, env, config, req_r, rep_w, log.fileno())
        finally:
            os.close(req_r), os.close(rep_w), log.close()
        self.req_w, self.rep_r = req_w, rep_r
        Sandbox.workers.add(self.proc.pid)
        try:
            self.hello = protocol.parse_hello(self._receive(time.monotonic() + timeout)[0])
        except (WorkerFailed, ProtocolError) as e:
            reason = e.reason if isinstance(e, WorkerFailed) else f"broke the protocol ({e})"
            self.hello = Hello(False, error=protocol.ErrorInfo(ErrorKind.CRASHED,
                f"{reason.replace('while being graded', 'while being imported')}, so no part "
                "could be graded. Remove calls such as sys.exit(), os._exit() or exit() and code "
                "that runs when a class is defined"))
            self.stop()
        self.isolation.seccomp = self.hello.seccomp or self.isolation.seccomp
        self.isolation.files = self.hello.hidden or self.isolation.files
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
        Sandbox.workers.discard(self.proc.pid)
        if not self.root:  # its orphaned descendants, reparented to the judge (a subreaper)
            kill_orphans(keep=Sandbox.workers | spawner.pids())
        self.proc = None
        shutil.rmtree(self.work, ignore_errors=True)

    def close(self) -> None:
        """Kill every worker, then keep what they printed in ``final_output``."""
        self.stop()
        restore(self.modes)
        self.modes = {}
        if self.root and "private /tmp" not in self.isolation.files:
            remove_files_of(self.pw.pw_uid)  # no private scratch folders: sweep the shared ones
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
    def request(self, request: protocol.Request, tensors: dict, timeout: float,
                max_payload: int = protocol.MAX_PAYLOAD) -> Reply:
        """Send one request (given the next id) and return its reply, with the tensors it
        carried (at most ``max_payload`` bytes of them, checked before they are read). A dead,
        hung or lying worker is killed (the next request starts a fresh one) and the reply
        says what happened."""
        request_id, self.next_id = self.next_id, self.next_id + 1
        try:
            if self.proc is None:
                self.start(timeout=min(90.0, timeout))  # a restart stays inside the budget
                if self.proc is None:
                    raise WorkerFailed(self.hello.error.message)
            payload = save({k: v.contiguous() for k, v in tensors.items()}) if tensors else b""
            deadline = time.monotonic() + timeout
            try:
                header = dict(protocol.to_header(request), id=request_id)
                protocol.write_frame(self.req_w, header, payload, deadline)
            except (OSError, TimeoutError):
                self.stop()
                raise WorkerFailed("your code stopped answering the grader (it exited, crashed "
                                   "or hung); the worker was restarted for the other parts"
                                   ) from None
            header, blob = self._receive(deadline, max_payload)
            try:
                reply = protocol.parse_reply(header, request_id)
                received = dict(load(blob)) if blob else {}
            except (ProtocolError, SafetensorError, ValueError, RuntimeError) as e:
                self.stop()
                raise WorkerFailed(f"your code broke the grader's protocol ({str(e)[:200]}); the "
                                   "worker was restarted for the other parts",
                                   ErrorKind.PROTOCOL) from None
        except WorkerFailed as e:
            return Reply.failure(request_id, e.kind, e.reason)
        return dataclasses.replace(reply, tensors=received)

    def _receive(self, deadline: float, max_payload: int = protocol.MAX_PAYLOAD):
        try:
            return protocol.read_frame(self.rep_r, deadline, max_payload=max_payload)
        except TimeoutError:
            self.stop()
            raise WorkerFailed("timed out (an infinite loop, or far too slow); the worker was "
                               "stopped and restarted for the other parts",
                               ErrorKind.TIMEOUT) from None
        except ProtocolError as e:
            self.stop()
            raise WorkerFailed(f"your code broke the grader's protocol ({e}); the worker was "
                               "restarted for the other parts", ErrorKind.PROTOCOL) from None
        except (EOFError, OSError):
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
