"""Open a report in headless Chromium and check it: no console errors, no network, every claim shown.

A stdlib-only Chrome DevTools Protocol client over ``--remote-debugging-pipe`` (Chromium reads
NUL-terminated JSON commands on fd 3 and writes replies and events on fd 4). Collected: console
errors (``Runtime.consoleAPICalled`` error/assert, ``Runtime.exceptionThrown``, ``Log.entryAdded`` at
level error), every requested URL (``Network.requestWillBeSent``: a self-contained report asks for
nothing but its own file), the ids of the rendered claim sections (``[data-claim-id]`` with a
non-empty layout box), and optionally a PNG screenshot of the top of the page and of the whole page.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "headless_shell")
MAX_SCREENSHOT_HEIGHT_PX = 12_000
# Headless in a sandbox without network: no sandbox (root), no GPU, and none of Chromium's own background
# connections (QUIC, component updates, sync, field trials), which a closed network refuses; a fresh
# profile per run (--user-data-dir, added by DevToolsPipe).
BROWSER_FLAGS = (
    "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-quic", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions", "--hide-scrollbars",
)  # fmt: skip
SUMMARY_BOTTOM_JS = """(() => { const end = document.getElementById('claims');
  return end ? Math.ceil(end.getBoundingClientRect().top + window.scrollY) : 0; })()"""
VISIBLE_CLAIMS_JS = """JSON.stringify(Array.from(document.querySelectorAll('[data-claim-id]')).filter(
  el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden'
        && el.getBoundingClientRect().height > 0).map(el => el.dataset.claimId))"""


def find_browser() -> str | None:
    """Path of a Chromium-family browser: ``$CHROMIUM`` if set, else the first of BROWSER_NAMES on PATH."""
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else shutil.which(explicit)
    for name in BROWSER_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class PageCheck:
    """What the browser saw: console errors, requested URLs, rendered claim ids, screenshots written."""

    title: str
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    visible_claims: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)

    @property
    def external_requests(self) -> list[str]:
        """Requests for anything other than local files and inline data (a self-contained page has none)."""
        return [url for url in self.requests if not url.startswith(("file:", "data:", "about:"))]


class DevToolsPipe:
    """A minimal CDP client: ``call`` sends a command and returns its result, keeping events meanwhile."""

    def __init__(self, browser: str, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self.profile = tempfile.TemporaryDirectory(prefix="reports-chromium-")
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds() -> None:  # the child sees our pipes as fds 3 (commands) and 4 (replies)
            high_r = fcntl.fcntl(to_browser_r, fcntl.F_DUPFD, 10)  # out of the way of 3 and 4 first
            high_w = fcntl.fcntl(from_browser_w, fcntl.F_DUPFD, 10)
            os.dup2(high_r, 3)
            os.dup2(high_w, 4)

        arguments = [browser, *BROWSER_FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"]
        self.process = subprocess.Popen(
            arguments, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=child_fds, close_fds=False,
        )  # fmt: skip
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no reply from the browser within {self.timeout_s:g} s")
            ready, _, _ = select.select([self._from_browser], [], [], remaining)
            if ready:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise RuntimeError(f"the browser closed its DevTools pipe (exit code {self.process.poll()})")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        deadline = time.monotonic() + self.timeout_s
        while True:
            message = self._read_message(deadline)
            if message.get("id") == self._next_id:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method} failed: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout_s: float) -> None:
        """Read events until ``method`` arrives (or the timeout passes)."""
        if any(e.get("method") == method for e in self.events):
            return
        deadline = time.monotonic() + timeout_s
        while True:
            message = self._read_message(deadline)
            self.events.append(message)
            if message.get("method") == method:
                return

    def drain(self, seconds: float) -> None:
        """Collect events for ``seconds`` more (late console messages)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                self.events.append(self._read_message(deadline))
        except TimeoutError:
            pass

    def close(self) -> None:
        with contextlib.suppress(RuntimeError, TimeoutError, OSError):
            self.call("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for fd in (self._to_browser, self._from_browser):
            os.close(fd)
        self.profile.cleanup()


def _console_errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            errors.append("console." + params["type"] + ": " + " ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", [])
            ))  # fmt: skip
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            errors.append("exception: " + str(details.get("exception", {}).get("description", details.get("text"))))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            errors.append(f"log ({entry.get('source')}): {entry.get('text')} {entry.get('url', '')}".strip())
    return errors


