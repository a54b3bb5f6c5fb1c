"""How the judge starts a sandboxed worker: forked by a warm process, or from scratch.

The warm process (``zygote.py``) is started once per judge process and worker Python, with
``warm_up`` before a grading builds any hidden input, and lives until the judge exits (it
exits at end of file on its socket). It is a fresh interpreter, never a fork of the judge, so
it holds nothing the judge knows; it imports torch and the worker's modules and then forks one
child per worker, which confines itself before it reads the student's cells (``worker.serve``).
A forked worker starts in milliseconds instead of about 1.7 s.

``RNNGRADE_ZYGOTE=0`` starts every worker from scratch (``python -I worker.py``), as does a
warm process that cannot be started or dies twice in a row: the grading goes on either way.
"""
from __future__ import annotations

import atexit
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
from pathlib import Path

from . import confine, elsewhere, protocol, running, training, worker, zygote

SANDBOX_SIDE = (worker, confine, protocol, running, training, elsewhere)
WARM_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}  # no thread pool to inherit


def enabled() -> bool:
    return os.environ.get("RNNGRADE_ZYGOTE", "1") != "0"


def copy_sandbox_side(folder: Path, extra=()) -> None:
    for module in (*SANDBOX_SIDE, *extra):
        shutil.copy(Path(module.__file__), folder / Path(module.__file__).name)


class ZygoteGone(Exception):
    pass


class Zygote:
    """One warm process and the socket to it; every call under one lock."""

    def __init__(self, python: str):
        self.folder = Path(tempfile.mkdtemp(prefix="rnngrade-zygote-"))  # 0700, the judge's
        copy_sandbox_side(self.folder, (zygote,))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with open(self.folder / "zygote.log", "wb") as log:
            self.proc = subprocess.Popen(
                [python, "-I", "zygote.py", str(theirs.fileno())], cwd=self.folder,
                env={**WARM_ENV, "HOME": str(self.folder)}, stdin=subprocess.DEVNULL,
                stdout=log, stderr=log, pass_fds=(theirs.fileno(),),
                start_new_session=True)  # a Ctrl-C in the terminal is the judge's to handle
        theirs.close()
        self.sock, self.lock = ours, threading.Lock()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def call(self, message: dict, fds: tuple[int, ...] = ()) -> dict:
        with self.lock:
            try:
                socket.send_fds(self.sock, [json.dumps(message).encode()], list(fds))
                answer = self.sock.recv(1 << 16)
            except OSError as e:
                raise ZygoteGone(str(e)) from None
        if not answer:
            raise ZygoteGone(self.log())
        return json.loads(answer)

    def log(self) -> str:
        try:
            return (self.folder / "zygote.log").read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    def close(self) -> None:
        self.sock.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


class Forked:
    """A worker the zygote forked: ``pid`` and ``wait`` as ``subprocess.Popen`` has them."""

    def __init__(self, pid: int, zygote: Zygote):
        self.pid, self.zygote, self.returncode = pid, zygote, None

    def wait(self, timeout: float | None = None) -> int | None:
        if self.returncode is None:
            try:
                code = self.zygote.call({"op": "wait", "pid": self.pid, "timeout": timeout})["code"]
            except ZygoteGone:  # its children went to the judge (not root) or init: gone too
                return None
            if code is None and timeout is not None:
                raise subprocess.TimeoutExpired(f"worker {self.pid}", timeout)
            self.returncode = code
        return self.returncode


_zygotes: dict[str, Zygote] = {}
_failures: dict[str, int] = {}
_lock = threading.Lock()


def warm_up(python: str) -> Zygote | None:
    """The warm process for ``python``, started if need be (None: workers start from scratch)."""
    if not enabled() or _failures.get(python, 0) >= 2:
        return None
    with _lock:
        z = _zygotes.get(python)
        if z is not None and z.proc.poll() is not None:  # died: one more try, then never
            _failures[python] = _failures.get(python, 0) + 1
            z.close()
            z = _zygotes.pop(python)
            if _failures[python] >= 2:
                return None
        if python not in _zygotes:
            _zygotes[python] = Zygote(python)
        return _zygotes[python]


def pids() -> set[int]:
    """The warm processes' pids: the judge's own children, not a worker's orphans."""
    return {z.pid for z in _zygotes.values()}


def spawn(python: str, work: Path, env: dict, config: dict, request_r: int, reply_w: int,
          log: int):
    """Start the worker for folder ``work`` (which holds copies of the sandbox side): forked
    when a warm process serves ``python``, else ``python -I worker.py CONFIG``."""
    z = warm_up(python)
    if z is not None:
        try:
            answer = z.call({"op": "fork", "cwd": str(work), "env": env, "config": config},
                            (request_r, reply_w, log))
            if "pid" in answer:
                return Forked(answer["pid"], z)
        except ZygoteGone:  # this worker from scratch; the next warm_up counts and replaces it
            z.proc.kill()
            z.proc.wait()
    return subprocess.Popen(
        [python, "-I", "worker.py",
         json.dumps(dict(config, request_fd=request_r, reply_fd=reply_w))],
        cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        pass_fds=(request_r, reply_w), start_new_session=True)


@atexit.register
def _close_all() -> None:
    for z in list(_zygotes.values()):
        z.close()
    _zygotes.clear()

