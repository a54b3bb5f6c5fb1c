"""autograder.spawner and autograder.zygote: workers forked by a warm process are as fresh and
as confined as workers started from scratch, and the warm process learns nothing."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from autograder import spawner
from autograder.protocol import CallRequest
from autograder.sandbox import Sandbox

MARKER = "rnngrade-marker-" + "7f3a9c"  # in a student's source and in a hidden tensor

TAMPER = f'''
import os, signal, torch
SECRET = "{MARKER}"
torch.tanh = lambda x: x * 0  # monkeypatch the library for whoever comes next
torch.Tensor.__add__ = lambda a, b: a
def parent(): return os.getppid()
def tamper():
    out = {{}}
    try:
        with open(f"/proc/{{os.getppid()}}/mem", "rb") as f:
            out["mem"] = "read"
    except OSError as e:
        out["mem"] = type(e).__name__
    try:
        os.kill(os.getppid(), signal.SIGKILL)
        out["kill"] = "sent"
    except OSError as e:
        out["kill"] = type(e).__name__
    out["fds"] = sorted(os.listdir("/proc/self/fd"))
    return out
def echo(x): return x * 1
'''

HONEST = '''
import torch
def tanh(x): return torch.tanh(x)
def add(x, y): return x + y
'''


def call(sb, name, args=(), tensors=None):
    return sb.request(CallRequest(name, args=tuple(args)), tensors or {}, 60)


def test_workers_are_forked_by_one_warm_process_that_outlives_them():
    with Sandbox(HONEST) as a:
        assert a.start().ok
        assert isinstance(a.proc, spawner.Forked)
        first = a.proc.zygote.pid
    with Sandbox(HONEST) as b:
        assert b.start().ok
        assert b.proc.zygote.pid == first and first in spawner.pids()
        b.stop()
        assert b.start().ok  # a restart is forked too
        assert isinstance(b.proc, spawner.Forked)


def test_a_student_cannot_reach_the_warm_process_or_change_the_next_worker():
    with Sandbox(TAMPER) as bad:
        assert bad.start().ok
        zygote = bad.proc.zygote.pid
        assert call(bad, "parent").outputs["v"] == zygote
        reply = call(bad, "tamper")
        assert reply.ok, reply
        out = reply.outputs["dict"]
        assert out["mem"]["v"] in ("PermissionError", "FileNotFoundError")
        assert out["kill"]["v"] == "PermissionError"  # seccomp: signals to itself only
        # stdin, the log twice, the request and reply pipes: no socket to the warm process
        assert len(out["fds"]["tuple"]) <= 6
    assert zygote in spawner.pids() and spawner._zygotes[sys.executable].proc.poll() is None
    x = torch.randn(3, 4)
    with Sandbox(HONEST) as good:
        assert good.start().ok and good.proc.zygote.pid == zygote
        tanh = call(good, "tanh", [{"t": "x"}], {"x": x})
        added = call(good, "add", [{"t": "x"}, {"t": "x"}], {"x": x})
    torch.testing.assert_close(tanh.tensors[tanh.outputs["t"]], torch.tanh(x))
    torch.testing.assert_close(added.tensors[added.outputs["t"]], x + x)


@pytest.mark.skipif(os.geteuid() != 0, reason="reading another process's memory needs root")
def test_the_warm_process_never_holds_the_students_code_or_the_judges_tensors():
    hidden = torch.tensor([float(ord(c)) for c in MARKER]) + 0.25  # a hidden input's bytes
    with Sandbox(TAMPER) as sb:
        assert sb.start().ok
        reply = call(sb, "echo", [{"t": "x"}], {"x": hidden})
        assert reply.ok, reply
        secrets = (MARKER.encode(), hidden.numpy().tobytes())
        in_worker = _found_in_memory(sb.proc.pid, secrets)
        in_zygote = _found_in_memory(sb.proc.zygote.pid, secrets)
    assert in_worker == list(secrets)  # the search works: the worker holds both
    assert in_zygote == []


def _found_in_memory(pid: int, needles: tuple[bytes, ...]) -> list[bytes]:
    """Which of ``needles`` some readable mapping of ``pid`` holds (read as root)."""
    read, found = 0, set()
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb") as mem:
        for line in maps:
            start, end = (int(a, 16) for a in line.split()[0].split("-"))
            if "r" in line.split()[1] and end - start < 1 << 28:
                try:
                    mem.seek(start)
                    region = mem.read(end - start)
                except (OSError, ValueError, OverflowError):
                    continue
                read += len(region)
                found |= {n for n in needles if n in region}
    assert read > 1 << 20  # torch is in there: the reading worked
    return [n for n in needles if n in found]


def test_a_killed_warm_process_is_replaced_and_grading_goes_on():
    with Sandbox(HONEST) as a:
        assert a.start().ok
        old = a.proc.zygote
    os.kill(old.pid, signal.SIGKILL)
    old.proc.wait()
    with Sandbox(HONEST) as b:
        assert b.start().ok
        assert isinstance(b.proc, spawner.Forked) and b.proc.zygote.pid != old.pid
        assert call(b, "add", [1, 2]).outputs["v"] == 3


def test_without_the_warm_process_each_worker_starts_from_scratch(monkeypatch):
    monkeypatch.setenv("RNNGRADE_ZYGOTE", "0")
    with Sandbox(HONEST) as sb:
        assert sb.start().ok
        assert isinstance(sb.proc, subprocess.Popen)
        assert call(sb, "add", [1, 2]).outputs["v"] == 3


def test_the_warm_process_exits_when_its_judge_is_killed(tmp_path):
    script = tmp_path / "judge.py"
    script.write_text(textwrap.dedent('''
        import os, signal, sys
        from autograder.sandbox import Sandbox
        sb = Sandbox("def f(): return 1")
        assert sb.start().ok
        print(sb.proc.zygote.pid, sb.proc.pid, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    '''))
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         cwd=Path(__file__).parents[2], timeout=300)
    zygote, worker = (int(p) for p in run.stdout.split())
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and any(_alive(p) for p in (zygote, worker)):
        time.sleep(0.1)
    assert not _alive(zygote) and not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_the_zygote_reports_a_killed_workers_signal_as_subprocess_does():
    with Sandbox("import os\ndef die(): os._exit(3)\ndef hang():\n  while True: pass") as sb:
        assert sb.start().ok
        proc = sb.proc
        reply = call(sb, "die")
        assert not reply.ok and "exit status 3" in reply.error.message
        assert proc.returncode == 3
        assert sb.start().ok
        proc = sb.proc
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.01)
        os.killpg(proc.pid, signal.SIGKILL)
        assert proc.wait() == -signal.SIGKILL



def test_a_failed_fork_is_answered_and_the_warm_process_serves_on(tmp_path):
    """Out of processes: the warm process says so (the judge then starts the worker itself)
    and answers the next request."""
    code = textwrap.dedent('''
        import json, os, socket, sys, threading
        sys.argv = ["zygote.py", "0"]
        from autograder import zygote
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sys.argv = ["zygote.py", str(theirs.fileno())]
        def no_fork():
            raise BlockingIOError(11, "Resource temporarily unavailable")
        os.fork = no_fork
        threading.Thread(target=zygote.main, daemon=True).start()
        r, w = os.pipe()
        socket.send_fds(ours, [json.dumps({"op": "fork", "cwd": "/", "env": {},
                                           "config": {}}).encode()], [r, w, w])
        print(ours.recv(1 << 16).decode())
        ours.send(json.dumps({"op": "wait", "pid": 999999, "timeout": 0}).encode())
        print(ours.recv(1 << 16).decode())
        os._exit(0)
    ''')
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).parents[2], timeout=300)
    assert proc.returncode == 0, proc.stderr
    failed, waited = proc.stdout.splitlines()
    assert "fork failed" in failed and '"pid"' not in failed
    assert waited == '{"code": null}'


def test_the_warm_process_reaps_its_children_that_are_not_workers():
    # a worker's process made with clone(CLONE_PARENT) is the warm process's child: seccomp
    # refuses that flag, and a zombie that comes anyway must not fill its user's process limit
    script = textwrap.dedent('''
        import os, sys, time
        sys.path.insert(0, sys.argv[1])
        import zygote

        def state(pid):
            try:
                with open(f"/proc/{pid}/stat") as f:
                    return f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                return "gone"

        stray = os.fork()
        if stray == 0:
            os._exit(0)
        worker = os.fork()
        if worker == 0:
            os._exit(0)
        while state(stray) != "Z" or state(worker) != "Z":
            time.sleep(0.01)
        zygote.reap_strays({worker})
        print(state(stray), state(worker))
    ''')
    out = subprocess.run([sys.executable, "-c", script, str(Path(spawner.__file__).parent)],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["gone", "Z"], out.stderr
