"""How the worker confines itself before any student code runs. Standard library only (and
pyseccomp where installed): copied into the sandbox beside ``worker.py``.

1. ``isolate``: a private mount and network namespace (as root; as another user inside a user
   namespace of its own, where the kernel allows one): the grader's folders are covered with
   empty, unreadable mounts, ``/tmp``, ``/var/tmp``, ``/dev/shm`` and ``/run/lock`` with small
   private ones that vanish with the worker (the worker's own folder copied into its ``/tmp``),
   no SysV or POSIX IPC object is shared, and there is no network at all.
2. ``drop_privileges`` (as root): become the sandbox user for good.
3. ``limit``: rlimits, then a seccomp filter that denies IP sockets, signals and tracing aimed at
   other processes, io_uring, and every way to change namespaces or mounts.
"""
from __future__ import annotations

import ctypes
import errno
import os
import resource
import signal

CLONE_PARENT, CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x8000, 0x20000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x10000000, 0x20000000, \
    0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_REC, MS_PRIVATE = 1, 2, 4, 0x4000, 0x40000
PRIVATE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
PRIVATE_SIZE = b"size=64m,mode=1777"  # the student's scratch space, gone with the worker
DENIED = ("io_uring_setup", "io_uring_enter", "io_uring_register", "ptrace",
          "process_vm_readv", "process_vm_writev", "tkill", "pidfd_send_signal", "pidfd_getfd",
          "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount",
          "fsopen", "fsmount", "open_tree", "bpf", "perf_event_open", "userfaultfd", "keyctl",
          "add_key", "request_key", "kexec_load", "init_module", "finit_module", "personality")
SIGNALS = ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")  # to itself only
# clone() flags refused: a child of its parent's parent (outside the judge's bookkeeping), new
# namespaces. clone3 hides its flags in memory seccomp cannot read: it answers ENOSYS, and libc
# falls back to clone (as Docker's default profile does)
CLONE_REFUSED = (CLONE_PARENT, CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
                 CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET)


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount(libc, source: bytes, target: str, flags: int, data: bytes) -> int:
    return libc.mount(source, target.encode(), b"tmpfs", flags, data)


MS_BIND = 0x1000


def isolate(hide: list[str], as_root: bool, keep: tuple[str, ...] = (),
            owner: tuple[int, int] | None = None) -> str:
    """Enter new mount, network and IPC namespaces, then hide ``hide`` and make the scratch
    folders private, ``keep`` (the worker's own folder, its Python's environment) excepted: the
    worker's folder (``keep[0]``) is copied into the private scratch space it is under, owned by
    ``owner`` (uid, gid), so that it is as small as that space; the others are bind-mounted
    back. Returns what was achieved, in words."""
    libc = _libc()
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC  # IPC: no SysV or POSIX queue shared
    if not as_root:  # a user namespace of our own first: it lets us mount, for ourselves only
        uid, gid = os.getuid(), os.getgid()
        if libc.unshare(CLONE_NEWUSER | flags) != 0:
            return f"not hidden (no user namespace: errno {ctypes.get_errno()})"
        try:
            for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"),
                               ("gid_map", f"{gid} {gid} 1")):
                with open(f"/proc/self/{name}", "w") as f:
                    f.write(text)
        except OSError as e:
            return f"not hidden (user namespace not mapped: {e.strerror})"
    elif libc.unshare(flags) != 0:
        return f"not hidden (no mount namespace: errno {ctypes.get_errno()})"
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"not hidden (mounts not private: errno {ctypes.get_errno()})"
    # opened in the new namespace, to be seen again where they were once covered
    held = {k: os.open(k, os.O_PATH | os.O_DIRECTORY) for k in keep if os.path.isdir(k)}
    for path in hide:
        if _mount(libc, b"tmpfs", path, MS_RDONLY | MS_NOSUID | MS_NODEV, b"size=4k,mode=0"):
            return f"not hidden ({path}: errno {ctypes.get_errno()})"
    private = [p for p in PRIVATE_DIRS if os.path.isdir(p) and
               _mount(libc, b"tmpfs", p, MS_NOSUID | MS_NODEV, PRIVATE_SIZE) == 0]
    for path, fd in held.items():
        if any(path.startswith(p + "/") for p in private):
            if keep and path == keep[0]:  # the worker's folder: a copy in the private scratch
                _copy_in(fd, path, owner)  # space, so what it writes counts against its size
            else:
                os.makedirs(path, exist_ok=True)
                if libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND,
                              None):
                    return f"not hidden ({path}: errno {ctypes.get_errno()})"
        os.close(fd)
    if keep:
        os.chdir(keep[0])  # the working folder (keep's first), as now mounted
    return ("hidden (private mount, network and IPC namespaces" +
            (f"; private {', '.join(private)}" if private else "") + ")")


def _copy_in(fd: int, path: str, owner: tuple[int, int] | None) -> None:
    import shutil

    shutil.copytree(f"/proc/self/fd/{fd}", path, dirs_exist_ok=True)
    if owner is not None:
        for root, dirs, files in os.walk(path):
            for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
                os.chown(name, *owner)
    os.chmod(path, 0o700)


def drop_privileges(uid: int, gid: int) -> None:
    """Become the sandbox user for good (started as root)."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if os.getuid() == 0 or os.geteuid() == 0:
        raise SystemExit("the worker could not drop root")


def limit(limits: dict) -> str:
    """Lower rlimits and install seccomp; return a word on what seccomp did."""
    for name, value in limits.items():
        res = getattr(resource, name)
        soft, hard = resource.getrlimit(res)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(res, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails, not the worker
    try:
        import socket

        import pyseccomp as sc
    except ImportError:
        return "unavailable (pyseccomp not installed)"
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        f.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
        for call in SIGNALS:
            f.add_rule(sc.ERRNO(errno.EPERM), call, sc.Arg(0, sc.NE, os.getpid()))
        for flag in CLONE_REFUSED:
            f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
        for call, code in [*((c, errno.EPERM) for c in DENIED), ("clone3", errno.ENOSYS)]:
            try:
                f.add_rule(sc.ERRNO(code), call)
            except Exception:  # a system call this kernel or libseccomp does not know
                pass
        f.load()
        return ("on (no network sockets, no signals or tracing of other processes, no "
                "io_uring, no namespace or mount changes, no children outside its own)")
    except Exception as e:  # e.g. no libseccomp on this platform
        return f"unavailable ({type(e).__name__})"
