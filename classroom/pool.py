"""Grading many submissions at once: a local pool of judge processes, or a Dask cluster.

Each grading is one call of the application's ``grade(job) -> GradeReport`` in another process;
the results come back to the one coordinating process, which alone writes the gradebook. A
grading that fails in a way its function did not catch (a pool process killed, a Dask worker
lost) comes back as the grader's failsafe report, never as a missing row.

**Local** (the default): a ``ProcessPoolExecutor`` whose processes are forked from a
*forkserver* that imported the judge, the homework and torch once, before any hidden case was
drawn: each judge process starts warm (no 3 s interpreter and torch start per submission) and
grades many submissions one after another; each grading still starts its own sandboxed worker,
under its own sandbox user (``autograder.sandbox.claim_user``), budget and namespaces.

**Dask** (``--dask ADDRESS``): each grading is a task on an existing ``distributed`` cluster;
the function must be importable on the workers (the package installed there). What isolation a
Dask worker gives is that of the user who started it: as root, the full sandbox; as anyone
else, the reduced one (the report's ``isolation`` says which, per submission).
"""
from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from autograder.course import Course
from autograder.results import GradeReport, failsafe_report


@dataclass(frozen=True)
class Job:
    """One grading, as sent to a pool process or a Dask worker (plain, picklable values)."""

    key: str
    path: str
    seed: int | None
    only: str = ""
    threads: int = 1
    request_s: float = 60.0
    total_s: float = 600.0
    hidden: tuple[str, ...] = ()
    course: Course = Course()  # the course file, read once by the coordinator


def available_cores() -> int:
    """The CPUs this process may use: its affinity, capped by a cgroup CPU quota (v2's
    ``cpu.max`` or v1's ``cpu.cfs_quota_us``), at least 1."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    quota = _cgroup_quota(Path("/sys/fs/cgroup"))
    if quota is not None:
        cores = min(cores, max(1, int(quota + 0.5)))
    return max(1, cores)


def _cgroup_quota(root: Path) -> float | None:
    try:
        quota, period = (root / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota = int((root / "cpu" / "cpu.cfs_quota_us").read_text())
        period = int((root / "cpu" / "cpu.cfs_period_us").read_text())
        return None if quota <= 0 else quota / period
    except (OSError, ValueError):
        return None


def _started(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/PID/stat), or None if it is gone or a
    zombie: with the pid, it names one process even after the pid is reused."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _watch(parent: int, started: str | None) -> None:
    """In each judge process: when the coordinating process is gone (``kill -9``), stop as a
    Ctrl-C would (the sandbox is closed on the way out), then exit. Without it, the pool's
    processes hold each other's pipes open and would wait for work forever."""
    def watch() -> None:
        while _started(parent) == started:
            time.sleep(1.0)
        # to the main thread itself: a signal the process gets may land in this thread, and
        # the main thread, blocked reading the pool's pipe, would never see it
        signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
        time.sleep(30.0)  # the grading's sandbox closes in well under that
        os._exit(1)

    # the forkserver's children inherit its SIGINT ignored: a Ctrl-C (or the watch) must stop a
    # grading through its context managers, which close the sandbox
    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=watch, name="rnngrade-parent-watch", daemon=True).start()


def _failed(job: Job, exc: BaseException) -> GradeReport:
    report = failsafe_report(job.key, exc)
    report.output = (f"{report.output}\n\nThe grading process itself stopped: "
                     f"{type(exc).__name__}: {exc}")
    return report


def run_local(jobs: Iterable[Job], grade: Callable[[Job], GradeReport], workers: int,
              preload: tuple[str, ...] = ()) -> Iterator[tuple[Job, GradeReport]]:
    """Yield ``(job, report)`` as gradings finish, ``workers`` at a time. Jobs are submitted
    only as slots free up, so a stop loses at most the ``workers`` gradings in flight.

    A judge process that dies (the kernel's OOM killer, a crash in torch) breaks the whole pool:
    the gradings that were in flight are retried each alone in a fresh pool, so the one that
    kills its process is reported as a grader error and the others are graded."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(preload))
    pending = list(jobs)[::-1]  # popped from the end
    suspects: list[Job] = []
    while pending or suspects:
        alone = bool(suspects)
        batch = [suspects.pop()] if alone else pending
        with ProcessPoolExecutor(max_workers=1 if alone else workers, mp_context=ctx,
                                 initializer=_watch,
                                 initargs=(os.getpid(), _started(os.getpid()))) as pool:
            running: dict[Future, Job] = {}
            try:
                while batch or running:
                    while batch and len(running) < (1 if alone else workers):
                        job = batch.pop()
                        running[pool.submit(grade, job)] = job
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    broken = [running.pop(f) for f in done if isinstance(f.exception(),
                                                                          BrokenProcessPool)]
                    for future in done:
                        if future in running:
                            job = running.pop(future)
                            try:
                                yield job, future.result()
                            except Exception as e:  # raised in the grading function
                                yield job, _failed(job, e)
                    if broken:
                        broken += list(running.values())
                        running.clear()
                        if alone:
                            yield broken[0], _failed(broken[0], BrokenProcessPool(
                                "the judge process grading it died (out of memory? a crash)"))
                        else:
                            suspects.extend(broken)
                        break
            finally:
                for future in running:
                    future.cancel()


def run_dask(jobs: Iterable[Job], grade: Callable[[Job], GradeReport],
             address: str) -> Iterator[tuple[Job, GradeReport]]:
    """Yield ``(job, report)`` as the cluster at ``address`` finishes them (``distributed``
    needed: ``pip install 'rnngrade[cluster]'``)."""
    try:
        from distributed import Client, as_completed
    except ImportError as e:  # pragma: no cover - the extra is installed in CI
        raise RuntimeError("--dask needs Dask's distributed scheduler: pip install "
                           "'dask[distributed]' (or the package's [cluster] extra)") from e
    jobs = list(jobs)
    with Client(address, set_as_default=False) as client:
        futures = {client.submit(grade, job, pure=False, key=f"rnngrade-{i}-{job.key}"): job
                   for i, job in enumerate(jobs)}
        try:
            for future in as_completed(list(futures), loop=client.loop):
                job = futures[future]
                try:
                    yield job, future.result()
                except Exception as e:  # the task raised, or its worker was lost
                    yield job, _failed(job, e)
        finally:
            client.cancel(list(futures))
