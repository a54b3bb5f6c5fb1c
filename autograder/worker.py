"""The sandbox worker: the only process that ever runs student code.

Run by the judge as ``python -I worker.py CONFIG_JSON`` in a fresh directory, as an unprivileged
user when the judge is root. It imports torch, safetensors, optionally pyseccomp, and its
siblings copied beside it, ``confine.py``, ``protocol.py``, ``training.py`` and ``elsewhere.py``
(inputs on another device without a GPU): never
``reference``, the homework or the judge.

Start-up, before any student code: isolate itself (namespaces: the grader's files hidden, no
network), drop root, lower its rlimits and install seccomp (``confine.py``), point stdout/stderr at
the judge's log file, then import the student module once, send a ``Hello`` and serve requests
(``protocol.CallRequest``, ``protocol.TrainRequest``) until the judge closes the pipe.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import json
import numbers
import os
import sys
import traceback

def _sibling(name: str):
    """``protocol.py`` / ``training.py`` beside this file, loaded by path (``python -I`` puts no
    script folder on sys.path, and nothing else should be found there)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


if __package__:  # in the package (the judge's tests)
    from . import confine, elsewhere, protocol, running, training
else:  # in the sandbox, where the files sit side by side
    confine, elsewhere, protocol, running, training = (_sibling(n) for n in (
        "confine", "elsewhere", "protocol", "running", "training"))

ErrorInfo, ErrorKind, Hello, Key, Reply = (protocol.ErrorInfo, protocol.ErrorKind, protocol.Hello,
                                           protocol.Key, protocol.Reply)

CELLS_FILE = "cells.json"  # the student's cells, the statements to skip, the mode
STUDENT_FILE = "submission.py"  # the one cell's label when the judge gives a plain source
STUDENT_FILES = {STUDENT_FILE: STUDENT_FILE}  # the cells' file names -> how the student knows them
PRINT_LIMIT = 1 << 20  # characters of student output kept in the log; the rest is dropped


