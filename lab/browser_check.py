"""The browser's connection limit, measured where it lives: in a real browser.

The load generator's clients are not browsers, so they have no six-connections-per-host
limit to show. This check opens the classroom page in headless Chromium, served by `lab
demo` directly (HTTP/1.1) or through `nginx:http2`, presses "Open 7 streams" and counts
how many of the seven the browser opened and how many wait for a connection.

Needs the `playwright` package and a Chromium binary (`apt-get install chromium`);
`find_chromium` says how to get what is missing.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass
from typing import TextIO

from lab.lab_process import LabProcess

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
TRUST_SELF_SIGNED = "--ignore-certificate-errors"
"""The http2 profile's certificate is self-signed, made a moment ago."""
INSTALL_BROWSER = (
    "install Chromium (Debian/Ubuntu: sudo apt-get install chromium) and the Python package "
    "playwright (pip install -e '.[test]'), or set LAB_CHROMIUM to the browser's path"
)
EXTRA_STREAMS = 7
SETTLE_S = 8.0
"""How long the streams get to open: far longer than a connection takes on loopback, so a
stream still waiting then waits for a connection, not for the network."""
STATES_JS = '() => [...document.querySelectorAll("#stream-list li")].map((li) => li.dataset.state)'
PAGE_READY_JS = """() => Number(document.querySelector('#panel-sse [data-c="events"]')
  .dataset.value || 0) >= 1"""


class BrowserMissing(RuntimeError):
    """No Chromium, or no playwright to drive it; the message says how to install them."""


@dataclass(frozen=True)
class StreamsCheck:
    """What the browser did with the page's seven extra streams."""

    via: str
    protocol: str
    """The protocol the browser reports it loaded the page over ("h2", "http/1.1")."""
    opened: int
    waiting: int


def find_chromium() -> str:
    """The Chromium to launch (BrowserMissing, with how to install, when none or no driver)."""
    candidates = [os.environ.get("LAB_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")]
    found = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    if found is None:
        raise BrowserMissing(f"no Chromium was found: {INSTALL_BROWSER}")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise BrowserMissing(f"the playwright package is missing: {INSTALL_BROWSER}") from None
    return found


def check_seven_streams(via: str, chromium: str, timeout_s: float = 30.0) -> StreamsCheck:
    """Serve the page through `via` with `lab demo`, open it, open 7 streams, count them."""
    from playwright.sync_api import sync_playwright

    with (
        LabProcess(
            ["--host", "127.0.0.1", "--port", "0", "--rate", "1", "--via", via], command_name="demo"
        ) as demo,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(
            executable_path=chromium, headless=True, args=[*CHROMIUM_ARGS, TRUST_SELF_SIGNED]
        )
        try:
            # Reading the page's state evaluates scripts, which its content policy forbids.
            context = browser.new_context(bypass_csp=True, ignore_https_errors=True)
            page = context.new_page()
            page.goto(f"{demo.url}/?lang=en", timeout=timeout_s * 1000)
            page.wait_for_function(PAGE_READY_JS, timeout=timeout_s * 1000)
            protocol = page.evaluate(
                "() => performance.getEntriesByType('navigation')[0].nextHopProtocol"
            )
            page.click("#streams-toggle")
            deadline = time.monotonic() + SETTLE_S
            states: list[str] = []
            while time.monotonic() < deadline:
                states = page.evaluate(STATES_JS)
                if states.count("open") == EXTRA_STREAMS:
                    break
                page.wait_for_timeout(200)
        finally:
            browser.close()
    return StreamsCheck(
        via=via,
        protocol=str(protocol),
        opened=states.count("open"),
        waiting=EXTRA_STREAMS - states.count("open"),
    )


def run_checks(vias: tuple[str, ...], out: TextIO) -> list[dict]:
    """The page's seven extra streams in Chromium, through each via (lab.browser_check)."""
    chromium = find_chromium()
    checks = []
    for via in vias:
        print(f"Browser: the page's 7 extra streams through {via} ...", file=out, flush=True)
        try:
            check = asdict(check_seven_streams(via, chromium))
        except Exception as error:  # a failed check must not lose the cells measured
            check = {"via": via, "error": str(error)}
        else:
            print(
                f"  over {check['protocol']}: {check['opened']} of 7 open, "
                f"{check['waiting']} waiting",
                file=out,
                flush=True,
            )
        checks.append(check)
    return checks
