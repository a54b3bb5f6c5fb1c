"""nbgrader runs ``alembic`` from PATH when it makes or upgrades a gradebook (in process, too):
the venv's own bin first, as an activated venv has it (CI runs ``venv/bin/python -m pytest``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _venv_on_path(monkeypatch):
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}"
                               f"{os.environ.get('PATH', '')}")
