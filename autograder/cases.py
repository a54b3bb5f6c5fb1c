"""Build cases: run the trusted model (``torch.nn`` or ``reference``) in the judge, and write the
request that makes the worker do the same with the student's code.

An input is ``(name, tensor)``, a list of them (passed as a tuple, e.g. ``(h_0, c_0)``) or None.
An output is ``(name, path, legend, time_dim)``: its place in the return value, how its shape is
written for students, and which dimension is time.
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from .checks import Case, Out, cotangents
from .compare import dtype_name
from .diagnosis import Replay, pick
from .mistakes import MISTAKES

Input = "tuple[str, Tensor] | list[tuple[str, Tensor]] | None"
OutSpec = tuple  # (name, path, legend, time_dim)


class CaseBuilder:
    """Seeded inputs: the same seed gives the same hidden cases on every run."""

    def __init__(self, seed: int):
        self.gen = torch.Generator().manual_seed(seed)

    def randn(self, *shape: int, dtype: torch.dtype = torch.float64, scale: float = 1.0) -> Tensor:
        return scale * torch.randn(*shape, generator=self.gen, dtype=dtype)

    def randint(self, high: int, *shape: int) -> Tensor:
        return torch.randint(0, high, shape, generator=self.gen)

    def module_case(self, label: str, target: str, trusted: nn.Module, init_args: list,
                    init_kwargs: dict, inputs: list, outs: list[OutSpec], returns: str,
                    dtype: torch.dtype, params_legend: dict[str, str] | None = None,
                    device: str | None = None) -> Case:
        """Construct ``target(*init_args, **init_kwargs)``, load the trusted state_dict, call it
        on ``inputs``, compare outputs and the gradients of a random projection of them.

        ``device``: run the student's module there ("meta": shapes and devices only, no values;
        "cuda": values too, no gradients)."""
        trusted = trusted.to(dtype)
        for p in trusted.parameters():  # weights drawn from our generator, not the global seed
            with torch.no_grad():
                p.copy_(self.randn(*p.shape, dtype=dtype, scale=0.5))
        tensors = {f"sd.{k}": v.detach().clone() for k, v in trusted.state_dict().items()}
        specs, args, leaves = [], [], []

        def one(name: str, t: Tensor):
            key = f"in.{name}"
            tensors[key] = t
            leaf = t.detach().clone().requires_grad_(True)
            leaves.append((key, name, leaf))
            return {"t": key}, leaf

        for inp in inputs:
            if inp is None:
                specs.append(None), args.append(None)
            elif isinstance(inp, list):
                pairs = [one(n, t) for n, t in inp]
                specs.append({"tuple": [s for s, _ in pairs]})
                args.append(tuple(leaf for _, leaf in pairs))
            else:
                spec, leaf = one(*inp)
                specs.append(spec), args.append(leaf)
        if device is not None:
            return self._device_case(label, target, trusted, init_args, init_kwargs, specs, args,
                                     tensors, outs, returns, dtype, device)
        replay = Replay([None if a is None else tuple(t.detach().clone() for t in a)
                         if isinstance(a, tuple) else a.detach().clone() for a in args],
                        [tuple(o[1]) for o in outs], dtype, init_args, init_kwargs,
                        {k: v.detach().clone() for k, v in trusted.state_dict().items()})
        result = trusted(*args)
        D = 2 if init_kwargs.get("bidirectional") else 1
        outputs = [Out(name, pick(result, path).detach(), legend, time_dim, tuple(path),
                       directions=D if legend and "D" in legend else None,
                       stacked=bool(legend) and legend.startswith("(L*D"))
                   for name, path, legend, time_dim in outs]
        cots = cotangents(outputs, self.gen)
        cot_keys = []
        for out, cot in zip(outputs, cots):
            key = f"cot.{out.name}"
            tensors[key] = cot
            cot_keys.append([list(out.path), key])
        torch.autograd.backward([pick(result, o.path) for o in outputs], cots)
        request = {"op": "call", "target": target, "kind": "module",
                   "init": {"args": init_args, "kwargs": init_kwargs},
                   "to": {"dtype": dtype_name(dtype)}, "state_dict": "sd", "args": specs,
                   "requires_grad": [key for key, _, _ in leaves], "cotangents": cot_keys}
        params = None
        if params_legend is not None:
            params = {k: (tuple(v.shape), params_legend.get(k, "")) for k, v in
                      trusted.state_dict().items()}
        return Case(label, request, tensors, outputs, returns,
                    input_grads={key: (name, leaf.grad) for key, name, leaf in leaves},
                    param_grads={n: p.grad.detach() for n, p in trusted.named_parameters()},
                    params=params, dtype=dtype_name(dtype), replay=replay,
                    mistakes=MISTAKES.get(target))

    def _device_case(self, label, target, trusted, init_args, init_kwargs, specs, args, tensors,
                     outs, returns, dtype, device) -> Case:
        """The worker moves the inputs and the module to ``device`` after loading the weights."""
        with torch.no_grad():  # computed here on the CPU; expected on ``device`` (meta: shapes)
            result = trusted(*args)
        outputs = [Out(name, pick(result, path).to(device), legend, time_dim, tuple(path))
                   for name, path, legend, time_dim in outs]
        request = {"op": "call", "target": target, "kind": "module", "device": device,
                   "init": {"args": init_args, "kwargs": init_kwargs}, "grad_enabled": False,
                   "to": {"dtype": dtype_name(dtype)}, "state_dict": "sd", "args": specs}
        return Case(label, request, tensors, outputs, returns, dtype=dtype_name(dtype))

    def function_case(self, label: str, target: str, args: list, tensors: dict[str, Tensor],
                      outputs: list[Out], returns: str, dtype: torch.dtype = torch.float64,
                      replay_inputs: list | None = None, **request) -> Case:
        """Call a student function on ``args`` (JSON specs referring to ``tensors``);
        ``replay_inputs``: the same arguments as tensors, to replay the usual mistakes."""
        req = {"op": "call", "target": target, "kind": "function", "args": args, **request}
        replay = None if replay_inputs is None else \
            Replay(replay_inputs, [o.path for o in outputs], dtype)
        return Case(label, req, tensors, outputs, returns, dtype=dtype_name(dtype),
                    replay=replay, mistakes=MISTAKES.get(target))


def params_spec(prefix: str, tensors: dict[str, Tensor], params: dict[str, Tensor]) -> dict:
    """A dict-of-tensors argument (the RNN's params) as a JSON spec, adding the tensors."""
    for name, t in params.items():
        tensors[f"{prefix}.{name}"] = t
    return {"dict": {name: {"t": f"{prefix}.{name}"} for name in params}}
