"""autograder.running, in process: the student's cells run as Jupyter would run them."""
from __future__ import annotations

from autograder.running import run_cells


def cells(*sources):
    return [{"label": f"code cell {i + 1}", "source": s} for i, s in enumerate(sources)]


def test_module_level_helpers_that_call_something_are_defined():
    module, notes, _ = run_cells(cells(
        "import functools, math\nsigmoid = lambda t: 1 / (1 + math.exp(-t))\n"
        "GATES = ('i', 'f', 'g', 'o')\nNUM_GATES = len(GATES)\n"
        "half = functools.partial(round, ndigits=1)\n",
        "try:\n    from torch.special import expit\nexcept ImportError:\n"
        "    def expit(t):\n        return t\n"), set(), False)
    assert notes == []
    assert module.NUM_GATES == 4 and module.half(1.26) == 1.3 and callable(module.expit)


def test_a_failing_statement_is_noted_with_its_cell_and_line_and_the_rest_still_runs():
    module, notes, _ = run_cells(cells("def f():\n    return 1\n", "y = f()\nz = undefined + 1\n",
                                       "def g():\n    return 2\n"), set(), False)
    assert module.y == 1 and module.g() == 2 and not hasattr(module, "z")
    assert notes == ["line 2 of code cell 2: NameError: name 'undefined' is not defined (this "
                     "statement failed; the cells after it still ran)"]


def test_a_training_loop_left_in_a_cell_is_stopped_and_noted():
    module, notes, _ = run_cells(cells("while True:\n    pass\n", "def f():\n    return 1\n"),
                                 set(), False, statement_s=0.2)
    assert module.f() == 1 and "line 1 of code cell 1: stopped after 0 s" in notes[0]


def test_an_except_exception_in_the_loop_does_not_swallow_the_stop():
    src = "while True:\n    try:\n        pass\n    except Exception:\n        pass\n"
    _, notes, _ = run_cells(cells(src), set(), False, statement_s=0.2)
    assert "stopped" in notes[0]


def test_refused_statements_are_skipped_and_definitions_only_runs_no_scratch_code():
    src = "import math\nX = 3\nY = math.sqrt(16)\nprint('scratch')\ndef f():\n    return X\n"
    module, notes, _ = run_cells(cells(src), {(0, 4)}, False)
    assert module.Y == 4.0 and notes == []  # line 4 skipped silently: the judge notes why
    module, _, _ = run_cells(cells(src), set(), True)
    assert module.f() == 3 and not hasattr(module, "Y")


def test_a_script_main_block_does_not_run_and_future_imports_apply():
    src = ("from __future__ import annotations\ndef f(x: Undefined) -> int:\n    return 1\n"
           "if __name__ == '__main__':\n    raise SystemExit('ran main')\n")
    module, notes, _ = run_cells(cells(src), set(), False)
    assert module.f(0) == 1 and notes == []


def test_an_exit_at_import_is_a_note_not_the_end():
    module, notes, _ = run_cells(cells("import sys\nsys.exit(3)\n", "def f():\n    return 1\n"),
                                 set(), False)
    assert module.f() == 1 and "SystemExit: 3" in notes[0]


def test_tracebacks_name_the_students_cell():
    module, _, names = run_cells(cells("x = 1", "def f():\n    return 1 / 0\n"), set(), False)
    try:
        module.f()
    except ZeroDivisionError as e:
        frame = e.__traceback__.tb_next
        assert names[frame.tb_frame.f_code.co_filename] == "code cell 2"
        assert frame.tb_lineno == 2


def test_cells_run_out_of_order_are_retried_once_the_names_they_use_exist():
    module, notes, _ = run_cells(cells("class B(A):\n    pass\n", "y = f()\n",
                                       "class A:\n    pass\n", "def f():\n    return 1\n"),
                                 set(), False)
    assert issubclass(module.B, module.A) and module.y == 1
    assert len(notes) == 2 and all("run after the cells below it" in n for n in notes)


def test_a_name_defined_nowhere_is_still_noted_as_a_failure():
    _, notes, _ = run_cells(cells("y = nowhere()\n", "z = 1\n"), set(), False)
    assert notes == ["line 1 of code cell 1: NameError: name 'nowhere' is not defined (this "
                     "statement failed; the cells after it still ran)"]


def test_retries_of_out_of_order_cells_share_the_cells_time_limit():
    _, notes, _ = run_cells(cells("y = later()\n", "import time\ntime.sleep(0.3)\n",
                                  "def later():\n    return 1\n"), set(), False, total_s=0.1)
    assert any("not run, the cells had taken" in n for n in notes)
