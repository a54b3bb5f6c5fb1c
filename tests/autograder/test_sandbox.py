"""autograder.sandbox and autograder.worker, end to end through a real worker process:
confinement, timeouts, restarts, runtime guards."""
from __future__ import annotations

import os

import pytest
import torch

from autograder.protocol import CallRequest, ErrorKind
from autograder.processes import live_processes
from autograder.sandbox import Sandbox

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
def io_uring():
    import ctypes, errno
    libc = ctypes.CDLL(None, use_errno=True)
    params = ctypes.create_string_buffer(120)
    fd = libc.syscall(425, 4, params)  # io_uring_setup
    return "denied" if fd < 0 and ctypes.get_errno() in (errno.EPERM, errno.ENOSYS) else "made"
def clone_flags():
    import ctypes, errno, platform, threading
    libc = ctypes.CDLL(None, use_errno=True)
    clone, exit_ = {"x86_64": (56, 60), "aarch64": (220, 93)}.get(platform.machine(), (0, 0))
    out = {}
    for name, flags in (("parent", 0x8000), ("newuser", 0x10000000), ("newpid", 0x20000000)):
        pid = libc.syscall(clone, flags | 17, 0, 0, 0, 0) if clone else -1
        if pid == 0:
            libc.syscall(exit_, 0)
        out[name] = "denied" if pid < 0 and ctypes.get_errno() == errno.EPERM else f"made {pid}"
    t = threading.Thread(target=print, args=("a thread",))
    t.start(), t.join()
    child = os.fork()
    if child == 0:
        os._exit(7)
    out["fork"] = os.waitstatus_to_exitcode(os.waitpid(child, 0)[1])
    out["threads"] = float(torch.ones(256, 256).matmul(torch.ones(256, 256)).sum())
    return out
def scratch():
    out = {"ipc": os.readlink("/proc/self/ns/ipc"), "cwd": os.getcwd()}
    with open("mine.txt", "w") as f:
        f.write("x")
    with open("/run/lock/rnngrade-test-left", "w") as f:
        f.write("x")
    written = 0
    try:
        for i in range(12):  # 12 files of 7 MiB: over the 64 MiB of the private /tmp
            with open(f"big{i}", "wb") as f:
                f.write(b"x" * (7 << 20))
            written += 7
    except OSError as e:
        out["full"] = e.strerror
    for i in range(12):
        if os.path.exists(f"big{i}"):
            os.remove(f"big{i}")
    out["written_mib"] = written
    return out
def forge():
    import json, struct
    def writes_to_a_pipe(fd):  # the reply pipe: the only pipe this process writes to
        flags = int(open(f"/proc/self/fdinfo/{fd}").read().split("flags:")[1].split()[0], 8)
        return os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:") and flags & 3 == 1
    reply_fd = next(fd for fd in map(int, os.listdir("/proc/self/fd")) if fd > 2
                    and os.path.exists(f"/proc/self/fd/{fd}") and writes_to_a_pipe(fd))
    head = json.dumps({"id": 999, "ok": True, "outputs": {"v": 1000}}).encode()
    os.write(reply_fd, struct.pack("<I", len(head)) + head + struct.pack("<Q", 0))
    return 1
def big():
    return torch.zeros(4 << 20)
def environ_of_parent():
    try:
        return open(f"/proc/{os.getppid()}/environ").read()[:20]
    except OSError as e:
        return type(e).__name__
def signal_parent():
    import signal
    out = []
    for pid in (os.getppid(), 0):
        try:
            os.kill(pid, signal.SIGTERM)
            out.append("sent")
        except OSError as e:
            out.append(type(e).__name__)
    return " ".join(out)
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


def call(sb, name, args=(), tensors=None, timeout=60):
    return sb.request(CallRequest(name, args=tuple(args)), tensors or {}, timeout)


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SOURCE) as sb:
        hello = sb.start()
        assert hello.ok, hello
        yield sb


def test_worker_reports_what_the_module_defines(sandbox):
    assert {"add", "spin", "uid"} <= set(sandbox.hello.names)


def test_tensors_go_both_ways_as_safetensors(sandbox):
    reply = call(sandbox, "add", [{"t": "x"}, {"t": "y"}],
                 {"x": torch.ones(2), "y": torch.full((2,), 2.0)})
    assert reply.ok
    torch.testing.assert_close(reply.tensors["o.0"], torch.full((2,), 3.0))
    torch.testing.assert_close(reply.tensors["o.1"], torch.tensor(6.0))


def test_every_reply_echoes_its_request_id(sandbox):
    first, second = call(sandbox, "uid"), call(sandbox, "uid")
    assert second.id == first.id + 1


@as_root
def test_worker_runs_as_the_unprivileged_user(sandbox):
    reply = call(sandbox, "uid")
    assert reply.outputs["v"] != 0
    assert "as user rnngrade-sandbox" in sandbox.isolation.describe()


def test_network_sockets_are_denied(sandbox):
    reply = call(sandbox, "net")
    if "on (" not in sandbox.isolation.seccomp:
        pytest.skip(f"seccomp {sandbox.isolation.seccomp}")
    assert reply.error.exc_type == "PermissionError"


