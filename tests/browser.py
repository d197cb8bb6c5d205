"""Headless Chromium for browser tests: the system package, driven by Playwright.

Playwright cannot download its own browsers here, so it launches the Debian `chromium`
binary. Under CI (tests/ci.py) a missing browser fails the test; elsewhere the test is skipped
with a note on how to install it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from ci import unavailable

from lab.browser_check import CHROMIUM_ARGS as LAB_CHROMIUM_ARGS
from lab.browser_check import CHROMIUM_CANDIDATES, INSTALL_BROWSER

CHROMIUM_ARGS = list(LAB_CHROMIUM_ARGS)
INSTALL_HINT = INSTALL_BROWSER


def chromium_path() -> str:
    """The browser to launch; fails in CI and skips elsewhere when there is none."""
    candidates = [os.environ.get("LAB_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")]
    found = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    problem = None
    if found is None:
        problem = f"no Chromium found: {INSTALL_HINT}"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            problem = f"the playwright package is missing: {INSTALL_HINT}"
    if problem:
        unavailable(problem, "CI must run the browser tests")
    return found


@contextmanager
def launched_chromium() -> Iterator[object]:
    """A fresh headless Chromium context (playwright.sync_api.BrowserContext).

    The page's Content-Security-Policy forbids evaluating strings as code, which Playwright's
    `wait_for_function` does; tests that inspect the page that way use this context, where
    the policy is bypassed. `strict_context(context)` opens one that enforces it.
    """
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(bypass_csp=True)
            yield context
        finally:
            browser.close()


def strict_context(context):
    """Another context of the same browser, which enforces the page's security policy."""
    return context.browser.new_context(bypass_csp=False)
