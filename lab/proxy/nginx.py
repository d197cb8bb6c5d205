"""A real nginx in front of a lab server, in one of the profiles, started and stopped here.

nginx runs as the current user from a folder of its own: the generated `nginx.conf`, its pid
file, error and access logs and temporary files (`-p` and `-c`, nothing in /etc or /var). It
listens on a free loopback port and forwards to one lab server. `Nginx` is a context manager:
leaving it stops nginx (its streams end at once) and, for a temporary folder, removes it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from lab.proxy import access_log
from lab.proxy.profiles import Profile
from lab.proxy.tls import self_signed_certificate
from lab.started_programs import answers, free_port, stop_process, stop_with_parent

SEARCHED = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")
INSTALL_NGINX = (
    "nginx was not found on PATH or in /usr/sbin; install it (Debian/Ubuntu: "
    "sudo apt-get install nginx-light) and try again"
)
START_TIMEOUT_S = 10.0
MAX_CONNECTIONS = 16_384
"""Connections nginx may hold: each client uses two (its own and one to the lab server)."""


class NginxMissing(RuntimeError):
    """No nginx binary was found; the message says how to install one."""


class NginxDidNotStart(RuntimeError):
    """nginx exited or did not answer in time; the message quotes its error log."""


def find_nginx() -> str:
    """The nginx binary: on PATH, or in the usual sbin folders (not on a user's PATH)."""
    found = shutil.which("nginx") or next((p for p in SEARCHED if os.access(p, os.X_OK)), None)
    if found is None:
        raise NginxMissing(INSTALL_NGINX)
    return found


def user_line() -> str:
    """As root, nginx's workers would switch to `nobody` and lose access to the folder."""
    if os.geteuid() != 0:
        return ""
    import grp
    import pwd

    return f"user {pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name};\n"


def render_config(
    profile: Profile,
    folder: Path,
    listen: tuple[str, int],
    upstream: tuple[str, int],
    certificate: tuple[Path, Path] | None = None,
    max_connections: int = MAX_CONNECTIONS,
) -> str:
    """The whole nginx.conf for `profile`, forwarding `listen` to the lab server `upstream`."""
    host, port = listen
    if ":" in host:  # an IPv6 address is written in brackets
        host = f"[{host}]"
    tls = ""
    listen_options = ""
    if profile.http2:
        if certificate is None:
            raise ValueError("the http2 profile needs a certificate")
        listen_options = " ssl http2"
        tls = (
            f"        ssl_certificate {certificate[0]};\n"
            f"        ssl_certificate_key {certificate[1]};\n"
        )
    temp_paths = "".join(
        f"    {kind}_temp_path {folder / 'temp' / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    location = "".join(f"        {line}\n" for line in profile.location_block().splitlines())
    return (
        f"# The lab's nginx, profile '{profile.name}': {profile.shows}.\n"
        f"{user_line()}"
        "worker_processes 1;\n"
        "daemon off;\n"
        f"pid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        f"worker_rlimit_nofile {max_connections + 1024};\n"
        f"events {{\n    worker_connections {max_connections};\n}}\n"
        "http {\n"
        f"    log_format lab '{access_log.FORMAT}';\n"
        f"    access_log {folder / 'access.log'} lab;\n"
        f"{temp_paths}"
        "    upstream lab {\n"
        f"        server {upstream[0]}:{upstream[1]};\n"
        "        keepalive 64;\n"
        "    }\n"
        "    server {\n"
        f"        listen {host}:{port}{listen_options};\n"
        f"{tls}"
        f"{location}"
        f"{WEBSOCKET_LOCATION}"
        "    }\n"
        "}\n"
    )


WEBSOCKET_LOCATION = (
    # A WebSocket passes through any profile: nginx forwards an upgrade only when told to
    # pass the hop-by-hop Upgrade and Connection headers on, over HTTP/1.1.
    "        location = /ws {\n"
    "            proxy_pass http://lab;\n"
    "            proxy_http_version 1.1;\n"
    "            proxy_set_header Host $http_host;\n"
    "            proxy_set_header Upgrade $http_upgrade;\n"
    '            proxy_set_header Connection "upgrade";\n'
    "            proxy_read_timeout 1h;\n"
    "        }\n"
)


class Nginx:
    """nginx in `profile`, in front of the lab server at `upstream_url`, started.

    `folder` keeps the config and logs (a sweep's cell keeps them); without it a temporary
    folder is used and removed on stop. `port` 0 picks a free one.
    """

    def __init__(
        self,
        profile: Profile,
        upstream_url: str,
        *,
        folder: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.profile = profile
        self.binary = find_nginx()
        self._temporary = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="lab-nginx-")) if folder is None else folder
        self.folder.mkdir(parents=True, exist_ok=True)
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (self.folder / "temp" / kind).mkdir(parents=True, exist_ok=True)
        upstream = urlsplit(upstream_url)
        self.upstream = (upstream.hostname or "127.0.0.1", upstream.port or 80)
        self.process: subprocess.Popen | None = None
        try:
            certificate = self_signed_certificate(self.folder) if profile.http2 else None
            # A free port can be taken between choosing it and nginx binding it: try again.
            for attempt in range(3):
                self.port = port or free_port(host)
                self.host = host
                (self.folder / "nginx.conf").write_text(
                    render_config(
                        profile,
                        self.folder,
                        (host, self.port),
                        self.upstream,
                        certificate,
                        max_connections,
                    )
                )
                if self._start():
                    break
                if port or attempt == 2:
                    raise NginxDidNotStart(
                        f"nginx cannot listen on {host}:{self.port}: the address is in use"
                    )
        except BaseException:
            self.stop()
            raise

    @property
    def url(self) -> str:
        scheme = "https" if self.profile.http2 else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _start(self) -> bool:
        """Start nginx; True once it answers, False if its port was taken."""
        (self.folder / "error.log").write_text("")
        pid_file = self.folder / "nginx.pid"
        pid_file.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "-p", str(self.folder),
                "-c", str(self.folder / "nginx.conf"),
                "-e", str(self.folder / "error.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=stop_with_parent,
        )  # fmt: skip
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = (
                    self.process.stderr.read() if self.process.stderr else ""
                ) + self.error_log()
                if "Address already in use" in said:
                    return False
                raise NginxDidNotStart(
                    f"nginx exited with code {self.process.returncode} at start "
                    f"(profile {self.profile.name}); it said: {said.strip()[-1500:]}"
                )
            # Something else may answer on a port nginx failed to take; nginx writes its pid
            # file only once it holds its listening socket.
            started = pid_file.exists() and self.process.poll() is None
            if started and answers((self.host, self.port)):
                return True
            time.sleep(0.05)
        self.stop()
        raise NginxDidNotStart(
            f"nginx did not answer on {self.host}:{self.port} within {START_TIMEOUT_S:g} s; "
            f"its error log says: {self.error_log().strip()[-1500:]}"
        )

    def stop(self) -> None:
        """Stop nginx at once (SIGTERM: open streams are closed, not waited for)."""
        stop_process(self.process)
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()
        if self._temporary:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Nginx:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
