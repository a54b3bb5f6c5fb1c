"""The warm process: imports torch once, then forks each fresh sandboxed worker on request.

Started by the judge (``spawner.py``) as ``python -I zygote.py`` in a folder of its own that
holds copies of the sandbox side (this file, ``worker.py`` and its siblings) and nothing else,
before any student code runs: it never receives student code, hidden inputs or references, only
where a worker's folder is and what its configuration is. It never runs student code itself:
each child runs ``worker.serve``, which confines itself (namespaces, user, rlimits, seccomp)
before it reads the student's cells, exactly as a worker started from scratch does.

What it saves: a worker started from scratch spends about 1.7 s importing torch; a forked one
finds it imported. Nothing the zygote imported can tell one student's worker from another's.

Control channel (the fd given as its argument, a ``SOCK_SEQPACKET`` Unix socket; one JSON message per packet):

    {"op": "fork", "cwd": DIR, "env": {...}, "config": {...}} + fds (request_r, reply_w, log)
        -> {"pid": N}          the child's request and reply fds replace the config's
           or {"error": WHY}   the fork failed (the judge then starts the worker itself)
    {"op": "wait", "pid": N, "timeout": SECONDS | null}
        -> {"code": C | null}  as ``subprocess``: -SIGNAL when killed; null if still running

The zygote reaps a worker only when asked, so a pid the judge kills is never a reused one. Any
other child (a worker's process made with ``CLONE_PARENT`` is the zygote's) is reaped before each
answer: left a zombie, it would count against its sandbox user's process limit.
End of file on the socket (the judge is gone): the zygote exits. Standard library, torch and
the worker's siblings only.
"""
from __future__ import annotations

import ctypes
import json
import os
import socket
import sys
import time
import traceback

PR_SET_DUMPABLE = 4


def _prctl_dumpable(on: bool) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, int(on), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def warm() -> None:
    """Import what every worker imports, without starting a thread or touching a GPU (a forked
    child could use neither): torch, safetensors, pyseccomp. (A worker's requests import no more:
    its backward and its shadow device avoid sympy and ``torch._dynamo``.)"""
    import torch
    import safetensors.torch  # noqa: F401

    try:
        import pyseccomp  # noqa: F401
    except ImportError:
        pass
    torch.set_num_threads(1)  # no parallel region, so no OpenMP pool a child would inherit


def child(sock: socket.socket, message: dict, fds: list[int], worker) -> None:
    """In the forked child: become the worker the judge asked for, then exit. Never returns."""
    code = 1
    try:
        sock.close()
        os.setsid()  # its own session: the judge kills it with its process group
        request_r, reply_w, log = fds
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0), os.dup2(log, 1), os.dup2(log, 2)
        keep = {0, 1, 2, request_r, reply_w}
        for fd in map(int, os.listdir("/proc/self/fd")):  # no other fd of the zygote's
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        os.chdir(message["cwd"])
        os.environ.clear()
        os.environ.update(message["env"])
        _prctl_dumpable(True)  # the zygote is not; a worker must be, to map its user namespace
        worker.serve(dict(message["config"], request_fd=request_r, reply_fd=reply_w))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush(), sys.stderr.flush()
        finally:
            os._exit(code)


def wait(pid: int, timeout: float | None) -> int | None:
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        flags = 0 if deadline is None else os.WNOHANG
        try:
            done, status = os.waitpid(pid, flags)
        except ChildProcessError:  # reaped already, or not ours
            return None
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)


def reap_strays(workers: set[int]) -> None:
    """Reap the zygote's children that are not workers the judge knows."""
    me = str(os.getpid())
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) in workers:
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                ppid = f.read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if ppid == me:
            try:
                os.waitpid(int(entry.name), os.WNOHANG)
            except ChildProcessError:
                pass


def main() -> None:
    _prctl_dumpable(False)  # a same-user worker may not read or write this process's memory
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    import worker  # the siblings, loaded as the worker loads them in its own folder

    sys.path.remove(here)
    warm()
    sock = socket.socket(fileno=int(sys.argv[1]))
    os.chdir("/")
    workers: set[int] = set()
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(sock, 1 << 16, 3)
        except (ConnectionError, OSError):
            return
        if not data:
            return
        message = json.loads(data)
        if message["op"] == "fork":
            sys.stdout.flush(), sys.stderr.flush()
            try:
                pid = os.fork()
            except OSError as e:  # out of processes or memory: the judge starts one itself
                pid, answer = -1, {"error": f"fork failed: {e}"}
            if pid == 0:
                child(sock, message, fds, worker)
            for fd in fds:
                os.close(fd)
            if pid > 0:
                workers.add(pid)
                answer = {"pid": pid}
        else:
            code = wait(int(message["pid"]), message.get("timeout"))
            if code is not None:
                workers.discard(int(message["pid"]))
            answer = {"code": code}
        reap_strays(workers)
        sock.send(json.dumps(answer).encode())


if __name__ == "__main__":
    main()
    os._exit(0)  # no interpreter teardown (0.5 CPU-s with torch loaded): nothing is left to save
