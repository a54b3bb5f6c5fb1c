"""Shared fixtures: tolerances per dtype, and the CUDA skip."""
from __future__ import annotations

import pytest
import torch

from autograder.compare import TOLERANCES  # noqa: E402  (the one table: see its comment)

TOL = {torch.float64: TOLERANCES["reference"]["float64"],
       torch.float32: TOLERANCES["reference"]["float32"]}

requires_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

# The tests' tensors are small: more threads only add contention, many times over on a busy
# 2-core machine (as the grader does with --threads 1).
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def built_homework(tmp_path_factory):
    """``rnngrade build assignments/rnn_lstm`` once per test session (about 6 s)."""
    pytest.importorskip("otter", reason="building the homework needs the 'assign' extra")
    from pathlib import Path

    from authoring.build import build

    root = Path(__file__).resolve().parents[1]
    return build(root / "assignments" / "rnn_lstm", tmp_path_factory.mktemp("dist"))


@pytest.fixture
def nbgrader_course(built_homework, tmp_path):
    """A copy of the built nbgrader course, and ``nbgrader(*args)``: runs ``nbgrader ARGS`` in
    it (the venv's alembic on PATH, the notebook's experiments short), asserting it worked."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    course = tmp_path / "course"
    shutil.copytree(built_homework.nbgrader, course)
    env = {**os.environ, "RNNGRADE_FAST": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    def nbgrader(*args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env,
                              capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        assert "not recognized" not in proc.stderr, proc.stderr[-2000:]  # the config is current
        return proc

    return course, nbgrader
