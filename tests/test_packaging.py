"""The installed package carries what `lab bench` and the page need, in any install."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_holds_the_scenarios_and_the_page(tmp_path):
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("push_transport_lab-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for transport in ("short_polling", "long_polling", "sse"):
        assert f"lab/scenarios/{transport}.py" in names
    assert {
        "lab/scenarios/client_measurement.py",
        "lab/scenarios/polling_user.py",
        "lab/static/index.html",
        "lab/static/js/main.js",
        "lab/charts/__init__.py",
        "lab/claims/__init__.py",
        "lab/transports/sse.py",
    } <= names
    assert not any(name.startswith("scenarios/") for name in names), "only inside lab/"
