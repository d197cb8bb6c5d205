"""Where a measurement was made: the versions, the machine and the commit, for a run's
manifest. Imported only after gevent's patching (importlib.metadata imports socket)."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path


def versions() -> dict:
    from importlib import metadata  # imports socket (through email): not before patching

    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in ("push-transport-lab", "locust", "gevent", "flask", "matplotlib"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = None
    return found


def machine() -> dict:
    model = platform.processor()
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            model = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                model,
            )
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "system": platform.platform()}


def git_commit() -> str | None:
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