# -- guards --------------------------------------------------------------------------------------
class CappedOutput:
    """The student's ``sys.stdout`` / ``sys.stderr``: the first ``PRINT_LIMIT`` characters
    (shared by both) reach the log; the rest is dropped with one notice, so a print in a loop can
    neither fail nor fill the disk."""

    left = PRINT_LIMIT  # one budget for both streams

    def __init__(self, stream) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        if CappedOutput.left > 0:
            self.stream.write(text[:CappedOutput.left])
            CappedOutput.left -= len(text)
            if CappedOutput.left <= 0:
                self.stream.write(f"\n... (the grader keeps the first {PRINT_LIMIT} characters "
                                  "your code prints; the rest was dropped)\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def __getattr__(self, name):  # encoding, isatty, fileno, ...
        return getattr(self.stream, name)


class ForbiddenCall(Exception):
    pass


class Guards:
    """Built-ins a student may not call, and autograd when a part must not use it.

    Defence in depth only: the judge's static scan decides. The flags are on only while student
    code runs."""

    def __init__(self, torch):
        self.active, self.no_autograd = False, False
        nn = torch.nn
        for cls in (nn.RNN, nn.LSTM, nn.GRU, nn.RNNCell, nn.LSTMCell, nn.GRUCell):
            cls.forward = self._wrap(cls.forward, f"torch.nn.{cls.__name__}")
        for name in ("lstm", "gru", "rnn_tanh", "rnn_relu", "lstm_cell", "gru_cell",
                     "rnn_tanh_cell", "rnn_relu_cell"):
            for ns, label in ((torch, "torch"), (torch._VF, "torch._VF")):
                if hasattr(ns, name):
                    setattr(ns, name, self._wrap(getattr(ns, name), f"{label}.{name}"))
        torch.Tensor.backward = self._wrap(torch.Tensor.backward, "Tensor.backward", autograd=True)
        torch.autograd.grad = self._wrap(torch.autograd.grad, "torch.autograd.grad", autograd=True)
        torch.autograd.backward = self._wrap(torch.autograd.backward, "torch.autograd.backward",
                                             autograd=True)

    def _wrap(self, fn, label, autograd=False):
        guards = self

        def guarded(*args, **kwargs):
            if guards.active and (not autograd or guards.no_autograd):
                raise ForbiddenCall(label)
            return fn(*args, **kwargs)

        return guarded


def describe(e: BaseException) -> ErrorInfo:
    """The exception, with only the student's own frames (never the worker's or torch's)."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename in STUDENT_FILES]
    where = tuple(f"line {f.lineno} of {STUDENT_FILES[f.filename]}, in {f.name}: "
                  f"{(f.line or '').strip()}" for f in frames[-3:])
    kind = ErrorKind.FORBIDDEN if isinstance(e, ForbiddenCall) else ErrorKind.RAISED
    return ErrorInfo(kind, str(e)[:500], type(e).__name__, where)


# -- requests ------------------------------------------------------------------------------------
class Server:
    """Answers requests about one imported student module. In process in the tests."""

    def __init__(self, module, torch, guards: Guards):
        self.module, self.torch, self.guards = module, torch, guards

    def handle(self, req, tensors: dict) -> tuple[Reply, dict]:
        target = getattr(self.module, req.target, None)
        if target is None:
            return Reply.failure(req.id, ErrorKind.MISSING,
                                 f"`{req.target}` is not defined in your submission"), {}
        handler = self.train if isinstance(req, protocol.TrainRequest) else self.call
        return handler(target, req, tensors)

    def decode(self, spec, tensors):
        """Rebuild an argument from its JSON spec; ``{"t": key}`` refers to a received tensor."""
        if isinstance(spec, (list, tuple)):
            return [self.decode(s, tensors) for s in spec]
        if not isinstance(spec, dict):
            return spec
        if "t" in spec:
            return tensors[spec["t"]]
        if "tuple" in spec:
            return tuple(self.decode(s, tensors) for s in spec["tuple"])
        if "dict" in spec:
            return {k: self.decode(v, tensors) for k, v in spec["dict"].items()}
        if "dtype" in spec:
            return getattr(self.torch, spec["dtype"])
        return spec.get("v")

    def encode(self, value, out: dict):
        """Flatten a return value into a JSON structure plus tensors named ``o.i``."""
        torch = self.torch
        if isinstance(value, torch.Tensor):
            key = f"{Key.OUTPUT}{len(out)}"
            out[key] = value
            return {"t": key}
        if isinstance(value, (tuple, list)):
            return {"tuple": [self.encode(v, out) for v in value]}
        if isinstance(value, dict):
            return {"dict": {str(k): self.encode(v, out) for k, v in value.items()}}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"v": value}
        if isinstance(value, numbers.Integral):  # numpy.int64 from numpy's sum or prod
            return {"v": int(value)}
        if isinstance(value, numbers.Real):
            return {"v": float(value)}
        return {"unsupported": type(value).__name__}

    def construct(self, target, req, tensors):
        """``target(*init.args, **init.kwargs)``, in the request's dtype, with its state_dict."""
        torch = self.torch
        torch.manual_seed(req.seed)
        obj = target(*self.decode(list(req.init.args), tensors),
                     **{k: self.decode(v, tensors) for k, v in req.init.kwargs.items()})
        obj = obj.to(getattr(torch, req.dtype))
        if getattr(req, "load_state_dict", False):
            n = len(Key.STATE_DICT)
            obj.load_state_dict({k[n:]: v for k, v in tensors.items()
                                 if k.startswith(Key.STATE_DICT)}, strict=True)
        return obj

    def call(self, target, req, tensors):
        torch = self.torch
        place = (lambda t: t.to(req.device)) if req.device else None
        device_mode = contextlib.nullcontext()
        if req.device == "meta":  # another device without a GPU: CPU tensors that say "meta"
            place, device_mode = elsewhere.shadow, elsewhere.Elsewhere()
        if place is not None:  # does the code run wherever its inputs are?
            tensors = {k: v if k.startswith(Key.STATE_DICT) else place(v)
                       for k, v in tensors.items()}
        for key in req.requires_grad:
            tensors[key] = tensors[key].detach().requires_grad_(True)
        params, sent = None, {}
        self.guards.active, self.guards.no_autograd = True, req.no_autograd
        try:
            with torch.set_grad_enabled(req.grad_enabled):
                if req.kind == "module":
                    obj = self.construct(target, req, tensors)
                    params = {k: list(v.shape) for k, v in obj.state_dict().items()}
                    if place is not None:
                        obj = obj._apply(place)
                    fn = getattr(obj, req.method)
                else:
                    obj, fn = None, target
                with device_mode:
                    result = fn(*self.decode(list(req.args), tensors),
                                **{k: self.decode(v, tensors) for k, v in req.kwargs.items()})
                outputs = self.encode(result, sent)
                backward = self.backward(req, tensors, obj, result, sent) \
                    if req.cotangents else None
        except BaseException as e:  # ForbiddenCall, SystemExit, KeyboardInterrupt: report, serve on
            return Reply(req.id, False, describe(e), params=params), {}
        finally:
            self.guards.active = self.guards.no_autograd = False
        return Reply(req.id, True, outputs=outputs, params=params, backward=backward), sent

    def train(self, target, req, tensors):
        """Train ``target`` with the grader's linear read-out on the judge's data (see
        ``training.fit``); only the trained weights come back."""
        torch, cfg = self.torch, req.config
        data = {k[len(Key.TRAIN_DATA):]: v for k, v in tensors.items()
                if k.startswith(Key.TRAIN_DATA)}
        x, y = data["x_train"], data["y_train"]
        self.guards.active, self.guards.no_autograd = True, False
        sent = {}
        try:
            core = self.construct(target, req, tensors)
            readout = torch.nn.Linear(cfg.hidden_size, y.size(1)).to(x.dtype)
            n = len(Key.READOUT)
            if req.load_state_dict:
                readout.load_state_dict({k[n:]: v for k, v in tensors.items()
                                         if k.startswith(Key.READOUT)})
            params = list(core.parameters()) + list(readout.parameters())

            def backward(loss):  # the grader's own backward pass
                self.guards.active = False
                loss.backward()
                self.guards.active = True

            def on_step(step):  # the checkpoint the judge replays
                if step == req.check_steps:
                    sent.update(weights(f"{Key.CHECKPOINT}core.", core))
                    sent.update(weights(f"{Key.CHECKPOINT}readout.", readout))

            steps, history = training.fit(
                training.last_step_readout(core, readout), params,
                training.pool_batches(x, y, cfg.batch_size, req.seed), data["x_val"],
                data["y_val"], lr=cfg.lr, clip_norm=cfg.clip_norm, max_steps=cfg.max_steps,
                eval_every=cfg.eval_every, stop_below=cfg.stop_below, backward=backward,
                on_step=on_step)
        except BaseException as e:
            return Reply(req.id, False, describe(e)), {}
        finally:
            self.guards.active = False
        sent.update(weights(f"{Key.TRAINED}core.", core))
        sent.update(weights(f"{Key.TRAINED}readout.", readout))
        return Reply(req.id, True, steps=steps, history=tuple(history)), sent

    def backward(self, req, tensors, obj, result, sent) -> str:
        """Back-propagate sum_i <cotangent_i, output_i>; gradients of marked inputs and params.

        ``req.cotangents`` pairs a path in the return value (tuple indices, dict keys) with
        the key of the cotangent tensor."""
        torch = self.torch
        outs, cots = [], []
        for path, key in req.cotangents:
            value = result
            try:
                for step in path:
                    value = value[step]
            except (KeyError, IndexError, TypeError):
                continue
            if isinstance(value, torch.Tensor) and value.requires_grad \
                    and value.shape == tensors[key].shape:
                outs.append(value)
                cots.append(tensors[key].to(value.dtype))
        if not outs:
            return "outputs are not connected to the autograd graph"
        self.guards.active = False  # the grader's own backward call
        training.backward(outs, cots)
        for key in req.requires_grad:
            g = tensors[key].grad
            if g is not None:
                sent[f"{Key.INPUT_GRAD}{key}"] = g
        if obj is not None:
            for name, p in obj.named_parameters():
                if p.grad is not None:
                    sent[f"{Key.PARAM_GRAD}{name}"] = p.grad
        return "ok"


def weights(prefix: str, module) -> dict:
    return {f"{prefix}{k}": v.detach().clone() for k, v in module.state_dict().items()}


def import_student(spec: dict) -> tuple[object, Hello]:
    """Run the cells (``running.run_cells``); the hello lists what they define."""
    try:
        module, notes, names = running.run_cells(
            spec["cells"], {tuple(x) for x in spec.get("skip", [])},
            spec.get("definitions_only", False), aliases=spec.get("modules", ()))
    except BaseException as e:  # a failure of the running itself: a malformed cell
        return None, Hello(False, error=describe(e))
    STUDENT_FILES.update(names)
    sys.modules["submission"] = module
    return module, Hello(True, names=tuple(sorted(n for n in vars(module)
                                                  if not n.startswith("_"))),
                         notes=tuple(notes))


def to_cpu(torch, tensors: dict) -> dict:
    """What travels: every tensor on the CPU; a ``meta`` tensor (shape and dtype, no data) as
    zeros of its shape and dtype."""
    return {k: torch.zeros(v.shape, dtype=v.dtype) if v.device.type == "meta"
            else v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()}


def serve(config: dict) -> None:
    rfd, wfd = config["request_fd"], config["reply_fd"]
    drop = config.get("drop")  # as root: the sandbox user to become
    keep = (os.getcwd(), os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix))
    hidden = confine.isolate(config["hide"], as_root=bool(drop), keep=keep,
                             owner=(drop["uid"], drop["gid"]) if drop else None) \
        if config.get("hide") else ""
    if drop:
        confine.drop_privileges(drop["uid"], drop["gid"])
    isolation = confine.limit(config.get("limits", {}))
    os.environ["OMP_NUM_THREADS"] = str(config.get("threads", 1))
    import torch
    from safetensors.torch import load, save

    torch.set_num_threads(config.get("threads", 1))
    sys.stdout, sys.stderr = CappedOutput(sys.stdout), CappedOutput(sys.stderr)
    guards = Guards(torch)
    with open(CELLS_FILE) as f:
        module, hello = import_student(json.load(f))
    protocol.write_frame(wfd, {**protocol.to_header(hello), "seccomp": isolation,
                               "hidden": hidden})
    server = Server(module, torch, guards)
    while True:
        try:
            header, payload = protocol.read_frame(rfd)
        except EOFError:
            return
        req = protocol.parse_request(header)
        tensors = dict(load(payload)) if payload else {}
        reply, out = server.handle(req, tensors)
        try:
            blob = save(to_cpu(torch, out)) if out else b""
            if any(v.device.type != "cpu" for v in out.values()):
                reply = dataclasses.replace(reply, devices={k: v.device.type
                                                            for k, v in out.items()})
        except Exception as e:
            reply, blob = Reply(req.id, False, describe(e)), b""
        sys.stdout.flush(), sys.stderr.flush()
        protocol.write_frame(wfd, protocol.to_header(reply), blob)


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
