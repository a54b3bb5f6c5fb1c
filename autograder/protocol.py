"""The one protocol between the judge and the sandboxed worker. Standard library only: this file
is copied into the sandbox beside ``worker.py``.

Wire format, both directions, on dedicated pipes: a frame is
``<u32 header length><header JSON><u64 payload length><safetensors payload>``. Never pickle.

Tensors travel in the payload under keys made of a prefix and a name (``Key.STATE_DICT +
"weight_ih"``); the JSON header refers to them by key. Every request carries an ``id`` that its
reply echoes, so a stray frame can never be taken for the answer to another request.

    judge -> worker    CallRequest | TrainRequest     (one reply each)
    worker -> judge    Hello (once, first), then Reply

The judge never takes a header at its word: ``parse_hello`` and ``parse_reply`` check every
field's type and size before anything else reads it, and raise ``ProtocolError`` otherwise.
"""
from __future__ import annotations

import json
import os
import select
import struct
import time
from dataclasses import asdict, dataclass, field
from typing import Any

MAX_HEADER = 256 << 10  # bytes of JSON in one frame's header, either way
MAX_PAYLOAD = 256 << 20  # bytes of tensors in one frame, either way
MAX_DEPTH = 32  # nesting of a JSON structure describing a return value


class Key:
    """Prefixes of the tensor keys in a frame's payload."""

    STATE_DICT = "sd."  # a module's weights, loaded before the call (never moved to a device)
    INPUT = "in."  # an argument of the call
    COTANGENT = "cot."  # the weight of an output in the scalar that is back-propagated
    OUTPUT = "o."  # a tensor in the return value: o.0, o.1, ... in the order they are found
    INPUT_GRAD = "g."  # g.<input key>: the gradient with respect to an input
    PARAM_GRAD = "pg."  # pg.<parameter name>: the gradient with respect to a parameter
    TRAINED = "trained."  # trained.core.<name>, trained.readout.<name>: Part 7's weights
    CHECKPOINT = "check."  # check.core.<name>, check.readout.<name>: after check_steps updates
    READOUT = "ro."  # the read-out's initial weights (the core's are Key.STATE_DICT)
    TRAIN_DATA = "data."  # data.x_train, data.y_train, data.x_val, data.y_val


class ErrorKind:
    """Why a reply is not ``ok``."""

    RAISED = "raised"  # the student's code raised ``exc_type``
    FORBIDDEN = "forbidden"  # it called a built-in the part forbids (runtime guard)
    MISSING = "missing"  # the name asked for is not defined
    CRASHED = "crashed"  # the worker died, or could not answer (judge side)
    TIMEOUT = "timeout"  # the request ran past its deadline (judge side)
    PROTOCOL = "protocol"  # the reply broke this protocol (judge side)
    ALL = (RAISED, FORBIDDEN, MISSING, CRASHED, TIMEOUT, PROTOCOL)


class ProtocolError(ValueError):
    """A frame or header that does not follow this protocol."""


@dataclass(frozen=True)
class ErrorInfo:
    kind: str  # one of ErrorKind.ALL
    message: str
    exc_type: str = ""  # the exception's class name, for ErrorKind.RAISED
    where: tuple[str, ...] = ()  # the student's own frames: "line 3, in forward: x = y"


