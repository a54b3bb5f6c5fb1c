"""The class report and a feedback page as a person sees them: loaded in real headless Chromium
(Debian's ``chromium``; skipped where it is missing), with no console error, no failed request,
no exception, and their plots drawn.

Chromium is driven through the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages
ended by NUL on file descriptors 3 and 4): no port to find or to collide on, no websocket
library, no browser-automation package to install; the protocol reports exceptions
(``Runtime.exceptionThrown``), ``console.error`` calls and the browser's own errors
(``Log.entryAdded``: a blocked or failed request, a Content-Security-Policy violation) as events,
which scraping ``--enable-logging`` stderr does not do reliably across versions.
"""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from classroom.gradebook import Gradebook
from classroom.report import write_report

from .synthetic import build_class

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian: "
                                "apt-get install chromium; scripts/setup.sh does it as root)")
TIMEOUT = 120.0  # seconds for everything one page needs, on a busy machine


class DevTools:
    """A Chromium process and its DevTools pipe."""

    def __init__(self, profile: Path):
        to_chrome, self._write = os.pipe()
        self._read, from_chrome = os.pipe()
        args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                "--remote-debugging-pipe", f"--user-data-dir={profile}", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update", "about:blank"]
        # bash (dash takes no fd above 9) puts the pipe ends at fds 3 (commands in) and 4
        # (replies out), where Chromium expects them, then becomes Chromium
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_chrome} 4>&{from_chrome}', *args],
            pass_fds=(to_chrome, from_chrome), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_chrome)
        os.close(from_chrome)
        self._buffer, self._id, self.events = b"", 0, []

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             deadline: float | None = None) -> dict:
        """Send one command and wait for its reply (events that arrive meanwhile are kept)."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._next(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def wait_for(self, method: str, deadline: float) -> dict:
        """The first event named ``method`` (already received, or the next ones)."""
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._next(deadline)
            if event.get("method") == method:
                return event

    def _next(self, deadline: float | None) -> dict:
        deadline = deadline or time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._read], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer within {TIMEOUT:.0f} s")
            chunk = os.read(self._read, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited (status {self.proc.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
        return message

    def close(self) -> None:
        try:
            os.write(self._write, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=30)
        os.close(self._write)
        os.close(self._read)


def load(path: Path, profile: Path) -> tuple[list[str], dict]:
    """Open ``path`` in Chromium; the errors it reported and what the page holds."""
    browser = DevTools(profile)
    deadline = time.monotonic() + TIMEOUT
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"}, deadline=deadline)
        session = browser.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                         "flatten": True},
                               deadline=deadline)["sessionId"]
        for domain in ("Runtime", "Log", "Page"):
            browser.send(f"{domain}.enable", session=session, deadline=deadline)
        browser.send("Page.navigate", {"url": path.resolve().as_uri()}, session=session,
                     deadline=deadline)
        browser.wait_for("Page.loadEventFired", deadline)
        # the page as drawn: its figures' sizes, and a click on a sortable heading (the script)
        found = browser.send("Runtime.evaluate", {"returnByValue": True, "expression": """(() => {
            const th = document.querySelector("th[data-sort]"); if (th) { th.click(); th.click(); }
            return {svgs: [...document.querySelectorAll("svg")].map(s => {
                        const r = s.getBoundingClientRect(); return [r.width, r.height]; }),
                    paths: document.querySelectorAll("svg path").length,
                    title: document.title, links: document.links.length};
        })()"""}, session=session, deadline=deadline)["result"]["value"]
        browser.send("Runtime.evaluate", {"expression": "1"}, session=session, deadline=deadline)
    finally:
        browser.close()
    errors = []
    for e in browser.events:
        params = e.get("params", {})
        if e["method"] == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            errors.append(f"{details.get('text', 'exception')} "
                          f"{details.get('exception', {}).get('description', '')}")
        elif e["method"] == "Runtime.consoleAPICalled" and params.get("type") in ("error",
                                                                                  "assert"):
            errors.append(f"console.{params['type']}: {params.get('args')}")
        elif e["method"] == "Log.entryAdded" and params["entry"]["level"] == "error":
            errors.append(f"{params['entry']['source']}: {params['entry']['text']}")
    return errors, found


@pytest.fixture(scope="module")
def outdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("class")
    build_class(out, n=12, seed=1, evil="<script>console.error('injected')</script>")
    write_report(out)
    return out


@pytest.mark.parametrize("page,title,least_svgs", [
    ("report.html", "Class report", 3),  # scores, times, pass rates
    ("feedback/s00.html", "Feedback: Student 00", 2),  # the parts, a failed test
], ids=["class-report", "feedback-page"])
def test_page_loads_without_errors_and_shows_its_plots(outdir, tmp_path, page, title, least_svgs):
    errors, found = load(outdir / page, tmp_path / "profile")
    assert errors == []
    assert found["title"] == title
    assert len(found["svgs"]) >= least_svgs and found["paths"] > 50
    assert all(w > 100 and h > 50 for w, h in found["svgs"]), found["svgs"]


def test_a_broken_page_is_caught(outdir, tmp_path):
    """The check itself: an exception, a console error and a blocked request all show."""
    bad = outdir / "broken.html"
    bad.write_text((outdir / "report.html").read_text().replace(
        "</body>", "<script>console.error('bad'); undefinedFunction();</script>"
        '<img src="https://example.com/x.png"></body>'))
    errors, _ = load(bad, tmp_path / "profile")
    text = "\n".join(errors)
    assert "bad" in text and "undefinedFunction" in text and "example.com" in text, text


def test_the_pages_have_a_feedback_page_for_everyone(outdir):
    with Gradebook(outdir / "gradebook.sqlite") as book:
        keys = book.keys()
    assert sorted(p.stem for p in (outdir / "feedback").glob("*.html")) == sorted(keys)
