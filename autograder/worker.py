"""The sandbox worker: the only process that ever runs student code.

Run by the judge as ``python -I worker.py CONFIG_JSON`` in a fresh directory, as an unprivileged
user when the judge is root. This file is self-contained (torch, safetensors, optionally
pyseccomp): it is copied into the sandbox and must not import ``autograder`` or ``reference``.

Start-up, before any student code: lower its own rlimits, install a seccomp filter (no IP
sockets, no signals to other processes), point stdout/stderr at the judge's log file, then import
the student module once and serve requests until the judge closes the pipe.

Wire format, both directions, on dedicated file descriptors: a frame is
``<u32 header length><header JSON><u64 payload length><safetensors payload>``. Never pickle.

The first frame the worker sends (its hello) lists what the module defines, or why importing
it failed. Requests (header): ``{"op": "call", "target": NAME, "kind": "function" | "module",
...}`` runs a function or constructs a module, loads a state_dict, calls it, optionally
back-propagates given cotangents, and returns outputs and gradients; ``{"op": "train", ...}``
trains a recurrent layer for Part 7 and returns its weights.
"""
from __future__ import annotations

import importlib.util
import json
import os
import resource
import select
import signal
import struct
import sys
import time
import traceback

MAX_FRAME = 256 << 20  # no frame may exceed 256 MiB, either way
STUDENT_FILE = "submission.py"
PRINT_LIMIT = 1 << 20  # characters of student output kept in the log; the rest is dropped


# -- framing (also imported by the judge) -------------------------------------------------------
def _wait(fd: int, deadline: float | None, write: bool) -> None:
    """Block until fd is ready, or raise TimeoutError at the deadline (time.monotonic())."""
    if deadline is None:
        return
    left = deadline - time.monotonic()
    r, w, _ = select.select([] if write else [fd], [fd] if write else [], [], max(0.0, left))
    if not (r or w):
        raise TimeoutError


def write_frame(fd: int, header: dict, payload: bytes = b"", deadline: float | None = None):
    head = json.dumps(header).encode()
    data = struct.pack("<I", len(head)) + head + struct.pack("<Q", len(payload)) + payload
    view = memoryview(data)
    while view:
        _wait(fd, deadline, write=True)
        view = view[os.write(fd, view[: 1 << 16]):]


def read_exact(fd: int, n: int, deadline: float | None = None) -> bytes:
    chunks, left = [], n
    while left:
        _wait(fd, deadline, write=False)
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("pipe closed")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None) -> tuple[dict, bytes]:
    (n,) = struct.unpack("<I", read_exact(fd, 4, deadline))
    if n > MAX_FRAME:
        raise ValueError(f"frame header of {n} bytes is too large")
    header = json.loads(read_exact(fd, n, deadline))
    (m,) = struct.unpack("<Q", read_exact(fd, 8, deadline))
    if m > MAX_FRAME:
        raise ValueError(f"frame payload of {m} bytes is too large")
    return header, read_exact(fd, m, deadline)


