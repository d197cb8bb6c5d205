"""One reading of the CI variable for every test that needs something from outside Python.

Under CI (CI set to anything but "", "0" or "false") a missing browser, kernel or package is
a failure: CI must run every test. Elsewhere the test is skipped, with how to install it.
"""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str, hint: str) -> None:
    """Fail under CI, skip elsewhere; either way, say what is missing and how to get it."""
    message = f"{reason}: {hint}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
