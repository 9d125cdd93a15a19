"""Open a page in headless Chromium with the network off: the page's self-check (image load status and script
errors, written into the DOM by the report's inline script), the browser's console lines, and a screenshot.

Used by the browser test and to make the README's picture of a report.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL_HINT = ("headless Chromium not found (Debian/Ubuntu: `apt-get install -y --no-install-recommends chromium` "
                "as root; .ci/run does it; or set PYDISENT_CHROMIUM to a Chrome/Chromium binary)")


def find_browser() -> str | None:
    env = os.environ.get("PYDISENT_CHROMIUM")
    if env:
        return env if shutil.which(env) or Path(env).is_file() else None
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


# every request outside the machine fails: no proxy answers on port 9, and no host name resolves
_OFFLINE = ("--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>", "--host-resolver-rules=MAP * ~NOTFOUND")
_COMMON = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
           "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars", "--virtual-time-budget=10000")
_CHECK = re.compile(r'<pre id="pydisent-check">(.*?)</pre>', re.S)
_CONSOLE = re.compile(r":CONSOLE[:(]")


def _run(browser: str, args: list[str], timeout: float) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="pydisent-chromium-") as profile:
        cmd = [browser, *_COMMON, *_OFFLINE, f"--user-data-dir={profile}", *args]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def check_page(path, *, screenshot=None, width: int = 1200, height: int = 3000, timeout: float = 120) -> dict:
    """``{"check": {...} | None, "console": [lines], "screenshot": path | None}`` for the page at ``path``.

    ``check`` is the JSON the page's inline script writes into ``<pre id="pydisent-check">`` on load
    (``images``, ``loaded``, ``failed``, ``errors``); ``console`` holds every console message Chromium logged
    (``--enable-logging=stderr``: script errors, ``console.*`` calls)."""
    browser = find_browser()
    if browser is None:
        raise FileNotFoundError(INSTALL_HINT)
    url = Path(path).resolve().as_uri()
    dom = _run(browser, ["--enable-logging=stderr", "--v=0", "--dump-dom", url], timeout)
    m = _CHECK.search(dom.stdout)
    check = None
    if m and m.group(1).strip():
        import html

        check = json.loads(html.unescape(m.group(1)))
    console = [line for line in dom.stderr.splitlines() if _CONSOLE.search(line)]
    shot = None
    if screenshot is not None:
        shot = Path(screenshot).resolve()
        _run(browser, [f"--window-size={width},{height}", f"--screenshot={shot}", url], timeout)
        shot = shot if shot.is_file() else None
    return {"check": check, "console": console, "screenshot": shot, "returncode": dom.returncode}
