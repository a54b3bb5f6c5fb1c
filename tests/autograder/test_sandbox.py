"""autograder.sandbox and autograder.worker: confinement, timeouts, restarts, runtime guards."""
from __future__ import annotations

import os
import time

import pytest
import torch

from autograder.sandbox import Sandbox, WorkerFailed, _live_processes

SOURCE = '''
import os, torch
print("hello from the student")
def add(x, y): return x + y, {"sum": (x + y).sum()}
def uid(): return os.getuid()
def spin():
    while True:
        pass
def sneaky_lstm(x):
    return getattr(torch.nn, "LS" + "TM")(3, 4)(x)[0]
def net():
    import socket
    socket.create_connection(("127.0.0.1", 9))
def shout(): print("x" * 100000); return 1
def flood():
    for _ in range(10):
        print("x" * (1 << 20))
    return 1
def flood_fd_then_die():
    for _ in range(10):
        try:
            os.write(1, b"x" * (1 << 20))
        except OSError:
            pass
    os._exit(1)
'''

as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the user switch needs root")


def call(sb, name, args=(), tensors=None, timeout=20):
    return sb.request({"op": "call", "target": name, "kind": "function", "args": list(args)},
                      tensors or {}, timeout)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SOURCE) as sb:
        hello = sb.start()
        assert hello["ok"], hello
        yield sb


def test_worker_reports_what_the_module_defines(sandbox):
    assert {"add", "spin", "uid"} <= set(sandbox.hello["names"])


def test_tensors_go_both_ways_as_safetensors(sandbox):
    reply, tensors = call(sandbox, "add", [{"t": "x"}, {"t": "y"}],
                          {"x": torch.ones(2), "y": torch.full((2,), 2.0)})
    assert reply["ok"]
    torch.testing.assert_close(tensors["o.0"], torch.full((2,), 3.0))
    torch.testing.assert_close(tensors["o.1"], torch.tensor(6.0))


@as_root
def test_worker_runs_as_the_unprivileged_user(sandbox):
    reply, _ = call(sandbox, "uid")
    assert reply["outputs"]["v"] != 0
    assert "as user rnngrade-sandbox" in sandbox.isolation.describe()


def test_network_sockets_are_denied(sandbox):
    reply, _ = call(sandbox, "net")
    if "on (" not in sandbox.isolation.seccomp:
        pytest.skip(f"seccomp {sandbox.isolation.seccomp}")
    assert reply["error"]["type"] == "PermissionError"


def test_runtime_guard_catches_what_the_static_scan_cannot_see(sandbox):
    reply, _ = call(sandbox, "sneaky_lstm", [{"t": "x"}], {"x": torch.randn(2, 1, 3)})
    assert reply["error"]["type"] == "ForbiddenCall"
    assert "torch.nn.LSTM" in reply["error"]["message"]


def test_timeout_kills_the_worker_and_the_next_request_gets_a_fresh_one(sandbox):
    starts = sandbox.starts
    t0 = time.monotonic()
    with pytest.raises(WorkerFailed, match="timed out"):
        call(sandbox, "spin", timeout=2)
    assert time.monotonic() - t0 < 10
    reply, tensors = call(sandbox, "add", [{"t": "x"}, {"t": "x"}], {"x": torch.ones(1)})
    torch.testing.assert_close(tensors["o.0"], torch.full((1,), 2.0))
    assert sandbox.starts == starts + 1


def test_student_output_is_captured_and_truncated(sandbox):
    call(sandbox, "shout")
    out = sandbox.output()
    assert "hello from the student" in out
    assert out.endswith("(output truncated)") and len(out) < 2100


def test_printing_10_mib_in_a_loop_is_cut_short_and_the_call_still_succeeds(sandbox):
    reply, _ = call(sandbox, "flood")
    assert reply["ok"] and reply["outputs"]["v"] == 1
    logs = list(sandbox.private.glob("output-*.log"))
    assert sum(p.stat().st_size for p in logs) < 2 << 20
    assert any(b"the rest was dropped" in p.read_bytes() for p in logs)


def test_a_worker_that_dies_with_a_full_log_is_told_why(sandbox):
    with pytest.raises(WorkerFailed, match="printed 8 MiB, the most it may print"):
        call(sandbox, "flood_fd_then_die")
    reply, _ = call(sandbox, "add", [{"t": "x"}, {"t": "x"}], {"x": torch.ones(1)})
    assert reply["ok"]


def test_import_that_exits_is_reported_not_raised():
    with Sandbox("class A:\n    import os\n    os._exit(3)\n") as sb:
        hello = sb.start()
    assert not hello["ok"] and hello["crashed"]
    assert "exited while being imported (exit status 3)" in hello["error"]["message"]


def test_not_root_uses_the_same_path_without_the_user_switch(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with Sandbox("def f():\n    return 7\n") as sb:
        assert sb.start()["ok"]
        assert call(sb, "f")[0]["outputs"]["v"] == 7
        assert "reduced" in sb.isolation.describe()


@as_root
def test_a_forked_daemon_does_not_outlive_the_sandbox():
    src = ("import os, time\ndef daemon():\n    if os.fork() == 0:\n        os.setsid()\n"
           "        time.sleep(600)\n        os._exit(0)\n    return os.getuid()\n")
    with Sandbox(src) as sb:
        sb.start()
        uid = call(sb, "daemon")[0]["outputs"]["v"]
    assert _live_processes(uid) == []


@as_root
def test_two_sandboxes_at_once_get_different_users_and_do_not_kill_each_other():
    with Sandbox("import os\ndef uid():\n    return os.getuid()\n") as a, \
            Sandbox("import os\ndef uid():\n    return os.getuid()\n") as b:
        a.start(), b.start()
        assert a.pw.pw_uid != b.pw.pw_uid
        a.stop()  # kills every process of a's user, and only those
        assert call(b, "uid")[0]["outputs"]["v"] == b.pw.pw_uid
        assert b.starts == 1