def test_io_uring_is_denied(sandbox):
    if "io_uring" not in sandbox.isolation.seccomp:
        pytest.skip(f"seccomp {sandbox.isolation.seccomp}")
    assert call(sandbox, "io_uring").outputs["v"] == "denied"


def test_no_child_outside_its_own_and_no_new_namespace_yet_threads_and_fork_work(sandbox):
    import platform

    if "no children outside" not in sandbox.isolation.seccomp:
        pytest.skip(f"seccomp {sandbox.isolation.seccomp}")
    if platform.machine() not in ("x86_64", "aarch64"):
        pytest.skip("system call numbers for x86_64 and aarch64 only")
    reply = call(sandbox, "clone_flags")
    assert reply.ok, reply
    out = {k: v["v"] for k, v in reply.outputs["dict"].items()}
    assert out == {"parent": "denied", "newuser": "denied", "newpid": "denied", "fork": 7,
                   "threads": 256.0 ** 3}


def test_its_folder_and_scratch_space_are_private_and_bounded_and_ipc_is_its_own(sandbox):
    if not sandbox.isolation.files.startswith("hidden ("):
        pytest.skip(f"no private namespaces here: {sandbox.isolation.files}")
    reply = call(sandbox, "scratch")
    assert reply.ok, reply
    out = {k: v["v"] for k, v in reply.outputs["dict"].items()}
    assert out["ipc"] != os.readlink("/proc/self/ns/ipc")
    assert out["full"] == "No space left on device" and out["written_mib"] < 64
    assert not (sandbox.work / "mine.txt").exists()  # written in its private copy
    assert not os.path.exists("/run/lock/rnngrade-test-left")


def test_a_forged_reply_frame_is_caught_by_its_id_and_the_worker_replaced(sandbox):
    starts = sandbox.starts
    reply = call(sandbox, "forge")
    assert reply.error.kind == ErrorKind.PROTOCOL and "reply to request 999" in reply.error.message
    assert call(sandbox, "uid").ok and sandbox.starts == starts + 1


def test_a_reply_larger_than_the_case_allows_is_refused_unread(sandbox):
    reply = sandbox.request(CallRequest("big"), {}, 60, max_payload=1 << 20)
    assert reply.error.kind == ErrorKind.PROTOCOL and "frame payload of" in reply.error.message
    assert call(sandbox, "uid").ok


def test_the_judges_environment_is_not_readable(sandbox):
    assert call(sandbox, "environ_of_parent").outputs["v"] == "PermissionError"


def test_signals_to_the_judge_and_its_group_are_denied(sandbox):
    src_reply = call(sandbox, "signal_parent")
    assert src_reply.ok and src_reply.outputs["v"] == "PermissionError PermissionError"


def test_runtime_guard_catches_what_the_static_scan_cannot_see(sandbox):
    reply = call(sandbox, "sneaky_lstm", [{"t": "x"}], {"x": torch.randn(2, 1, 3)})
    assert reply.error.kind == ErrorKind.FORBIDDEN
    assert "torch.nn.LSTM" in reply.error.message


def test_timeout_kills_the_worker_and_the_next_request_gets_a_fresh_one(sandbox):
    starts = sandbox.starts
    reply = call(sandbox, "spin", timeout=2)
    assert reply.error.kind == ErrorKind.TIMEOUT and "timed out" in reply.error.message
    reply = call(sandbox, "add", [{"t": "x"}, {"t": "x"}], {"x": torch.ones(1)})
    torch.testing.assert_close(reply.tensors["o.0"], torch.full((1,), 2.0))
    assert sandbox.starts == starts + 1


def test_student_output_is_captured_and_truncated(sandbox):
    call(sandbox, "shout")
    out = sandbox.output()
    assert "hello from the student" in out
    assert out.endswith("(output truncated)") and len(out) < 2100


def test_printing_10_mib_in_a_loop_is_cut_short_and_the_call_still_succeeds(sandbox):
    reply = call(sandbox, "flood")
    assert reply.ok and reply.outputs["v"] == 1
    logs = list(sandbox.private.glob("output-*.log"))
    assert sum(p.stat().st_size for p in logs) < 2 << 20
    assert any(b"the rest was dropped" in p.read_bytes() for p in logs)


def test_a_worker_that_dies_with_a_full_log_is_told_why(sandbox):
    reply = call(sandbox, "flood_fd_then_die")
    assert reply.error.kind == ErrorKind.CRASHED
    assert "printed 8 MiB, the most it may print" in reply.error.message
    assert call(sandbox, "add", [{"t": "x"}, {"t": "x"}], {"x": torch.ones(1)}).ok


def test_import_that_exits_is_reported_not_raised():
    with Sandbox("class A:\n    import os\n    os._exit(3)\n") as sb:
        hello = sb.start()
    assert not hello.ok and hello.error.kind == ErrorKind.CRASHED
    assert "exited while being imported (exit status 3)" in hello.error.message


