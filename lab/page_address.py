"""Where people reach the server: the page's address, and the teacher's with the token."""

from __future__ import annotations

import socket
from typing import TextIO

from lab.settings import Settings


def local_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback (Linux; [] where unknown).

    Read from the network interfaces themselves: nothing is sent anywhere.
    """
    try:
        import fcntl
        import struct
    except ImportError:
        return []
    found = []
    get_address = 0x8915  # SIOCGIFADDR
    for _, name in socket.if_nameindex():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                packed = fcntl.ioctl(
                    probe.fileno(), get_address, struct.pack("256s", name[:15].encode())
                )
            except OSError:
                continue
        address = socket.inet_ntoa(packed[20:24])
        if not address.startswith("127."):
            found.append(address)
    return found


def page_urls(settings: Settings, port: int, scheme: str = "http") -> tuple[str, str | None]:
    """The address to open, and the teacher's address with the token (None on loopback).

    Bound to every address, the server names itself by an address of this machine, which
    students' laptops can reach more often than its host name.
    """
    host = settings.host
    if host in ("0.0.0.0", "::", ""):
        host = next(iter(local_addresses()), None) or socket.gethostname()
    if ":" in host:
        host = f"[{host}]"
    url = f"{scheme}://{host}:{port}/"
    # The token rides in the fragment, which a browser never sends: it reaches no server
    # log and no Referer header. The page reads it from there and sends it as a header.
    return url, None if settings.on_loopback else f"{url}#token={settings.token}"


def print_addresses(url: str, teacher_url: str | None, out: TextIO) -> None:
    """Off loopback: the students' address and the teacher's, with the token."""
    if teacher_url:
        print(
            f"Reachable from the network. Students open {url} (read-only).\n"
            f"Teacher (controls enabled): {teacher_url}",
            file=out,
            flush=True,
        )
