"""Correct styles and single-bug mutants of the solution, as students write them: the fixtures of
``tests/homework/test_variants.py`` (written by ``make_submissions.py`` into
``tests/fixtures/styles`` and ``tests/fixtures/mutants``, without the exploration loop).

STYLES: name -> (what, edits); each must score full marks with no hint.
MUTANTS: name -> (the targets it may lose points in, the words its feedback must contain, edits);
the first target is where the bug is, the others use it (their feedback says "fix Part N first").
"""
from __future__ import annotations

CELL_STEP = ("        i = torch.sigmoid(z[:, 0:H])\n        f = torch.sigmoid(z[:, H:2 * H])\n"
             "        g = torch.tanh(z[:, 2 * H:3 * H])\n        o = torch.sigmoid(z[:, 3 * H:4 * H])\n")
RNN_STEP = "        a = b + h @ W.T + x[:, t] @ U.T\n        h = torch.tanh(a)\n"
BPTT_GRADS_INIT = "    grads = {k: torch.zeros_like(v) for k, v in params.items()}\n"
CLASSIFIER_READ = "        features = torch.cat([out[:, -1, :H], out[:, 0, H:]], dim=1)\n"
HEAD = "import torch.nn.functional as F\n"

STYLES = {
    "module_level_sigmoid": ("a module-level nn.Sigmoid() object used in LSTMCell", [
        (HEAD, HEAD + "\nsigmoid = nn.Sigmoid()\n"),
        (CELL_STEP, CELL_STEP.replace("torch.sigmoid", "sigmoid"))]),
    "module_level_lambda": ("a module-level lambda for the RNN's activation", [
        (HEAD, HEAD + "\nact = lambda a: torch.tanh(a)  # noqa: E731\n"),
        (RNN_STEP, RNN_STEP.replace("torch.tanh(a)", "act(a)"))]),
    "functools_partial": ("softmax as functools.partial(torch.softmax, dim=1)", [
        ("import math\n", "import functools\nimport math\n"),
        (HEAD, HEAD + "\nsoftmax = functools.partial(torch.softmax, dim=1)\n"),
        ("        ys.append(torch.softmax(o, dim=1))", "        ys.append(softmax(o))")]),
    "constants_from_calls": ("NUM_GATES = len(GATES) at module level, used in __init__", [
        (HEAD, HEAD + '\nGATES = ("i", "f", "g", "o")\nNUM_GATES = len(GATES)\n'),
        ("        self.weight_ih = nn.Parameter(torch.empty(4 * hidden_size, input_size))\n"
         "        self.weight_hh = nn.Parameter(torch.empty(4 * hidden_size, hidden_size))\n",
         "        self.weight_ih = nn.Parameter(torch.empty(NUM_GATES * hidden_size, input_size))\n"
         "        self.weight_hh = nn.Parameter(torch.empty(NUM_GATES * hidden_size, hidden_size))\n")]),
    "config_dataclass_default": ("a config dataclass instance as a default argument", [
        (HEAD, HEAD + "from dataclasses import dataclass\n\n\n@dataclass\nclass Config:\n"
         "    bias: bool = True\n\n\nCONFIG = Config()\n"),
        ("    def __init__(self, input_size, hidden_size, bias=True):\n        super().__init__()\n"
         "        self.hidden_size = hidden_size\n",
         "    def __init__(self, input_size, hidden_size, bias=CONFIG.bias):\n        super().__init__()\n"
         "        self.hidden_size = hidden_size\n")]),
    "try_import_fallback": ("try: from torch.special import expit / except ImportError: def", [
        (HEAD, HEAD + "try:\n    from torch.special import expit\nexcept ImportError:\n"
         "    def expit(z):\n        return 1 / (1 + torch.exp(-z))\n"),
        ("        f, g, o = torch.sigmoid(z[:, :H]), torch.tanh(z[:, H:2 * H]), torch.sigmoid(z[:, 2 * H:])",
         "        f, g, o = expit(z[:, :H]), torch.tanh(z[:, H:2 * H]), expit(z[:, 2 * H:])")]),
    "scratch_cell_unpacks": ("a scratch cell calls rnn_forward and unpacks the result", [
        ("\n\n# Part 2 ----", "\n\n_x = torch.randn(2, 3, 4)\n_p = {'U': torch.randn(5, 4), "
         "'W': torch.randn(5, 5), 'V': torch.randn(6, 5),\n      'b': torch.zeros(5), "
         "'c': torch.zeros(6)}\n_y, _h = rnn_forward(_x, torch.zeros(2, 5), _p)\n"
         "B_, T_, K_ = _y.shape\nprint('y_hat', B_, T_, K_, _y.sum(-1))\n\n\n# Part 2 ----")]),
    "percent_formatting": ("old % string formatting on a continuation line", [
        (HEAD, HEAD + '\nSHAPE_NOTE = ("x is (%s) and h0 is (%s)"\n'
         '              % ("B, T, I", "B, H"))\n')]),
    "data_dependent_guard": ("LSTMCell raises on NaN input and asserts the input width", [
        ("    def forward(self, x, state=None):\n        H = self.hidden_size\n        if state is None:\n"
         "            h = x.new_zeros",
         "    def forward(self, x, state=None):\n        H = self.hidden_size\n"
         "        if torch.isnan(x).any():\n            raise ValueError('NaN in the input')\n"
         "        assert x.shape[-1] == self.weight_ih.shape[1], f'bad input {tuple(x.shape)}'\n"
         "        if state is None:\n            h = x.new_zeros")]),
    "own_layer_backward": ("cs231n-style layer objects with their own .backward() in rnn_bptt", [
        ("def rnn_bptt(", "class TanhLayer:\n    def __init__(self, out):\n        self.out = out\n\n"
         "    def backward(self, dout):\n        return dout * (1 - self.out ** 2)\n\n\ndef rnn_bptt("),
        ("        da = dh * (1 - h[:, t] ** 2)", "        da = TanhLayer(h[:, t]).backward(dh)")]),
    "local_named_grad": ("a local variable named grad in rnn_bptt", [
        (BPTT_GRADS_INIT, BPTT_GRADS_INIT.replace("grads = ", "grads = grad = ")),
        ('        grads["V"] += do.T @ h[:, t]', '        grad["V"] += do.T @ h[:, t]')]),
    "annotated_helper": ("a helper annotated with nn.LSTM (an annotation is not a call)", [
        ("class LSTM(nn.Module):", "def n_params(module: nn.LSTM | nn.Module) -> int:\n"
         "    return sum(p.numel() for p in module.parameters())\n\n\nclass LSTM(nn.Module):"),
        ("                    setattr(self, f\"{name}_l{layer}{suffix}\", p)\n",
         "                    setattr(self, f\"{name}_l{layer}{suffix}\", p)\n"
         "        self.n_weights = n_params(self)\n")]),
    "einsum_forward": ("rnn_forward with torch.einsum", [
        (RNN_STEP, "        a = b + torch.einsum('bh,kh->bk', h, W) + torch.einsum('bi,hi->bh', x[:, t], U)\n"
         "        h = torch.tanh(a)\n")]),
    "chunked_gates": ("LSTMCell splits its gates with chunk(4, 1)", [
        (CELL_STEP, "        i, f, g, o = z.chunk(4, 1)\n        i, f, g, o = (torch.sigmoid(i), "
         "torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o))\n")]),
    "matmul_gru": ("GRUCell with @ and .T instead of F.linear", [
        ("        gi = F.linear(x, self.weight_ih, self.bias_ih)\n"
         "        gh = F.linear(hx, self.weight_hh, self.bias_hh)\n",
         "        gi = x @ self.weight_ih.T\n        gh = hx @ self.weight_hh.T\n"
         "        if self.bias_ih is not None:\n            gi = gi + self.bias_ih\n"
         "            gh = gh + self.bias_hh\n")]),
    "permute_batch_first": ("batch_first handled with permute and contiguous", [
        ("        if self.batch_first:\n            x = x.transpose(0, 1)\n",
         "        if self.batch_first:\n            x = x.permute(1, 0, 2).contiguous()\n")]),
    "type_hints": ("type hints on every signature", [
        ("def rnn_forward(x, h0, params):",
         "def rnn_forward(x: torch.Tensor, h0: torch.Tensor,\n                params: dict[str, torch.Tensor]"
         ") -> tuple[torch.Tensor, torch.Tensor]:"),
        ("    def forward(self, x, hx=None):\n        if hx is None:",
         "    def forward(self, x: torch.Tensor, hx: torch.Tensor | None = None) -> torch.Tensor:\n"
         "        if hx is None:")]),
    "numpy_param_count": ("rnn_param_count returns a numpy.int64", [
        ("import math\n", "import math\n\nimport numpy as np\n"),
        ("    return H * I + H * H + K * H + H + K", "    return np.sum([H * I, H * H, K * H, H, K])")]),
    "bare_torch_names": ("from torch import sigmoid, tanh", [
        (HEAD, HEAD + "from torch import sigmoid, tanh\n"),
        (CELL_STEP, CELL_STEP.replace("torch.sigmoid", "sigmoid").replace("torch.tanh", "tanh"))]),
    "torch_alias": ("import torch as th, used in the coupled cell", [
        (HEAD, HEAD + "import torch as th\n"),
        ("        c = f * c + (1 - f) * g\n        return o * torch.tanh(c), c",
         "        c = f * c + (1 - f) * g\n        return o * th.tanh(c), c")]),
    "main_guard": ("a training demo under if __name__ == '__main__'", [
        ("$END", "\n\nif __name__ == '__main__':\n    model = LSTM(2, 32)\n    while True:\n"
                 "        model(torch.randn(5, 3, 2))\n")]),
    "debug_prints": ("print() calls left in forward", [
        ("        h0, c0 = hx\n", "        h0, c0 = hx\n        print('LSTM input', tuple(x.shape))\n")]),
    "retain_grad_norms": ("hidden_grad_norms with retain_grad and loss.backward()", [
        ("        grads = torch.autograd.grad(loss, hs, allow_unused=True)\n",
         "        for s in hs:\n            s.retain_grad()\n        loss.backward()\n"
         "        grads = [s.grad for s in hs]\n")]),
    "classifier_from_hn": ("the classifier reads h_n[-2] and h_n[-1]", [
        ("        out, _ = self.lstm(x)\n", "        out, (h_n, _) = self.lstm(x)\n"),
        (CLASSIFIER_READ, "        features = torch.cat([h_n[-2], h_n[-1]], dim=1)\n")]),
    "helper_module_level_call": ("a helper that calls something, defined at module level", [
        (HEAD, HEAD + "\nZERO = torch.zeros(())\n\n\ndef new_state(x, H):\n"
         "    return x.new_zeros(x.shape[0], H) + ZERO.to(x)\n"),
        ("            hx = x.new_zeros(x.shape[0], self.hidden_size)",
         "            hx = new_state(x, self.hidden_size)")]),
    "stacked_list_outputs": ("the LSTM collects its steps in a list and stacks them", [
        ("                out = x.new_empty(T, B, self.hidden_size)  # written into, step by step\n",
         "                out = [None] * T\n"),
        ("                outputs.append(out)\n", "                outputs.append(torch.stack(out))\n")]),
}