def test_not_root_uses_the_same_path_without_the_user_switch(monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with Sandbox("def f():\n    return 7\n") as sb:
        assert sb.start().ok
        assert call(sb, "f").outputs["v"] == 7
        assert "reduced" in sb.isolation.describe()


@as_root
def test_a_forked_daemon_does_not_outlive_the_sandbox():
    src = ("import os, time\ndef daemon():\n    if os.fork() == 0:\n        os.setsid()\n"
           "        time.sleep(600)\n        os._exit(0)\n    return os.getuid()\n")
    with Sandbox(src) as sb:
        sb.start()
        uid = call(sb, "daemon").outputs["v"]
    assert live_processes(uid) == []


@as_root
def test_two_sandboxes_at_once_get_different_users_and_do_not_kill_each_other():
    with Sandbox("import os\ndef uid():\n    return os.getuid()\n") as a, \
            Sandbox("import os\ndef uid():\n    return os.getuid()\n") as b:
        a.start(), b.start()
        assert a.pw.pw_uid != b.pw.pw_uid
        a.stop()  # kills every process of a's user, and only those
        assert call(b, "uid").outputs["v"] == b.pw.pw_uid
        assert b.starts == 1


@pytest.fixture
def world_readable_secret():
    """A folder any user could read (unlike pytest's tmp_path, which is the owner's alone)."""
    import shutil
    import tempfile
    from pathlib import Path

    # outside /tmp, /var/tmp and /dev/shm, which the worker sees as private, empty folders
    parent = next(p for p in ("/run", "/var/lib", "/opt") if os.access(p, os.W_OK))
    folder = Path(tempfile.mkdtemp(prefix="rnngrade-test-secret-", dir=parent))
    folder.chmod(0o755)
    (folder / "answers.py").write_text("SECRET = 1\n")
    (folder / "answers.py").chmod(0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


PEEK = ("def peek(path):\n    try:\n        return open(path).read()\n"
        "    except OSError as e:\n        return type(e).__name__\n")


@as_root
def test_the_graders_files_are_hidden_from_the_worker_and_left_as_they_were(world_readable_secret):
    secret = world_readable_secret
    mode = secret.stat().st_mode
    with Sandbox(PEEK) as sb:  # the control: readable when not hidden
        assert call(sb, "peek", [str(secret / "answers.py")]).outputs["v"] == "SECRET = 1\n"
    with Sandbox(PEEK, hidden=(secret,)) as sb:
        assert call(sb, "peek", [str(secret / "answers.py")]).outputs["v"] == "PermissionError"
        assert "hidden" in sb.isolation.files or "unreadable" in sb.isolation.files
    assert secret.stat().st_mode == mode  # nothing of the grader's is changed for good
    assert (secret / "answers.py").read_text() == "SECRET = 1\n"


@as_root
def test_without_mount_namespaces_the_files_are_locked_then_restored(world_readable_secret,
                                                                     monkeypatch):
    import autograder.sandbox

    monkeypatch.setattr(autograder.sandbox, "mount_namespaces_work", lambda: False)
    secret = world_readable_secret
    mode = secret.stat().st_mode
    with Sandbox(PEEK, hidden=(secret,)) as sb:
        assert call(sb, "peek", [str(secret / "answers.py")]).outputs["v"] == "PermissionError"
        assert sb.isolation.files.startswith("unreadable to other users")
    assert secret.stat().st_mode == mode


def test_scratch_files_are_private_and_vanish_with_the_worker():
    src = ("import os\ndef scribble():\n    open('/tmp/rnngrade-scribble', 'w').write('x')\n"
           "    return os.path.exists('/tmp/rnngrade-scribble')\n")
    with Sandbox(src) as sb:
        sb.start()
        if not sb.isolation.files.startswith("hidden"):
            pytest.skip(f"no namespaces here: {sb.isolation.files}")
        assert call(sb, "scribble").outputs["v"] is True
    assert not os.path.exists("/tmp/rnngrade-scribble")


def test_there_is_no_network_not_even_loopback(sandbox):
    if "network" not in sandbox.isolation.files:
        pytest.skip(f"no network namespace here: {sandbox.isolation.files}")
    reply = call(sandbox, "net")
    assert not reply.ok


DAEMON_THEN_LEADER_EXITS = """
import os, threading, time, ctypes
def daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            threading.Thread(target=lambda: time.sleep(600), daemon=False).start()
            ctypes.CDLL(None).syscall(60, 0)  # the leader thread alone exits: a zombie leader
        os._exit(0)
    time.sleep(0.5)
    return os.getuid()
"""


def test_a_daemon_whose_leader_thread_exits_does_not_outlive_the_sandbox():
    """The double fork, setsid, and a raw exit of the leader thread: /proc shows a zombie, but
    one of its threads runs on."""
    with Sandbox(DAEMON_THEN_LEADER_EXITS) as sb:
        sb.start()
        reply = call(sb, "daemon")
        assert reply.ok, reply
    if os.geteuid() == 0:
        assert live_processes(reply.outputs["v"]) == []
    else:
        from autograder import spawner
        from autograder.processes import _children

        keep = Sandbox.workers | spawner.pids()  # the warm process is the judge's own child
        assert [p for p in _children(os.getpid()) if p not in keep] == []