@dataclass(frozen=True)
class Init:
    """How to construct a module: ``target(*args, **kwargs)``."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CallRequest:
    """Call a student function, or construct a module (seeded, cast to ``dtype``, loaded with the
    ``Key.STATE_DICT`` tensors) and call ``method``; optionally back-propagate
    sum_i <cotangent_i, output_i> and return the gradients of ``requires_grad`` inputs and of
    every parameter.

    Arguments are JSON specs: ``{"t": key}`` a tensor, ``{"tuple": [...]}``, ``{"dict": {...}}``,
    ``{"dtype": "float64"}``, ``{"v": value}``; a plain JSON value stands for itself."""

    target: str
    kind: str = "function"  # "function" | "module"
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    init: Init | None = None  # modules only
    dtype: str = "float64"  # modules only: .to(dtype) before the weights are loaded
    load_state_dict: bool = False
    method: str = "forward"
    device: str | None = None  # move inputs and module there ("meta", "cuda")
    requires_grad: tuple[str, ...] = ()  # input keys that are leaves of the graph
    cotangents: tuple[tuple[tuple, str], ...] = ()  # (path in the return value, cotangent key)
    grad_enabled: bool = True
    no_autograd: bool = False  # the runtime guard refuses autograd inside the call
    seed: int = 0
    id: int = 0
    op: str = "call"


@dataclass(frozen=True)
class TrainConfig:
    """Training of Part 7, in the worker (shared with ``autograder.training``)."""

    hidden_size: int
    lr: float
    batch_size: int
    clip_norm: float
    max_steps: int
    eval_every: int
    stop_below: float  # stop once the validation loss is below this


@dataclass(frozen=True)
class TrainRequest:
    """Train ``target(*init.args, **init.kwargs)`` with the grader's linear read-out on the
    ``Key.TRAIN_DATA`` tensors; reply with the trained weights (``Key.TRAINED``) only."""

    target: str
    init: Init
    config: TrainConfig
    dtype: str = "float32"
    seed: int = 0
    load_state_dict: bool = False  # start from the judge's weights (Key.STATE_DICT, Key.READOUT)
    check_steps: int = 0  # also return the weights after this many updates (Key.CHECKPOINT)
    id: int = 0
    op: str = "train"


Request = CallRequest | TrainRequest


@dataclass(frozen=True)
class Hello:
    """The worker's first frame: what the module defines, or why importing it failed."""

    ok: bool
    seccomp: str = ""
    hidden: str = ""  # whether the grader's files were hidden from it (as root)
    names: tuple[str, ...] = ()
    error: ErrorInfo | None = None
    notes: tuple[str, ...] = ()  # statements of the student's cells that failed or were skipped


@dataclass(frozen=True)
class Reply:
    """The answer to one request. ``outputs`` describes the return value (JSON specs as in
    ``CallRequest``, tensors as ``{"t": key}``); ``tensors`` is filled in by the judge from the
    payload and never travels in the header."""

    id: int
    ok: bool
    error: ErrorInfo | None = None
    outputs: Any = None
    params: dict[str, list[int]] | None = None  # a module's state_dict shapes, once constructed
    backward: str | None = None  # "ok", or why nothing could be back-propagated
    steps: int | None = None  # training only
    history: tuple[tuple[int, float], ...] = ()  # training only: (step, validation loss)
    devices: dict[str, str] | None = None  # tensor key -> device, when not all were on the CPU
    tensors: dict = field(default_factory=dict, compare=False)

    @staticmethod
    def failure(id: int, kind: str, message: str, **kw) -> "Reply":
        return Reply(id, False, ErrorInfo(kind, message, **kw))


# -- headers ----------------------------------------------------------------------------------
def to_header(message) -> dict:
    """A request, hello or reply as the JSON header that carries it (no tensors)."""
    header = asdict(message)
    header.pop("tensors", None)
    return header


def parse_request(header: dict) -> Request:
    """Worker side: the request a header carries (the judge is trusted)."""
    h = dict(header)
    op = h.pop("op", "call")
    if h.get("init") is not None:
        h["init"] = Init(tuple(h["init"]["args"]), h["init"]["kwargs"])
    if op == "train":
        h["config"] = TrainConfig(**h["config"])
        return TrainRequest(**h)
    h["cotangents"] = tuple((tuple(p), k) for p, k in h.get("cotangents", ()))
    return CallRequest(**{k: tuple(v) if k in ("args", "requires_grad") else v
                          for k, v in h.items()})


def _check(condition: bool, what: str) -> None:
    if not condition:
        raise ProtocolError(what)


def _text(value, name: str, limit: int = 4000) -> str:
    _check(isinstance(value, str) and len(value) <= limit, f"{name} must be a short string")
    return value