LSTM_LOOP = ("                for t in steps:\n"
             "                    h, c = self._cell(layer_input[t], h, c, layer, suffix)\n")
MUTANTS = {
    "bptt_sum_over_batch": (("rnn_bptt",), "a sum over the batch where a mean belongs", [
        ("    loss = -torch.log(y_hat.gather(2, y.unsqueeze(2))).sum() / B",
         "    loss = -torch.log(y_hat.gather(2, y.unsqueeze(2))).sum()"),
        ("        do = do / B\n", "")]),
    "bptt_dw_transposed": (("rnn_bptt",), "the transpose of the expected", [
        ('        grads["W"] += da.T @ h_prev', '        grads["W"] += h_prev.T @ da')]),
    "bptt_dc_sign": (("rnn_bptt",), "sign flipped", [
        ('        grads["c"] += do.sum(0)', '        grads["c"] -= do.sum(0)')]),
    "bptt_skips_last_step": (("rnn_bptt",), "grads['V']: tensors are not close", [
        ("    for t in reversed(range(T)):", "    for t in reversed(range(T - 1)):")]),
    "bptt_one_hot_without_classes": (("rnn_bptt",), "targets never", [
        ("        do[torch.arange(B), y[:, t]] -= 1\n",
         "        do = do - F.one_hot(y[:, t]).to(do.dtype)\n")]),
    "rnn_forward_state_late": (("rnn_forward", "rnn_bptt"), "h holds h_0..h_{T-1}", [
        (RNN_STEP, "        hs.append(h)\n" + RNN_STEP), ("        hs.append(h)\n        ys", "        ys")]),
    "rnn_forward_skips_last_step": (("rnn_forward", "rnn_bptt", "hidden_grad_norms"),
                                    "expected shape (B, T, K) = (3, 6, 2), got (3, 5, 2)", [
        ("    for t in range(x.shape[1]):\n        a = b", "    for t in range(x.shape[1] - 1):\n        a = b")]),
    "grad_norms_sum_over_batch": (("hidden_grad_norms",), "a sum over the batch where a mean", [
        ("    return torch.stack([g.norm(dim=1).mean() for g in grads])",
         "    return torch.stack([g.norm(dim=1).sum() for g in grads])")]),
    "lstmcell_returns_c_h": (("LSTMCell", "PeepholeLSTMCell"), "h' holds what c' should", [
        ("        h = o * torch.tanh(c)\n        return h, c", "        h = o * torch.tanh(c)\n        return c, h")]),
    "lstmcell_tf_forget_bias": (("LSTMCell", "PeepholeLSTMCell"), "c': tensors are not close", [
        ("        f = torch.sigmoid(z[:, H:2 * H])", "        f = torch.sigmoid(z[:, H:2 * H] + 1.0)")]),
    "lstmcell_bias_twice": (("LSTMCell", "PeepholeLSTMCell"), "h': tensors are not close", [
        ("        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)",
         "        z = F.linear(x, self.weight_ih, self.bias_ih) + F.linear(h, self.weight_hh, self.bias_hh)\n"
         "        if self.bias_ih is not None:\n            z = z + self.bias_ih")]),
    "lstm_output_is_cell_state": (("LSTM", "BiLSTMClassifier"), "first mismatch in time is at step t = 0", [
        ("                    out[t] = h\n", "                    out[t] = c\n")]),
    "lstm_reverse_from_forward_state": (("LSTM", "BiLSTMClassifier"), "backward", [
        ("                h, c = h0[layer * D + d], c0[layer * D + d]\n",
         "                if d == 0:\n                    h, c = h0[layer * D + d], c0[layer * D + d]\n")]),
    "lstm_upper_layers_fed_input": (("LSTM", "BiLSTMClassifier"), "raised RuntimeError", [
        (LSTM_LOOP, LSTM_LOOP.replace("self._cell(layer_input[t]", "self._cell(x[t]"))]),
    "lstm_hn_direction_major": (("LSTM", "BiLSTMClassifier"), "the right states in another order", [
        ("        return output, (torch.stack(h_n), torch.stack(c_n))",
         "        h_n, c_n = h_n[0::D] + h_n[1::D], c_n[0::D] + c_n[1::D]\n"
         "        return output, (torch.stack(h_n), torch.stack(c_n))")]),
    "peephole_untransposed": (("PeepholeLSTMCell",), "h': tensors are not close", [
        ("        i = torch.sigmoid(z[:, :H] + c @ W_ci.T)\n        f = torch.sigmoid(z[:, H:2 * H] + c @ W_cf.T)",
         "        i = torch.sigmoid(z[:, :H] + c @ W_ci)\n        f = torch.sigmoid(z[:, H:2 * H] + c @ W_cf)")]),
    "coupled_f_swapped": (("CoupledLSTMCell",), "f and 1 - f are swapped", [
        ("        c = f * c + (1 - f) * g", "        c = (1 - f) * c + f * g")]),
    "classifier_first_layer_states": (("BiLSTMClassifier",), "logits: tensors are not close", [
        ("        out, _ = self.lstm(x)\n", "        out, (h_n, _) = self.lstm(x)\n"),
        (CLASSIFIER_READ, "        features = torch.cat([h_n[0], h_n[1]], dim=1)\n")]),
    "classifier_squeezes_batch": (("BiLSTMClassifier",), "B=1", [
        ("        return self.fc(features)", "        return self.fc(features).squeeze()")]),
}
