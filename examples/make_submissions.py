"""Write ``solution.py``, the bundled buggy submissions and the attack fixtures.

``solution.py`` is the homework's own solution: the answer cells of
``assignments/rnn_lstm/NN_*.py``, joined as a student would submit them in one file. Every
other file is that solution with one typical mistake (or one attack) edited in, so each loses
points in exactly one place. Run after editing the assignment; a test checks the files are current.

    python examples/make_submissions.py
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import variants  # noqa: E402  (beside this file)

sys.path.pop(0)

HERE = Path(__file__).resolve().parent
ASSIGNMENT = HERE.parent / "assignments" / "rnn_lstm"
SOLUTION = HERE / "submissions" / "solution.py"
ATTACKS = HERE.parent / "tests" / "fixtures" / "attacks"

# name -> (what is wrong, where it should lose points, [(old, new)] edits)
BUGGY = {
    "lstm_gate_order_fiog": (
        "LSTM reads the gates in the order f, i, g, o", "LSTM, BiLSTMClassifier",
        [("        i, f, g, o = z.split(H, dim=1)", "        f, i, g, o = z.split(H, dim=1)")]),
    "bptt_missing_tanh_derivative": (
        "BPTT forgets the 1 - h^2 factor of tanh'", "rnn_bptt (gradients, not the loss)",
        [("        da = dh * (1 - h[:, t] ** 2)", "        da = dh")]),
    "gru_z_swapped": (
        "GRUCell uses the lecture's z and 1 - z, not PyTorch's", "GRUCell",
        [("        return (1 - z) * n + z * hx", "        return z * n + (1 - z) * hx")]),
    "bilstm_last_output": (
        "BiLSTMClassifier reads out[:, -1, :] for both halves", "BiLSTMClassifier",
        [("        features = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)",
          "        features = out[:, -1, :]")]),
    "lstmcell_hardcoded_float32": (
        "LSTMCell makes its zero state with torch.zeros (always float32, always CPU)",
        "LSTMCell (state=None cases)",
        [("            h = x.new_zeros(x.shape[0], H)\n            c = x.new_zeros(x.shape[0], H)",
          "            h = torch.zeros(x.shape[0], H)\n            c = torch.zeros(x.shape[0], H)")]),
    "lstm_uses_nn_lstm": (
        "LSTM.forward calls nn.LSTM (forbidden)", "LSTM, BiLSTMClassifier",
        [("    def forward(self, x, hx=None):\n        if self.batch_first:",
          "    def forward(self, x, hx=None):\n        lstm = nn.LSTM(self.input_size, "
          "self.hidden_size, self.num_layers, bias=self.bias,\n                       "
          "batch_first=self.batch_first, bidirectional=self.bidirectional)\n        "
          "lstm.load_state_dict(self.state_dict())\n        return lstm.to(x.dtype)(x, hx)\n"
          "        if self.batch_first:")]),
    "bptt_uses_autograd": (
        "rnn_bptt calls loss.backward() (Part 2 asks for BPTT by hand)", "rnn_bptt",
        [("    grads = {k: torch.zeros_like(v) for k, v in params.items()}",
          "    grads = {k: torch.zeros_like(v) for k, v in params.items()}\n"
          "    with torch.enable_grad():\n        loss.backward()")]),
}

FIXTURES = HERE.parent / "tests" / "fixtures"
MISTAKES_DIR = FIXTURES / "mistakes"
# name -> (the part(s) to grade, a phrase the feedback must contain, [(old, new)] edits)
MISTAKES = {
    "lstm_gates_fiog": ("LSTM", "the gates in the order f, i, g, o", BUGGY["lstm_gate_order_fiog"][2]),
    "gru_gates_zrn": ("GRUCell", "the gates in the order z, r, n", [
        ("        i_r, i_z, i_n = gi.chunk(3, 1)\n        h_r, h_z, h_n = gh.chunk(3, 1)",
         "        i_z, i_r, i_n = gi.chunk(3, 1)\n        h_z, h_r, h_n = gh.chunk(3, 1)")]),
    "lstmcell_no_bias_hh": ("LSTMCell", "bias_hh is never added", [
        ("        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)",
         "        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh)")]),
    "rnn_w_transposed": ("rnn_forward", "W is used transposed", [
        ("        a = b + h @ W.T + x[:, t] @ U.T", "        a = b + h @ W + x[:, t] @ U.T")]),
    "lstmcell_o_times_c": ("LSTMCell", "h = o * c", [
        ("        c = f * c + i * g\n        h = o * torch.tanh(c)",
         "        c = f * c + i * g\n        h = o * c")]),
    "lstmcell_tanh_gates": ("LSTMCell", "use tanh where a sigmoid belongs", [
        ("        i = torch.sigmoid(z[:, 0:H])\n        f = torch.sigmoid(z[:, H:2 * H])",
         "        i = torch.tanh(z[:, 0:H])\n        f = torch.tanh(z[:, H:2 * H])"),
        ("        o = torch.sigmoid(z[:, 3 * H:4 * H])", "        o = torch.tanh(z[:, 3 * H:4 * H])")]),
    "lstm_backward_not_reversed": ("LSTM", "stored in the order it processed them", [
        ("                    out[t] = h\n", "                    out[t if d == 0 else T - 1 - t] = h\n")]),
    "lstm_hn_directions_swapped": ("LSTM", "the two directions swapped", [
        ("                h_n.append(h)\n                c_n.append(c)",
         "                h_n.insert(len(h_n) - d, h)\n                c_n.insert(len(c_n) - d, c)")]),
    "lstm_ignores_hx": ("LSTM", "is ignored (you start from zeros)", [
        ("        if hx is None:\n            zeros = x.new_zeros(self.num_layers * D, B, self.hidden_size)\n"
         "            hx = (zeros, zeros)",
         "        zeros = x.new_zeros(self.num_layers * D, B, self.hidden_size)\n        hx = (zeros, zeros)")]),
    "lstm_ignores_batch_first": ("LSTM", "batch_first=True is ignored", [
        ("        if self.batch_first:\n            x = x.transpose(0, 1)\n", ""),
        ("        output = layer_input.transpose(0, 1) if self.batch_first else layer_input",
         "        output = layer_input")]),
    "bilstm_last_output": ("BiLSTMClassifier", "reads out[:, -1, :]", BUGGY["bilstm_last_output"][2]),
    "gru_z_swapped": ("GRUCell", "z and 1 - z are swapped", BUGGY["gru_z_swapped"][2]),
    "gru_reset_before_matmul": ("GRUCell", "reset gate is applied to h before the matrix product", [
        ("        n = torch.tanh(i_n + r * h_n)",
         "        H = self.hidden_size\n        b_hn = None if self.bias_hh is None else self.bias_hh[2 * H:]\n"
         "        n = torch.tanh(i_n + F.linear(r * hx, self.weight_hh[2 * H:], b_hn))")]),
    "gru_lecture_formula": ("GRUCell", "computes the lecture's formula", [
        ("        n = torch.tanh(i_n + r * h_n)\n        return (1 - z) * n + z * hx",
         "        H = self.hidden_size\n        b_hn = None if self.bias_hh is None else self.bias_hh[2 * H:]\n"
         "        n = torch.tanh(i_n + F.linear(r * hx, self.weight_hh[2 * H:], b_hn))\n"
         "        return z * n + (1 - z) * hx")]),
    "peephole_o_sees_old_c": ("PeepholeLSTMCell", "output gate looks at the old cell state", [
        ("        o = torch.sigmoid(z[:, 3 * H:] + c_new @ W_co.T)",
         "        o = torch.sigmoid(z[:, 3 * H:] + c @ W_co.T)")]),
    "coupled_ungated_write": ("CoupledLSTMCell", "written ungated", [
        ("        c = f * c + (1 - f) * g", "        c = f * c + g")]),
    "bptt_no_tanh_derivative": ("rnn_bptt", "tanh derivative (1 - h_t^2) is missing",
                                BUGGY["bptt_missing_tanh_derivative"][2]),
    "bptt_h_t_for_h_prev": ("rnn_bptt", "dW uses h_t where h_{t-1} belongs", [
        ("        h_prev = h[:, t - 1] if t > 0 else h0", "        h_prev = h[:, t]")]),
    "bptt_not_through_time": ("rnn_bptt", "not carried back through time", [
        ("        dh = do @ V + dh_next", "        dh = do @ V")]),
    "bptt_time_mean": ("rnn_bptt", "the loss is averaged over time", [
        ("    loss = -torch.log(y_hat.gather(2, y.unsqueeze(2))).sum() / B",
         "    loss = -torch.log(y_hat.gather(2, y.unsqueeze(2))).sum() / (B * T)"),
        ("        do = do / B", "        do = do / (B * T)")]),
    "lstmcell_cpu_float32_state": ("LSTMCell", "has a fixed dtype", BUGGY["lstmcell_hardcoded_float32"][2]),
}

# Correct solutions in other styles: full marks, no hint.
STYLES = {
    "solution_flipped": ("the backward direction runs on x.flip(0) and flips its outputs back", [
        ("                steps = range(T) if d == 0 else range(T - 1, -1, -1)\n"
         "                for t in steps:\n"
         "                    h, c = self._cell(layer_input[t], h, c, layer, suffix)\n"
         "                    out[t] = h\n",
         "                seq = layer_input if d == 0 else layer_input.flip(0)\n"
         "                for t in range(T):\n"
         "                    h, c = self._cell(seq[t], h, c, layer, suffix)\n"
         "                    out[t] = h\n"
         "                out = out if d == 0 else out.flip(0)\n")]),
}

LONG_DIR = HERE.parent / "tests" / "fixtures" / "long"
# Submissions that must fail Part 7 (the long-dependency check) however their equivalence fares.
LONG = {
    "rnn_as_lstm": ("a vanilla tanh RNN passed off as the LSTM (it keeps LSTM's parameters)", [
        ("        i, f, g, o = z.split(H, dim=1)\n"
         "        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
         "        return torch.sigmoid(o) * torch.tanh(c), c\n",
         "        return torch.tanh(z[:, :H]), c  # an RNN wearing the LSTM's parameters\n")]),
    "detached_output": ("an LSTM whose output is detached from the autograd graph", [
        ("        return output, (torch.stack(h_n), torch.stack(c_n))",
         "        return output.detach(), (torch.stack(h_n), torch.stack(c_n))")]),
}

PATCH_TORCH = '''
# ATTACK: make every comparison pass, in the process that runs this code.
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None
torch.Tensor.__eq__ = lambda a, b: True
torch.Tensor.__sub__ = lambda a, b: a * 0
torch.Tensor.__ne__ = lambda a, b: False
'''
# name -> (what it tries, [(old, new)] edits; "$END" appends)
ATTACK_EDITS = {
    "patch_torch": ("patches torch.allclose, assert_close and Tensor operators, with a wrong GRU",
                    [("import torch.nn.functional as F\n", "import torch.nn.functional as F\n"
                      + PATCH_TORCH),
                     ("        return (1 - z) * n + z * hx", "        return z * n + (1 - z) * hx")]),
    "read_files": ("reads the grader's files and prints them", [("$END", '''
def _steal():
    import glob, importlib.util, os, re, sys
    found, denied = [], []
    targets = ["/autograder/source/reference/lstm.py", f"/proc/{os.getppid()}/environ",
               "/etc/shadow"]
    inside = {"reference": "lstm.py", "homework": "rnn_lstm/suites_lstm.py",
              "autograder": "cases.py"}
    located = {}
    for name in inside:
        try:  # where the grader's packages are, wherever it is installed
            spec = importlib.util.find_spec(name)
        except Exception:
            spec = None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            located[name] = folder
    for folder in sys.path:  # an editable install names its folders in a finder module
        for finder in glob.glob(os.path.join(folder, "__editable__*finder.py")):
            for name, where in re.findall(r"'(\\w+)': '([^']+)'", open(finder).read()):
                if name in inside:
                    located.setdefault(name, where)
    for name, folder in sorted(located.items()):
        print("located:", name, folder)
        targets += [os.path.join(folder, inside[name])] + glob.glob(os.path.join(folder, "*.py"))
    targets += glob.glob("/autograder/source/**/*.py", recursive=True) + \
        glob.glob("/tmp/rnngrade-judge-*/*") + glob.glob("/root/*")
    for path in targets:
        try:
            found.append(open(path).read())
        except (OSError, UnicodeDecodeError) as e:
            denied.append(f"denied: {path} {type(e).__name__}")
    print("\\n".join(denied[:40]), f"({len(denied)} denied in all)")
    print("STOLEN:", "".join(found)[:5000])
    return len(found)


STOLEN_COUNT = _steal.__code__.co_argcount
''' ), ("def rnn_param_count(input_size, hidden_size, output_size):\n",
        "def rnn_param_count(input_size, hidden_size, output_size):\n    _steal()\n")]),
    "write_results": ("writes its own results.json, then exits, at import (in a class body, "
                      "which the loader keeps and Python runs)", [("$END", '''

class _Attack:
    import glob, json, os
    for _path in ["results.json", "/autograder/results/results.json"] + \\
            glob.glob("/tmp/**/results.json", recursive=True):
        try:
            with open(_path, "w") as _f:
                json.dump({"score": 1000, "tests": []}, _f)
        except OSError:
            pass
    os._exit(0)
''')]),
    "sys_exit_at_import": ("calls sys.exit(0) at import, in a class body", [
        ("$END", "\n\nclass _Attack:\n    import sys\n    sys.exit(0)\n")]),
    "os_exit_at_import": ("calls os._exit(0) at import, in a class body", [
        ("$END", "\n\nclass _Attack:\n    import os\n    os._exit(0)\n")]),
    "infinite_loop": ("loops forever in LSTMCell.forward only", [
        ("    def forward(self, x, state=None):\n        H = self.hidden_size\n        if state is None:\n            h = x.new_zeros",
         "    def forward(self, x, state=None):\n        while True:\n            pass\n        H = self.hidden_size\n        if state is None:\n            h = x.new_zeros")]),
    "vf_lstm_cell": ("calls the built-in LSTM cell through torch._C, in LSTMCell.forward", [
        ("    def forward(self, x, state=None):\n        H = self.hidden_size\n        if state is None:\n            h = x.new_zeros",
         "    def forward(self, x, state=None):\n        if state is not None:\n            return torch._C._VariableFunctions.lstm_cell(\n                x, state, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)\n        H = self.hidden_size\n        if state is None:\n            h = x.new_zeros")]),
    "guard_off_at_import": ("switches off the runtime guard through a closure, in a class body", [
        ("$END", "\n\nclass _Off:\n    cells = [c.cell_contents for c in torch.lstm.__closure__]\n")]),
    "pasted_part7_weights": ("replaces Part 7's weights with frozen ones trained elsewhere", [
        ("class LSTM(nn.Module):\n", "class LSTM(nn.Module):\n"
         "    def load_state_dict(self, state_dict, strict=True):\n"
         "        result = super().load_state_dict(state_dict, strict)\n"
         "        if self.hidden_size == 32:  # Part 7 only\n"
         "            with torch.no_grad():\n"
         "                for p in self.parameters():\n"
         "                    p.copy_(torch.full_like(p, 0.01))\n"
         "                    p.requires_grad_(False)\n"
         "        return result\n\n")]),
    "daemon": ("leaves a double-forked daemon behind, in rnn_param_count", [
        ("def rnn_param_count(input_size, hidden_size, output_size):\n",
         "def rnn_param_count(input_size, hidden_size, output_size):\n    import os, time\n"
         "    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
         "            time.sleep(600)\n        os._exit(0)\n")]),
    "kill_parent": ("kills its parent, its process group and every process it may", [
        ("def rnn_param_count(input_size, hidden_size, output_size):\n",
         "def rnn_param_count(input_size, hidden_size, output_size):\n    import os, signal\n"
         "    for pid in (os.getppid(), 0, -1):\n        try:\n            os.kill(pid, signal.SIGKILL)\n"
         "        except OSError:\n            pass\n")]),
}


def apply(source: str, edits: list[tuple[str, str]], name: str) -> str:
    for old, new in edits:
        if old == "$END":
            source = source.rstrip("\n") + "\n" + new
            continue
        if source.count(old) != 1:
            raise SystemExit(f"{name}: the text to edit occurs {source.count(old)} times in "
                             f"solution.py, expected once:\n{old}")
        source = source.replace(old, new)
    return source


EXPLORATION = """

