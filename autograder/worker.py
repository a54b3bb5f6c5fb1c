"""The sandbox worker: the only process that ever runs student code.

Run by the judge as ``python -I worker.py CONFIG_JSON`` in a fresh directory, as an unprivileged
user when the judge is root. It imports torch, safetensors, optionally pyseccomp, and its two
siblings copied beside it, ``protocol.py`` and ``training.py``: never ``reference``, the homework
or the judge.

Start-up, before any student code: lower its own rlimits, install a seccomp filter (no IP
sockets, no signals to other processes), point stdout/stderr at the judge's log file, then import
the student module once, send a ``Hello`` and serve requests (``protocol.CallRequest``,
``protocol.TrainRequest``) until the judge closes the pipe.
"""
from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import resource
import signal
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
    from . import protocol, training
else:  # in the sandbox, where the files sit side by side
    protocol, training = _sibling("protocol"), _sibling("training")

ErrorInfo, ErrorKind, Hello, Key, Reply = (protocol.ErrorInfo, protocol.ErrorKind, protocol.Hello,
                                           protocol.Key, protocol.Reply)

STUDENT_FILE = "submission.py"
PRINT_LIMIT = 1 << 20  # characters of student output kept in the log; the rest is dropped


# -- confinement ---------------------------------------------------------------------------------
CLONE_NEWNS, MS_REC, MS_PRIVATE, MS_RDONLY, MS_NOSUID, MS_NODEV = 0x20000, 0x4000, 0x40000, 1, 2, 4


def hide(paths: list[str]) -> str:
    """In a private mount namespace, cover each path with an empty, unreadable tmpfs: the
    grader's code and data vanish for this process alone (root only, before the drop)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0 or \
            libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return f"not hidden (no mount namespace: errno {ctypes.get_errno()})"
    for path in paths:
        if libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV,
                      b"size=4k,mode=0") != 0:
            return f"not hidden ({path}: errno {ctypes.get_errno()})"
    return "hidden (a private mount namespace)"


def drop_privileges(drop: dict | None) -> str:
    """Started as root: hide the grader's files, then become the sandbox user for good."""
    if not drop:
        return ""
    hidden = hide(drop["hide"]) if drop.get("hide") else ""
    os.setgroups([])
    os.setgid(drop["gid"])
    os.setuid(drop["uid"])
    if os.getuid() == 0 or os.geteuid() == 0:
        raise SystemExit("the worker could not drop root")
    return hidden


def confine(limits: dict) -> str:
    """Lower rlimits and install seccomp; return a word on what seccomp did."""
    for name, value in limits.items():
        res = getattr(resource, name)
        soft, hard = resource.getrlimit(res)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(res, (value, value))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails, not the worker
    try:
        import errno
        import socket

        import pyseccomp as sc
    except ImportError:
        return "unavailable (pyseccomp not installed)"
    try:
        f = sc.SyscallFilter(sc.ALLOW)
        f.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.NE, socket.AF_UNIX))
        for call in ("kill", "tgkill"):
            f.add_rule(sc.ERRNO(errno.EPERM), call, sc.Arg(0, sc.NE, os.getpid()))
        f.add_rule(sc.ERRNO(errno.EPERM), "ptrace")
        f.load()
        return "on (no network sockets, no signals to other processes)"
    except Exception as e:  # e.g. no libseccomp on this platform
        return f"unavailable ({type(e).__name__})"


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
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if os.path.basename(f.filename) == STUDENT_FILE]
    where = tuple(f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames[-3:])
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
        if req.device:  # e.g. "meta": does the code run wherever its inputs are?
            tensors = {k: v if k.startswith(Key.STATE_DICT) else v.to(req.device)
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
                    if req.device:
                        obj = obj.to(req.device)
                    fn = getattr(obj, req.method)
                else:
                    obj, fn = None, target
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
        try:
            core = self.construct(target, req, tensors)
            readout = torch.nn.Linear(cfg.hidden_size, y.size(1)).to(x.dtype)
            params = list(core.parameters()) + list(readout.parameters())

            def backward(loss):  # the grader's own backward pass
                self.guards.active = False
                loss.backward()
                self.guards.active = True

            steps, history = training.fit(
                training.last_step_readout(core, readout), params,
                training.pool_batches(x, y, cfg.batch_size, req.seed), data["x_val"],
                data["y_val"], lr=cfg.lr, clip_norm=cfg.clip_norm, max_steps=cfg.max_steps,
                eval_every=cfg.eval_every, stop_below=cfg.stop_below, backward=backward)
        except BaseException as e:
            return Reply(req.id, False, describe(e)), {}
        finally:
            self.guards.active = False
        sent = {f"{Key.TRAINED}core.{k}": v for k, v in core.state_dict().items()}
        sent.update({f"{Key.TRAINED}readout.{k}": v for k, v in readout.state_dict().items()})
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
        torch.autograd.backward(outs, cots)
        for key in req.requires_grad:
            g = tensors[key].grad
            if g is not None:
                sent[f"{Key.INPUT_GRAD}{key}"] = g
        if obj is not None:
            for name, p in obj.named_parameters():
                if p.grad is not None:
                    sent[f"{Key.PARAM_GRAD}{name}"] = p.grad
        return "ok"


def import_student(torch) -> tuple[object, Hello]:
    spec = importlib.util.spec_from_file_location("submission", STUDENT_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    try:
        spec.loader.exec_module(module)
        return module, Hello(True, names=tuple(sorted(n for n in vars(module)
                                                      if not n.startswith("_"))))
    except BaseException as e:  # SystemExit at import included
        return module, Hello(False, error=describe(e))


def to_cpu(torch, tensors: dict) -> dict:
    """What travels: every tensor on the CPU; a ``meta`` tensor (shape and dtype, no data) as
    zeros of its shape and dtype."""
    return {k: torch.zeros(v.shape, dtype=v.dtype) if v.device.type == "meta"
            else v.detach().to("cpu").clone().contiguous() for k, v in tensors.items()}


def serve(config: dict) -> None:
    rfd, wfd = config["request_fd"], config["reply_fd"]
    hidden = drop_privileges(config.get("drop"))
    isolation = confine(config.get("limits", {}))
    os.environ["OMP_NUM_THREADS"] = str(config.get("threads", 1))
    import torch
    from safetensors.torch import load, save

    torch.set_num_threads(config.get("threads", 1))
    sys.stdout, sys.stderr = CappedOutput(sys.stdout), CappedOutput(sys.stderr)
    guards = Guards(torch)
    module, hello = import_student(torch)
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
