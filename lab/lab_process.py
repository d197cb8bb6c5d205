"""The lab server as a separate process, started as a user starts it: `python -m lab serve`.

The sweep starts one per cell, and the tests one per fixture. The server prints its address
as its first line ("listening on http://127.0.0.1:PORT/"); this module is the one place
that reads it.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

LISTENING = "listening on "
START_TIMEOUT_S = 15.0


def fetch_metrics(url: str, timeout: float = 30) -> dict:
    """A running server's /metrics snapshot."""
    import json
    import urllib.request  # not at the top: `lab serve` builds its parser before patching

    with urllib.request.urlopen(url + "/metrics", timeout=timeout) as response:
        return json.load(response)


class ServerDidNotStart(RuntimeError):
    """The lab server exited, or did not say where it listens, in time."""


class LabProcess:
    """A running `lab serve`: its URL, its process, and every line it has printed."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        log: Path | None = None,
        cwd: str | Path | None = None,
        pythonpath: str | None = None,
        preexec_fn: Callable[[], None] | None = None,
        timeout: float = START_TIMEOUT_S,
        command_name: str = "serve",
    ) -> None:
        command = [sys.executable, "-m", "lab", command_name, *args]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if pythonpath is not None:
            env["PYTHONPATH"] = pythonpath
        self.output: list[str] = []
        self._log: IO[str] | None = open(log, "w") if log is not None else None  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=cwd,
            preexec_fn=preexec_fn,
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._pump_thread = threading.Thread(target=self._pump, daemon=True)
        self._pump_thread.start()
        try:
            self.url = self._wait_for_address(timeout)
        except BaseException:
            self.stop()
            raise

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.append(line)
            if self._log is not None:
                self._log.write(line)
                self._log.flush()
            self._lines.put(line)
        if self._log is not None:
            self._log.close()
        self._lines.put(None)

    def _wait_for_address(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise ServerDidNotStart(
                    f"the lab server did not say where it listens within {timeout:g} s; "
                    f"it printed: {''.join(self.output)[-2000:]!r}"
                ) from None
            if line is None:
                raise ServerDidNotStart(
                    f"the lab server exited with code {self.process.wait()} before listening; "
                    f"it printed: {''.join(self.output)[-2000:]}"
                )
            if line.startswith(LISTENING):
                return line.removeprefix(LISTENING).strip().rstrip("/")

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def stop(self, timeout: float = 10.0) -> int:
        """Ask the server to stop (SIGTERM: it ends its streams first) and make sure it did."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._pump_thread.join(timeout=5)  # the last lines, and the log closed
        return self.process.returncode

    def __enter__(self) -> LabProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