def _error(value) -> ErrorInfo | None:
    if value is None:
        return None
    _check(isinstance(value, dict), "error must be an object")
    kind = value.get("kind")
    _check(kind in ErrorKind.ALL, f"unknown error kind {kind!r}")
    where = value.get("where", ())
    _check(isinstance(where, (list, tuple)) and len(where) <= 10, "error.where must be a list")
    return ErrorInfo(kind, _text(value.get("message", ""), "error.message"),
                     _text(value.get("exc_type", ""), "error.exc_type", 200),
                     tuple(_text(w, "error.where[]", 500) for w in where))


def _depth(value, depth: int = 0) -> None:
    _check(depth <= MAX_DEPTH, "the return value is nested too deeply")
    if isinstance(value, dict):
        for v in value.values():
            _depth(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _depth(v, depth + 1)


def parse_hello(header) -> Hello:
    _check(isinstance(header, dict), "hello must be an object")
    names = header.get("names", ())
    _check(isinstance(names, (list, tuple)) and len(names) <= 10_000, "names must be a list")
    notes = header.get("notes", ())
    _check(isinstance(notes, (list, tuple)) and len(notes) <= 20, "notes must be a short list")
    return Hello(bool(header.get("ok") is True), _text(header.get("seccomp", ""), "seccomp", 200),
                 _text(header.get("hidden", ""), "hidden", 200),
                 tuple(_text(n, "names[]", 200) for n in names), _error(header.get("error")),
                 tuple(_text(n, "notes[]", 600) for n in notes))


def parse_reply(header, expected_id: int) -> Reply:
    """Judge side: a reply header, checked field by field; its id must be ``expected_id``."""
    _check(isinstance(header, dict), "a reply must be an object")
    _check(header.get("id") == expected_id and type(header.get("id")) is int,
           f"reply to request {header.get('id')!r}, expected {expected_id}")
    ok = header.get("ok")
    _check(isinstance(ok, bool), "ok must be a boolean")
    _depth(header.get("outputs"))
    params = header.get("params")
    if params is not None:
        _check(isinstance(params, dict) and len(params) <= 1000 and all(
            isinstance(k, str) and isinstance(v, list) and len(v) <= 8
            and all(type(d) is int and d >= 0 for d in v) for k, v in params.items()),
            "params must map names to shapes")
    backward = header.get("backward")
    _check(backward is None or isinstance(backward, str), "backward must be a string")
    steps = header.get("steps")
    _check(steps is None or (type(steps) is int and steps >= 0), "steps must be an int")
    history = header.get("history", ())
    _check(isinstance(history, (list, tuple)) and len(history) <= 10_000, "history: a list")
    pairs = []
    for row in history:
        _check(isinstance(row, (list, tuple)) and len(row) == 2 and type(row[0]) is int
               and isinstance(row[1], (int, float)) and not isinstance(row[1], bool),
               "history rows must be [step, loss]")
        pairs.append((row[0], float(row[1])))
    devices = header.get("devices")
    _check(devices is None or (isinstance(devices, dict) and len(devices) <= 10_000 and all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= 16 for k, v in devices.items())),
        "devices must map tensor keys to device types")
    return Reply(expected_id, ok, _error(header.get("error")), header.get("outputs"), params,
                 backward, steps, tuple(pairs), devices)


# -- framing ----------------------------------------------------------------------------------
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


def read_frame(fd: int, deadline: float | None = None, max_header: int = MAX_HEADER,
               max_payload: int = MAX_PAYLOAD) -> tuple[Any, bytes]:
    """One frame; sizes are checked from the length prefixes before anything is read."""
    (n,) = struct.unpack("<I", read_exact(fd, 4, deadline))
    if n > max_header:
        raise ProtocolError(f"a frame header of {n} bytes (at most {max_header})")
    try:
        header = json.loads(read_exact(fd, n, deadline))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ProtocolError("a frame header that is not JSON") from None
    (m,) = struct.unpack("<Q", read_exact(fd, 8, deadline))
    if m > max_payload:
        raise ProtocolError(f"a frame payload of {m} bytes (at most {max_payload})")
    return header, read_exact(fd, m, deadline)