def check_page(
    path: str | os.PathLike[str],
    screenshot_dir: str | os.PathLike[str] | None = None,
    browser: str | None = None,
    timeout_s: float = 60.0,
    width_px: int = 1280,
) -> PageCheck:
    """Load ``path`` in headless Chromium and report what it saw (see module doc).

    Screenshots (when ``screenshot_dir`` is given): ``<stem>-top.png`` (first 1600 px),
    ``<stem>-summary.png`` (a report's summary tables, which list every claim: everything above its
    ``#claims`` heading) and ``<stem>-full.png`` (the page from the top, at most
    MAX_SCREENSHOT_HEIGHT_PX tall: a report with dozens of claims is longer than that).
    """
    page = Path(path).resolve()
    if not page.is_file():
        raise ValueError(f"check_page: no such file {page}")
    browser = browser or find_browser()
    if browser is None:
        raise FileNotFoundError(f"no Chromium-family browser found (set $CHROMIUM or install one of {BROWSER_NAMES})")
    client = DevToolsPipe(browser, timeout_s)
    try:
        target = client.call("Target.createTarget", url="about:blank")["targetId"]
        session = client.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            client.call(f"{domain}.enable", session)
        client.call("Emulation.setDeviceMetricsOverride", session, width=width_px, height=1600, deviceScaleFactor=1,
                    mobile=False)  # fmt: skip
        client.call("Page.navigate", session, url=page.as_uri())
        client.wait_for("Page.loadEventFired", timeout_s)
        client.drain(0.5)
        title = client.call("Runtime.evaluate", session, expression="document.title")["result"].get("value", "")
        visible = client.call("Runtime.evaluate", session, expression=VISIBLE_CLAIMS_JS)["result"].get("value", "[]")
        check = PageCheck(title=title, visible_claims=json.loads(visible))
        if screenshot_dir is not None:
            folder = Path(screenshot_dir)
            folder.mkdir(parents=True, exist_ok=True)
            top = client.call("Page.captureScreenshot", session, format="png")
            check.screenshots.append(folder / f"{page.stem}-top.png")
            check.screenshots[-1].write_bytes(base64.b64decode(top["data"]))
            summary_px = client.call("Runtime.evaluate", session, expression=SUMMARY_BOTTOM_JS)["result"].get("value")
            if isinstance(summary_px, int | float) and summary_px > 0:
                clip = {
                    "x": 0,
                    "y": 0,
                    "width": width_px,
                    "height": min(MAX_SCREENSHOT_HEIGHT_PX, summary_px),
                    "scale": 1,
                }
                shot = client.call(
                    "Page.captureScreenshot", session, format="png", clip=clip, captureBeyondViewport=True
                )
                check.screenshots.append(folder / f"{page.stem}-summary.png")
                check.screenshots[-1].write_bytes(base64.b64decode(shot["data"]))
            metrics = client.call("Page.getLayoutMetrics", session)
            height = int(min(MAX_SCREENSHOT_HEIGHT_PX, metrics["cssContentSize"]["height"]))
            client.call("Emulation.setDeviceMetricsOverride", session, width=width_px, height=height,
                        deviceScaleFactor=1, mobile=False)  # fmt: skip
            full = client.call("Page.captureScreenshot", session, format="png")
            check.screenshots.append(folder / f"{page.stem}-full.png")
            check.screenshots[-1].write_bytes(base64.b64decode(full["data"]))
        client.drain(0.2)
        check.console_errors = _console_errors(client.events)
        check.requests = [
            e["params"]["request"]["url"] for e in client.events if e.get("method") == "Network.requestWillBeSent"
        ]
        return check
    finally:
        client.close()
