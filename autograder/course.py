"""The course's configuration: one TOML file that the grader, ``rnngrade parts`` and the
Gradescope upload all read (``course.toml`` at the checkout's root; its defaults are the README's
point table).

    [grading]
    parts = [1, 2, 3, 4, 5, 6, 7]     # the parts graded (the others are left out of the total)
    budget_s = 600                    # one whole submission (Gradescope: 480 unless set)
    [points]
    "4.7" = 8                         # a test's points, by its number; unlisted tests keep theirs
    [homework]
    part7_max_steps = 1500            # a homework's own settings (``rnngrade parts`` lists them)
    [policy]
    due = "2026-12-15T23:59:00-08:00" # ISO 8601 with a time zone ("": Gradescope's own due date)
    late = "10% off per day late"     # shown to a student whose submission came after it

Which file: ``--course FILE``, else ``$RNNGRADE_COURSE``, else ``course.toml`` beside the
packages (the checkout, or the Gradescope upload's root). Every value is checked when the file
is read; a mistake names the key and what it expected.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from dataclasses import dataclass
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (Gradescope's Ubuntu 22.04)
    import tomli as tomllib

from .spec import Homework, SettingError, Suite, numbered

DEFAULT = Path(__file__).resolve().parents[1] / "course.toml"


class CourseError(ValueError):
    pass


@dataclass(frozen=True)
class Course:
    parts: tuple[int, ...] = ()  # empty: every part
    points: tuple[tuple[str, float], ...] = ()  # (test number, points)
    budget_s: float | None = None
    due: str = ""
    late: str = ""
    source: str = ""  # the file read, for messages
    settings: tuple[tuple[str, object], ...] = ()  # [homework], checked against the homework

    def values(self, homework: Homework) -> dict[str, float | int]:
        """The ``[homework]`` table, every name and value checked against ``homework``."""
        known = {s.name: s for s in homework.settings}
        unknown = sorted(set(dict(self.settings)) - set(known))
        if unknown:
            raise CourseError(f"{self.source}: [homework] sets {', '.join(unknown)}, which "
                              f"{homework.name} does not have (it has "
                              f"{', '.join(known) or 'none'}: rnngrade parts lists them)")
        try:
            return {name: known[name].check(value) for name, value in self.settings}
        except SettingError as e:
            raise CourseError(f"{self.source} [homework]: {e}") from None

    def suites(self, homework: Homework, seed: int) -> list[Suite]:
        """The homework's suites from ``seed`` with this course's settings, parts and points."""
        try:
            suites = homework.suites(seed, **self.values(homework))
        except SettingError as e:  # settings that cannot go together
            raise CourseError(f"{self.source} [homework]: {e}") from None
        return self.configure(suites)

    def configure(self, suites: list[Suite]) -> list[Suite]:
        """``suites`` with only the configured parts, each test at its configured points."""
        points = dict(self.points)
        known = {number for _, _, number in numbered(suites)}
        unknown = sorted(set(points) - known)
        if unknown:
            raise CourseError(f"{self.source}: [points] names {', '.join(unknown)}, which no "
                              "test has (rnngrade parts lists the numbers)")
        replaced = {id(t): dataclasses.replace(t, points=points[n])
                    for _, t, n in numbered(suites) if n in points}
        return [dataclasses.replace(s, tests=[replaced.get(id(t), t) for t in s.tests])
                for s in suites if not self.parts or s.part in self.parts]


def _number(table: dict, key: str, where: str) -> float:
    value = table[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise CourseError(f"{where}: {key} must be a number >= 0, not {value!r}")
    return float(value)


def load(path: Path | str | None = None) -> Course:
    """The course file at ``path`` (or ``$RNNGRADE_COURSE``, or ``course.toml`` beside the
    packages); the defaults when there is none."""
    chosen = path or os.environ.get("RNNGRADE_COURSE") or (DEFAULT if DEFAULT.is_file() else None)
    if chosen is None:
        return Course()
    where = str(chosen)
    try:
        data = tomllib.loads(Path(chosen).read_text())
    except OSError as e:
        raise CourseError(f"cannot read the course file {where}: {e.strerror}") from e
    except tomllib.TOMLDecodeError as e:
        raise CourseError(f"{where} is not valid TOML: {e}") from e
    grading, policy = data.get("grading", {}), data.get("policy", {})
    parts = grading.get("parts", [])
    if not isinstance(parts, list) or not all(isinstance(p, int) and 1 <= p <= 99 for p in parts):
        raise CourseError(f"{where}: [grading] parts must be a list of part numbers, "
                          f"like [1, 2, 3], not {parts!r}")
    points = tuple((str(k), _number(data.get("points", {}), k, f"{where} [points]"))
                   for k in data.get("points", {}))
    budget = _number(grading, "budget_s", f"{where} [grading]") if "budget_s" in grading else None
    for key in ("due", "late"):
        if not isinstance(policy.get(key, ""), str):
            raise CourseError(f"{where}: [policy] {key} must be a string")
    settings = data.get("homework", {})
    if not isinstance(settings, dict):
        raise CourseError(f"{where}: [homework] must be a table of name = value")
    return Course(tuple(parts), points, budget, policy.get("due", ""), policy.get("late", ""),
                  where, tuple(settings.items()))
