"""tests/ci.py: one reading of CI for every test that needs an outside program."""

from __future__ import annotations

import pytest
from ci import in_ci


@pytest.mark.parametrize(
    ("value", "ci"),
    [
        (None, False),
        ("", False),
        ("0", False),
        ("false", False),
        ("False", False),
        ("no", False),
        ("1", True),
        ("true", True),
        ("yes", True),
        ("github", True),
    ],
)
def test_ci_is_any_value_but_empty_zero_or_false(monkeypatch, value, ci):
    if value is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", value)
    assert in_ci() is ci
