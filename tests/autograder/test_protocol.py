"""autograder.protocol: frames, request and reply types, and the judge's checks on replies."""
from __future__ import annotations

import json
import os
import struct
import threading

import pytest

from autograder import protocol
from autograder.protocol import (CallRequest, ErrorKind, Hello, Init, ProtocolError, Reply,
                                 TrainConfig, TrainRequest, parse_reply, parse_request,
                                 read_frame, to_header, write_frame)


@pytest.fixture
def pipe():
    r, w = os.pipe()
    yield r, w
    for fd in (r, w):
        try:
            os.close(fd)
        except OSError:
            pass


def roundtrip(pipe, header, payload=b""):
    r, w = pipe
    writer = threading.Thread(target=write_frame, args=(w, header, payload, None))
    writer.start()  # a large frame does not fit in the pipe's buffer at once
    got = read_frame(r, max_payload=len(payload) + 1)
    writer.join()
    return got


@pytest.mark.parametrize("size", [0, 10, 3 << 20], ids=["empty", "small", "3MiB"])
def test_a_frame_comes_back_as_it_was_sent(pipe, size):
    payload = os.urandom(size)
    assert roundtrip(pipe, {"id": 7, "a": [1, 2]}, payload) == ({"id": 7, "a": [1, 2]}, payload)


def test_sizes_are_checked_from_the_length_prefix_before_reading(pipe):
    r, w = pipe
    os.write(w, struct.pack("<I", protocol.MAX_HEADER + 1))  # and nothing after it
    with pytest.raises(ProtocolError, match="frame header of"):
        read_frame(r, deadline=None)
    os.write(w, struct.pack("<I", 2) + b"{}" + struct.pack("<Q", 1 << 40))
    with pytest.raises(ProtocolError, match="frame payload of"):
        read_frame(r, deadline=None)


def test_a_header_that_is_not_json_is_a_protocol_error(pipe):
    r, w = pipe
    os.write(w, struct.pack("<I", 3) + b"\xff{[")
    with pytest.raises(ProtocolError, match="not JSON"):
        read_frame(r)


def test_a_silent_peer_times_out_at_the_deadline(pipe):
    import time

    with pytest.raises(TimeoutError):
        read_frame(pipe[0], deadline=time.monotonic() + 0.05)


def test_a_closed_pipe_is_end_of_file(pipe):
    r, w = pipe
    os.close(w)
    with pytest.raises(EOFError):
        read_frame(r)


@pytest.mark.parametrize("request_", [
    CallRequest("LSTM", "module", ({"t": "in.x"}, None), init=Init((4, 5), {"num_layers": 2}),
                load_state_dict=True, requires_grad=("in.x",),
                cotangents=(((0,), "cot.output"), ((1, 0), "cot.h_n")), id=3),
    CallRequest("rnn_param_count", args=(3, 5, 2), no_autograd=True, grad_enabled=False),
    TrainRequest("LSTM", Init((2, 32), {"batch_first": True}),
                 TrainConfig(32, 1e-2, 64, 1.0, 1500, 50, 0.005), seed=9, id=4),
], ids=["module-call", "function-call", "train"])
def test_requests_survive_the_trip_through_json(request_):
    header = json.loads(json.dumps(to_header(request_)))
    assert parse_request(header) == request_


def test_a_reply_survives_the_trip_and_is_checked_field_by_field():
    reply = Reply(5, False, protocol.ErrorInfo(ErrorKind.RAISED, "bad", "ValueError",
                                               ("line 3, in f: x",)),
                  outputs={"tuple": [{"t": "o.0"}]}, params={"w": [4, 3]}, backward="ok",
                  history=((50, 0.1),), devices={"o.0": "meta"})
    assert parse_reply(json.loads(json.dumps(to_header(reply))), 5) == reply


@pytest.mark.parametrize("header,words", [
    ({"id": 4, "ok": True}, "reply to request 4, expected 5"),
    ({"id": "5", "ok": True}, "expected 5"),
    ({"id": 5, "ok": "yes"}, "ok must be a boolean"),
    ({"id": 5, "ok": False, "error": {"kind": "nope", "message": ""}}, "unknown error kind"),
    ({"id": 5, "ok": False, "error": {"kind": "raised", "message": "x" * 5000}}, "short string"),
    ({"id": 5, "ok": True, "params": {"w": ["4"]}}, "params must map names to shapes"),
    ({"id": 5, "ok": True, "history": [[1, "a"]]}, "history rows"),
    ({"id": 5, "ok": True, "steps": -1}, "steps must be an int"),
    ({"id": 5, "ok": True, "outputs": json.loads("[" * 40 + "]" * 40)}, "nested too deeply"),
    ({"id": 5, "ok": True, "devices": {"o.0": 3}}, "devices must map"),
    ([1, 2], "a reply must be an object"),
], ids=["other-id", "id-as-text", "ok-as-text", "error-kind", "long-message", "params",
        "history", "steps", "deep", "devices", "not-an-object"])
def test_a_malformed_reply_is_refused_with_a_reason(header, words):
    with pytest.raises(ProtocolError, match=words):
        parse_reply(header, 5)


def test_the_hello_is_checked_too():
    hello = protocol.parse_hello({"ok": True, "names": ["LSTM"], "seccomp": "on"})
    assert hello == Hello(True, "on", "", ("LSTM",))
    with pytest.raises(ProtocolError):
        protocol.parse_hello({"ok": True, "names": "LSTM" * 10})
