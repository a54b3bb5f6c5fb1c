"""Run a command in a fresh cgroup and read what all its processes used together: CPU seconds
(``cpuacct.usage`` / ``cpu.stat``) and peak memory (``memory.max_usage_in_bytes`` /
``memory.peak``), shared pages counted once, optionally under a memory limit. Needs root and
the controllers (cgroup v1 or v2); without them, CPU falls back to ``RUSAGE_CHILDREN`` (which
misses a grandchild nobody waited for) and memory is not measured."""
from __future__ import annotations

import os
import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Usage:
    cpu_s: float
    wall_s: float
    peak_bytes: int | None  # None: not measured
    returncode: int
    stdout: str
    how: str  # where the figures came from

    @property
    def peak_mib(self) -> str:
        return "-" if self.peak_bytes is None else f"{self.peak_bytes / 2**20:.0f}"


def _groups(name: str) -> tuple[list[Path], str] | None:
    if os.geteuid() != 0:
        return None
    v2 = CGROUP / "cgroup.controllers"
    if v2.exists():
        if {"cpu", "memory"} <= set(v2.read_text().split()):
            return [CGROUP / name], "v2"
        return None
    if (CGROUP / "cpuacct").is_dir() and (CGROUP / "memory").is_dir():
        return [CGROUP / "cpuacct" / name, CGROUP / "memory" / name], "v1"
    return None


def run(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None,
        memory_limit: int | None = None) -> Usage:
    """``cmd`` to the end, in a cgroup of its own where the machine allows one."""
    found = _groups(f"rnngrade-bench-{os.getpid()}")
    start = time.monotonic()
    if found is None:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        return Usage(cpu, time.monotonic() - start, None, proc.returncode, proc.stdout,
                     "getrusage (no cgroup)")
    groups, version = found
    for g in groups:
        g.mkdir(exist_ok=True)
    try:
        if memory_limit is not None:
            limit = groups[-1] / ("memory.max" if version == "v2" else "memory.limit_in_bytes")
            limit.write_text(str(memory_limit))
        enter = " && ".join(f"echo $$ > {g}/cgroup.procs" for g in groups)
        proc = subprocess.run(["sh", "-c", f'{enter} && exec "$@"', "sh", *cmd], env=env,
                              cwd=cwd, capture_output=True, text=True)
        wall = time.monotonic() - start
        if version == "v2":
            stat = dict(line.split() for line in (groups[0] / "cpu.stat").read_text().splitlines())
            cpu = int(stat["usage_usec"]) / 1e6
            peak = int((groups[0] / "memory.peak").read_text())
        else:
            cpu = int((groups[0] / "cpuacct.usage").read_text()) / 1e9
            peak = int((groups[1] / "memory.max_usage_in_bytes").read_text())
        return Usage(cpu, wall, peak, proc.returncode, proc.stdout, f"cgroup {version}")
    finally:
        for g in groups:
            for _ in range(50):  # the last process may take a moment to leave
                try:
                    g.rmdir()
                    break
                except OSError:
                    time.sleep(0.1)