# -- confinement ---------------------------------------------------------------------------------
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

    The static scan in the judge is the primary check; these catch what it cannot see
    (``getattr(torch.nn, "LS" + "TM")``). The flags are only on while student code runs."""

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


# -- requests ------------------------------------------------------------------------------------
class Server:
    def __init__(self, module, torch, guards):
        self.module, self.torch, self.guards = module, torch, guards

    def target(self, req):
        """The student's definition a request names, or the error reply saying it is missing."""
        target = getattr(self.module, req["target"], None)
        missing = None if target is not None else {"ok": False, "error": {
            "type": "MissingName", "message": f"`{req['target']}` is not defined in your submission"}}
        return target, missing

    def decode(self, spec, tensors):
        """Rebuild an argument from its JSON spec; ``{"t": key}`` refers to a received tensor."""
        if spec is None or not isinstance(spec, (dict, list)):
            return spec
        if isinstance(spec, list):
            return [self.decode(s, tensors) for s in spec]
        if "t" in spec:
            return tensors[spec["t"]]
        if "tuple" in spec:
            return tuple(self.decode(s, tensors) for s in spec["tuple"])
        if "dict" in spec:
            return {k: self.decode(v, tensors) for k, v in spec["dict"].items()}
        if "dtype" in spec:
            return getattr(self.torch, spec["dtype"])
        return spec.get("v")

    def decode_kwargs(self, specs: dict, tensors):
        return {k: self.decode(v, tensors) for k, v in specs.items()}

    def encode(self, value, out, prefix):
        """Flatten a return value into a JSON structure plus tensors named ``prefix.i``."""
        torch = self.torch
        if isinstance(value, torch.Tensor):
            key = f"{prefix}.{len(out)}"
            out[key] = value
            return {"t": key, "shape": list(value.shape), "dtype": str(value.dtype).split(".")[-1],
                    "device": value.device.type}
        if isinstance(value, (tuple, list)):
            return {"tuple": [self.encode(v, out, prefix) for v in value]}
        if isinstance(value, dict):
            return {"dict": {str(k): self.encode(v, out, prefix) for k, v in value.items()}}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"v": value}
        return {"unsupported": type(value).__name__}

    def construct(self, target, req, tensors):
        """``target(*init.args, **init.kwargs)``, in the request's dtype, with its state_dict."""
        torch = self.torch
        torch.manual_seed(req.get("seed", 0))
        init = req.get("init", {})
        obj = target(*self.decode(init.get("args", []), tensors),
                     **self.decode_kwargs(init.get("kwargs", {}), tensors))
        obj = obj.to(self.decode(req.get("to", {"dtype": "float64"}), tensors))
        if "state_dict" in req:
            prefix = req["state_dict"] + "."
            obj.load_state_dict({k[len(prefix):]: v for k, v in tensors.items()
                                 if k.startswith(prefix)}, strict=True)
        return obj

    def call(self, req, tensors):
        torch = self.torch
        target, missing = self.target(req)
        if missing:
            return missing, {}
        device = req.get("device")  # e.g. "meta": does the code run wherever its inputs are?
        if device:
            tensors = {k: v if k.startswith("sd.") else v.to(device) for k, v in tensors.items()}
        for key in req.get("requires_grad", []):
            tensors[key] = tensors[key].detach().requires_grad_(True)
        reply, sent = {"ok": True}, {}
        self.guards.active, self.guards.no_autograd = True, req.get("no_autograd", False)
        try:
            with torch.set_grad_enabled(req.get("grad_enabled", True)):
                if req["kind"] == "module":
                    obj = self.construct(target, req, tensors)
                    reply["params"] = {k: list(v.shape) for k, v in obj.state_dict().items()}
                    if device:
                        obj = obj.to(device)
                    fn = getattr(obj, req.get("method", "forward"))
                else:
                    obj, fn = None, target
                result = fn(*self.decode(req.get("args", []), tensors),
                            **self.decode_kwargs(req.get("kwargs", {}), tensors))
                reply["outputs"] = self.encode(result, sent, "o")
                if "cotangents" in req:
                    self.backward(req, tensors, obj, result, sent, reply)
        except BaseException as e:  # ForbiddenCall, SystemExit, KeyboardInterrupt: report, serve on
            return {"ok": False, "error": describe(e), **_only(reply, "params")}, {}
        finally:
            self.guards.active = self.guards.no_autograd = False
        return reply, sent

    def train(self, req, tensors):
        """Train ``target`` (a batch-first recurrent layer) with the grader's linear read-out on
        the judge's data: Adam, MSE, gradient clipping, early stopping on the validation batch.
        Returns the trained weights only (``core.*`` and ``readout.*``); the judge evaluates them
        on data this process never sees."""
        torch, cfg = self.torch, req["config"]
        nn, F = torch.nn, torch.nn.functional
        target, missing = self.target(req)
        if missing:
            return missing, {}
        x, y, x_val, y_val = (tensors[k] for k in ("x_train", "y_train", "x_val", "y_val"))
        self.guards.active, self.guards.no_autograd = True, False
        try:
            core = self.construct(target, req, tensors)
            readout = nn.Linear(cfg["hidden_size"], y.size(1)).to(x.dtype)
            params = list(core.parameters()) + list(readout.parameters())
            opt = torch.optim.Adam(params, lr=cfg["lr"])
            gen = torch.Generator().manual_seed(req.get("seed", 0))

            def predict(batch):
                out = core(batch)
                out = out[0] if isinstance(out, (tuple, list)) else out  # (B, T, H)
                return readout(out[:, -1])  # (B, 1)

            steps, history = 0, []
            while steps < cfg["max_steps"]:
                idx = torch.randint(0, x.size(0), (cfg["batch_size"],), generator=gen)
                loss = F.mse_loss(predict(x[idx]), y[idx])
                opt.zero_grad(set_to_none=True)
                self.guards.active = False  # the grader's own backward pass
                loss.backward()
                self.guards.active = True
                nn.utils.clip_grad_norm_(params, cfg["clip_norm"])
                opt.step()
                steps += 1
                if steps % cfg["eval_every"] == 0:
                    with torch.no_grad():
                        val = F.mse_loss(predict(x_val), y_val).item()
                    history.append([steps, val])
                    if val < cfg["stop_below"]:
                        break
        except BaseException as e:
            return {"ok": False, "error": describe(e)}, {}
        finally:
            self.guards.active = False
        sent = {f"core.{k}": v for k, v in core.state_dict().items()}
        sent.update({f"readout.{k}": v for k, v in readout.state_dict().items()})
        return {"ok": True, "steps": steps, "history": history}, sent

    def backward(self, req, tensors, obj, result, sent, reply):
        """Back-propagate sum_i <cotangent_i, output_i>; gradients of marked inputs and params.

        ``req["cotangents"]`` pairs a path in the return value (tuple indices, dict keys) with
        the key of the cotangent tensor."""
        torch = self.torch
        outs, cots = [], []
        for path, key in req["cotangents"]:
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
            reply["backward"] = "outputs are not connected to the autograd graph"
            return
        self.guards.active = False  # the grader's own backward call
        torch.autograd.backward(outs, cots)
        for key in req.get("requires_grad", []):
            g = tensors[key].grad
            if g is not None:
                sent[f"g.{key}"] = g
        if obj is not None:
            for name, p in obj.named_parameters():
                if p.grad is not None:
                    sent[f"pg.{name}"] = p.grad
        reply["backward"] = "ok"


