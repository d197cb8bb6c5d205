"""A private redis-server for one lab server's workers, started and stopped here.

It runs from a temporary folder of its own (its config and log; nothing is saved to disk,
so it leaves nothing behind), listens on a free loopback port, and ends with the process
that started it. `RedisServer` is a context manager: leaving it stops the server and
removes the folder.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from lab.started_programs import answers, free_port, stop_process, stop_with_parent

INSTALL_REDIS = (
    "redis-server was not found on PATH; install it (Debian/Ubuntu: sudo apt-get install "
    "redis-server), or name one that runs already with --broker redis://HOST:PORT/0"
)
START_TIMEOUT_S = 10.0


class RedisMissing(RuntimeError):
    """No redis-server binary was found; the message says how to install one."""


class RedisDidNotStart(RuntimeError):
    """redis-server exited or did not answer in time; the message quotes its log."""


def find_redis_server() -> str:
    found = shutil.which("redis-server") or shutil.which("redis-server", path="/usr/sbin:/sbin")
    if found is None:
        raise RedisMissing(INSTALL_REDIS)
    return found


def render_config(folder: Path, port: int) -> str:
    """The whole redis.conf: loopback only, in memory only (a lab's events are not worth a
    disk write), and its log in `folder`."""
    return (
        "bind 127.0.0.1\n"
        f"port {port}\n"
        "protected-mode yes\n"
        f"dir {folder}\n"
        f"logfile {folder / 'redis.log'}\n"
        'save ""\n'
        "appendonly no\n"
        "daemonize no\n"
        # Every worker holds a few connections; a classroom's server has a handful of workers.
        "maxclients 1000\n"
    )


class RedisServer:
    """A started redis-server on a free loopback port: `url` names it for `--broker`."""

    def __init__(self) -> None:
        self.binary = find_redis_server()
        self.folder = Path(tempfile.mkdtemp(prefix="lab-redis-"))
        self.process: subprocess.Popen | None = None
        self.port = 0
        try:
            for _attempt in range(3):  # a free port can be taken before redis binds it
                self.port = free_port()
                if self._start():
                    return
            raise RedisDidNotStart(f"redis-server found no free port: {self.log()[-500:]}")
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def log(self) -> str:
        path = self.folder / "redis.log"
        return path.read_text(errors="replace").strip() if path.exists() else ""

    def _start(self) -> bool:
        """Start redis-server; True once it answers, False if its port was taken."""
        config = self.folder / "redis.conf"
        config.write_text(render_config(self.folder, self.port))
        self.process = subprocess.Popen(
            [self.binary, str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=stop_with_parent,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if "Address already in use" in self.log():
                    return False
                raise RedisDidNotStart(
                    f"redis-server exited with code {self.process.returncode} at start; its "
                    f"log says: {self.log()[-1500:]}"
                )
            if answers(("127.0.0.1", self.port)):
                return True
            time.sleep(0.02)
        raise RedisDidNotStart(
            f"redis-server did not answer on 127.0.0.1:{self.port} within "
            f"{START_TIMEOUT_S:g} s; its log says: {self.log()[-1500:]}"
        )

    def restart_empty(self) -> None:
        """Stop it and start it again on the same port with nothing in it, as a Redis
        restarted without its data comes back."""
        stop_process(self.process)
        if not self._start():
            raise RedisDidNotStart(f"port {self.port} was taken while redis-server restarted")

    def stop(self) -> None:
        stop_process(self.process)
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
