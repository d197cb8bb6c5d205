"""A self-signed certificate for 127.0.0.1, made with the real `openssl` program.

Browsers speak HTTP/2 only over TLS, so the `http2` profile needs a certificate. It is made
at start, valid for two days, for 127.0.0.1 and localhost; a browser asks once whether to
trust it (Chromium's --ignore-certificate-errors skips the question in tests).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

INSTALL_OPENSSL = (
    "the http2 profile needs the openssl program to make its certificate, and it was not "
    "found on PATH; install it (Debian/Ubuntu: sudo apt-get install openssl) and try again"
)


class CertificateFailed(RuntimeError):
    """openssl is missing or could not make the certificate; the message says which."""


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Write `certificate.pem` and `key.pem` into `folder`; return their paths."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise CertificateFailed(INSTALL_OPENSSL)
    certificate, key = folder / "certificate.pem", folder / "key.pem"
    command = [
        openssl, "req", "-x509", "-nodes", "-days", "2",
        "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-keyout", str(key), "-out", str(certificate),
        "-subj", "/CN=127.0.0.1",
        "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
    ]  # fmt: skip
    made = subprocess.run(command, capture_output=True, text=True, timeout=30)
    if made.returncode != 0:
        raise CertificateFailed(
            f"openssl could not make a self-signed certificate: {made.stderr.strip()[-500:]}"
        )
    return certificate, key
