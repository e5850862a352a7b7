"""Open a page in headless Chromium over the DevTools protocol: console errors, network requests, a screenshot.

Used by ``tests/test_report_html.py``. Chromium is Debian's ``chromium`` (``.ci/run`` installs it); the protocol
is spoken with ``websocket-client``, so no browser is ever downloaded. Chromium is started with every background
service off (no component updates, no sync, no safe-browsing pings), so any network request seen comes from the
page itself.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass
class PageVisit:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    evaluated: object = None
    screenshot: bytes = b""


class _Session:
    def __init__(self, ws_url: str):
        import websocket  # websocket-client

        self.ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict] = []

    def call(self, method: str, **params) -> dict:
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == my_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method: str, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        for event in self.events:
            if event.get("method") == method:
                return event
        while time.monotonic() < deadline:
            message = json.loads(self.ws.recv())
            self.events.append(message)
            if message.get("method") == method:
                return message
        raise TimeoutError(method)

    def drain(self, seconds: float) -> None:
        """Collect events for a little while longer (late console messages or requests)."""
        self.ws.settimeout(0.2)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.events.append(json.loads(self.ws.recv()))
            except Exception:  # noqa: BLE001 - a receive timeout: nothing more yet
                continue
        self.ws.settimeout(30)


def visit(chromium: str, url: str, expression: str, width: int = 1200, height: int = 900) -> PageVisit:
    """Load ``url``, evaluate ``expression`` (its JSON value is returned), take a full-page screenshot."""
    profile = tempfile.mkdtemp(prefix="curate-chromium-")
    args = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-client-side-phishing-detection",
        "--no-first-run",
        "--no-default-browser-check",
        "--metrics-recording-only",
        f"--user-data-dir={profile}",
        "--remote-debugging-port=0",
        "--remote-allow-origins=*",
        f"--window-size={width},{height}",
        "about:blank",
    ]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and port_file.read_text().strip()):
            if proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {proc.returncode}")
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not open its DevTools port")
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:  # noqa: S310 - local
            targets = json.load(r)
        page = next(t for t in targets if t.get("type") == "page")
        session = _Session(page["webSocketDebuggerUrl"])
        for domain in ("Runtime", "Log", "Network", "Page"):
            session.call(f"{domain}.enable")
        session.events.clear()
        session.call("Page.navigate", url=url)
        session.wait_for("Page.loadEventFired", timeout=60)
        session.drain(1.0)
        result = session.call("Runtime.evaluate", expression=expression, returnByValue=True)
        shot = session.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        session.drain(0.3)
        visit_ = PageVisit(evaluated=result.get("result", {}).get("value"), screenshot=base64.b64decode(shot["data"]))
        for e in session.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                visit_.console_errors.append(
                    " ".join(str(a.get("value", a.get("description"))) for a in params["args"])
                )
            elif method == "Runtime.exceptionThrown":
                visit_.console_errors.append(str(params.get("exceptionDetails", {}).get("text")))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                visit_.console_errors.append(params["entry"].get("text", ""))
            elif method == "Network.requestWillBeSent":
                visit_.requests.append(params["request"]["url"])
        session.ws.close()
        return visit_
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def artifacts_dir() -> Path:
    """Where tests keep what a person may want to look at (gitignored): ``$CURATE_TEST_ARTIFACTS`` or
    ``tests/artifacts``."""
    path = Path(os.environ.get("CURATE_TEST_ARTIFACTS") or Path(__file__).resolve().parent / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path