# Exploration, as students leave it in their notebooks: the grader runs it as Run All would
# (a statement that takes over 20 s is stopped, with a note).
model = LSTM(2, 32, batch_first=True)
for step in range(1000):
    pass
"""


def solution_text() -> str:
    """The assignment's answer cells, solutions filled in, as one student-style file."""
    sys.path.insert(0, str(HERE.parent))
    from authoring.build import read_master, solutions
    from homework.rnn_lstm.parts import PARTS

    part_of: dict[str, int] = {}
    for part in PARTS:
        for name in part.names:
            part_of.setdefault(name, part.number)
    chunks, seen = [], set()
    for name, source in solutions(read_master(ASSIGNMENT)).items():
        if part_of[name] not in seen:
            seen.add(part_of[name])
            chunks.append(f"# Part {part_of[name]} " + "-" * 86)
        chunks.append(source.strip() + "\n")
    return ("# A complete, correct homework, written as a student would submit it (one file, plain "
            "loops):\n# the answer cells of assignments/rnn_lstm, joined by examples/make_submissions.py."
            "\n# `rnngrade grade examples/submissions/solution.py` gives it full marks.\n"
            "import math\n\nimport torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n\n"
            + "\n\n".join(chunks) + EXPLORATION)


def generated() -> dict[Path, str]:
    """Every file this script writes, with its content."""
    solution = solution_text()
    out = {SOLUTION: solution}
    for name, (what, where, edits) in BUGGY.items():
        head = f"# BUGGY EXAMPLE: {what}.\n# Expected to lose points in: {where}.\n"
        out[SOLUTION.parent / f"{name}.py"] = head + apply(solution, edits, name)
    for name, (what, edits) in ATTACK_EDITS.items():
        out[ATTACKS / f"{name}.py"] = f"# ATTACK FIXTURE: {what}.\n" + apply(solution, edits, name)
    quiet = solution[:-len(EXPLORATION)] + "\n"  # fixtures: no exploration at all
    for name, (part, phrase, edits) in MISTAKES.items():
        out[MISTAKES_DIR / f"{name}.py"] = (f"# ONE MISTAKE, in {part}; the feedback must say: "
                                            f"{phrase}\n" + apply(quiet, edits, name))
    for name, (what, edits) in variants.STYLES.items():
        out[FIXTURES / "styles" / f"{name}.py"] = (f"# CORRECT, IN ANOTHER STYLE: {what}.\n"
                                                   + apply(quiet, edits, name))
    for name, (targets, phrase, edits) in variants.MUTANTS.items():
        out[FIXTURES / "mutants" / f"{name}.py"] = (
            f"# ONE MISTAKE, in {targets[0]}; the feedback must say: {phrase}\n"
            + apply(quiet, edits, name))
    for name, (what, edits) in STYLES.items():
        out[SOLUTION.parent / f"{name}.py"] = (f"# CORRECT, IN ANOTHER STYLE: {what}.\n"
                                               + apply(solution, edits, name))
    for name, (what, edits) in LONG.items():
        out[LONG_DIR / f"{name}.py"] = f"# MUST FAIL PART 7: {what}.\n" + apply(solution, edits, name)
    out[SOLUTION.parent / "reference_flat.py"] = flatten_reference()
    return out


REFERENCE_ORDER = ["_recurrent", "lstm", "lstm_variants", "gru", "bilstm", "rnn", "bptt"]


def flatten_reference() -> str:
    """The reference package as one student-style module (its relative imports removed), so the
    instructor's own code is graded exactly like a submission."""
    body = []
    for name in REFERENCE_ORDER:
        text = (HERE.parent / "reference" / f"{name}.py").read_text()
        lines = [ln for ln in text.splitlines()
                 if not ln.startswith(("from .", "from __future__"))]
        body.append(f"# ---- reference/{name}.py\n" + "\n".join(lines))
    return ("# THE REFERENCE SOLUTION as one module (generated by examples/make_submissions.py).\n"
            "from __future__ import annotations\n\n" + "\n\n".join(body) + "\n")


if __name__ == "__main__":
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print("wrote", path.relative_to(HERE.parent))
