"""Build cases: run the trusted model (``torch.nn`` or a homework's reference) in the judge, and
write the request that makes the worker do the same with the student's code.

An argument of a module call is an ``Arg`` (one tensor), a tuple of ``Arg``s (passed as a tuple,
e.g. ``(h_0, c_0)``) or None. Outputs are ``OutputSpec``s: their place in the return value and
how to talk about them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import Tensor, nn

from . import training
from .compare import dtype_name
from .diagnosis import Replay, pick
from .protocol import CallRequest, Init, Key
from .spec import Case, Out, OutputSpec, ParamSpec


@dataclass(frozen=True)
class Arg:
    name: str  # "h_0": the input's name in messages, and its key in the request
    value: Tensor


@dataclass(frozen=True)
class ModuleCall:
    """One call of a student module, and the trusted module that answers it."""

    target: str  # the student's class, "LSTM"
    trusted: nn.Module  # its weights are redrawn from the builder's generator
    init: Init  # the constructor's arguments, the same for both
    inputs: tuple  # each an Arg, a tuple of Args (passed as one tuple), or None
    outputs: tuple[OutputSpec, ...]
    returns: str  # "(output, (h_n, c_n))", for messages
    dtype: torch.dtype = torch.float64
    params_legend: dict[str, str] | None = None  # name -> "(4H, I)": check the parameters
    device: str | None = None  # "meta": shapes and devices only; "cuda": values, no gradients


@dataclass
class CaseBuilder:
    """Seeded inputs (the same seed gives the same cases), and what the homework adds to every
    case: its usual mistakes by target, and hints for usual error messages."""

    seed: int
    mistakes: dict[str, Callable] = field(default_factory=dict)
    error_hints: tuple[tuple[str, str], ...] = ()
    gates: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> Case.gates

    def __post_init__(self):
        self.gen = torch.Generator().manual_seed(self.seed)

    def randn(self, *shape: int, dtype: torch.dtype = torch.float64, scale: float = 1.0) -> Tensor:
        return scale * torch.randn(*shape, generator=self.gen, dtype=dtype)

    def randint(self, high: int, *shape: int) -> Tensor:
        return torch.randint(0, high, shape, generator=self.gen)

    def module_case(self, label: str, call: ModuleCall) -> Case:
        """Construct the student's module, load the trusted weights, call it on the inputs,
        compare outputs and the gradients of a random projection of them."""
        dtype = call.dtype
        trusted = call.trusted.to(dtype)
        for p in trusted.parameters():  # weights drawn from our generator, not the global seed
            with torch.no_grad():
                p.copy_(self.randn(*p.shape, dtype=dtype, scale=0.5))
        state = {k: v.detach().clone() for k, v in trusted.state_dict().items()}
        tensors = {f"{Key.STATE_DICT}{k}": v.clone() for k, v in state.items()}
        specs, args, leaves = [], [], []

        def one(arg: Arg):
            key = f"{Key.INPUT}{arg.name}"
            tensors[key] = arg.value
            leaf = arg.value.detach().clone().requires_grad_(True)
            leaves.append((key, arg.name, leaf))
            return {"t": key}, leaf

        for inp in call.inputs:
            if inp is None:
                specs.append(None), args.append(None)
            elif isinstance(inp, tuple):
                pairs = [one(a) for a in inp]
                specs.append({"tuple": [s for s, _ in pairs]})
                args.append(tuple(leaf for _, leaf in pairs))
            else:
                spec, leaf = one(inp)
                specs.append(spec), args.append(leaf)
        request = CallRequest(call.target, "module", tuple(specs), init=call.init,
                              dtype=dtype_name(dtype), load_state_dict=True)
        if call.device is not None:
            with torch.no_grad():  # computed here on the CPU; expected on the device
                result = trusted(*args)
            outputs = [Out(o, pick(result, o.path).to(call.device)) for o in call.outputs]
            request = CallRequest(call.target, "module", tuple(specs), init=call.init,
                                  dtype=dtype_name(dtype), load_state_dict=True,
                                  device=call.device, grad_enabled=False)
            return Case(label, request, tensors, outputs, call.returns, dtype=dtype_name(dtype))
        replay = Replay([None if a is None else tuple(t.detach().clone() for t in a)
                         if isinstance(a, tuple) else a.detach().clone() for a in args],
                        [o.path for o in call.outputs], dtype, list(call.init.args),
                        dict(call.init.kwargs), state)
        result = trusted(*args)
        outputs = [Out(o, pick(result, o.path).detach()) for o in call.outputs]
        cots, cot_keys = cotangents(outputs, self.gen), []
        for out, cot in zip(outputs, cots):
            tensors[f"{Key.COTANGENT}{out.name}"] = cot
            cot_keys.append((out.path, f"{Key.COTANGENT}{out.name}"))
        training.backward([pick(result, o.path) for o in outputs], cots)
        request = CallRequest(call.target, "module", tuple(specs), init=call.init,
                              dtype=dtype_name(dtype), load_state_dict=True,
                              requires_grad=tuple(key for key, _, _ in leaves),
                              cotangents=tuple(cot_keys))
        params = None
        if call.params_legend is not None:
            params = {k: ParamSpec(tuple(v.shape), call.params_legend.get(k, ""))
                      for k, v in state.items()}
        return Case(label, request, tensors, outputs, call.returns,
                    input_grads={key: (name, leaf.grad) for key, name, leaf in leaves},
                    param_grads={n: p.grad.detach() for n, p in trusted.named_parameters()},
                    params=params, dtype=dtype_name(dtype), replay=replay,
                    mistakes=self.mistakes.get(call.target), error_hints=self.error_hints,
                    gates=self.gates.get(call.target, {}))

    def function_case(self, label: str, target: str, args: list, tensors: dict[str, Tensor],
                      outputs: list[Out], returns: str, *, dtype: torch.dtype = torch.float64,
                      replay_inputs: list | None = None, grad_enabled: bool = True,
                      no_autograd: bool = False) -> Case:
        """Call a student function on ``args`` (JSON specs referring to ``tensors``);
        ``replay_inputs``: the same arguments as tensors, to replay the usual mistakes."""
        request = CallRequest(target, "function", tuple(args), grad_enabled=grad_enabled,
                              no_autograd=no_autograd)
        replay = None if replay_inputs is None else \
            Replay(replay_inputs, [o.path for o in outputs], dtype)
        return Case(label, request, tensors, outputs, returns, dtype=dtype_name(dtype),
                    replay=replay, mistakes=self.mistakes.get(target),
                    error_hints=self.error_hints)


def cotangents(outputs: list[Out], generator: torch.Generator) -> list[Tensor]:
    """Random weights w_i: the scalar back-propagated is sum_i <w_i, output_i>."""
    return [torch.randn(o.expected.shape, generator=generator, dtype=o.expected.dtype)
            for o in outputs]


def params_spec(prefix: str, tensors: dict[str, Tensor], params: dict[str, Tensor]) -> dict:
    """A dict-of-tensors argument (the RNN's params) as a JSON spec, adding the tensors."""
    for name, t in params.items():
        tensors[f"{prefix}.{name}"] = t
    return {"dict": {name: {"t": f"{prefix}.{name}"} for name in params}}