def _only(d: dict, *keys) -> dict:
    return {k: d[k] for k in keys if k in d}


def describe(e: BaseException) -> dict:
    """The exception, with only the student's own frames (never the worker's or torch's)."""
    frames = [f for f in traceback.extract_tb(e.__traceback__)
              if os.path.basename(f.filename) == STUDENT_FILE]
    where = [f"line {f.lineno}, in {f.name}: {(f.line or '').strip()}" for f in frames[-3:]]
    return {"type": type(e).__name__, "message": str(e)[:500], "where": where}


def serve(config: dict) -> None:
    rfd, wfd = config["request_fd"], config["reply_fd"]
    isolation = confine(config.get("limits", {}))
    os.environ["OMP_NUM_THREADS"] = str(config.get("threads", 1))
    import torch
    from safetensors.torch import load, save

    torch.set_num_threads(config.get("threads", 1))
    sys.stdout, sys.stderr = CappedOutput(sys.stdout), CappedOutput(sys.stderr)
    guards = Guards(torch)
    spec = importlib.util.spec_from_file_location("submission", STUDENT_FILE)
    module = importlib.util.module_from_spec(spec)
    sys.modules["submission"] = module
    try:
        spec.loader.exec_module(module)
        hello = {"ok": True, "seccomp": isolation,
                 "names": sorted(n for n in vars(module) if not n.startswith("_"))}
    except BaseException as e:  # SystemExit at import included
        hello = {"ok": False, "seccomp": isolation, "error": describe(e)}
    write_frame(wfd, hello)
    server = Server(module, torch, guards)
    while True:
        try:
            req, payload = read_frame(rfd)
        except EOFError:
            return
        tensors = dict(load(payload)) if payload else {}
        handler = server.train if req.get("op") == "train" else server.call
        reply, out = handler(req, tensors)
        try:
            blob = save({k: v.detach().to("cpu").clone().contiguous() for k, v in out.items()
                         if v.device.type != "meta"}) if out else b""
        except Exception as e:
            reply, blob = {"ok": False, "error": describe(e)}, b""
        sys.stdout.flush(), sys.stderr.flush()
        write_frame(wfd, reply, blob)


if __name__ == "__main__":
    serve(json.loads(sys.argv[1]))
