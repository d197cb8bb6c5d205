"""The `lab` command itself: patching comes first, errors are sentences."""

from __future__ import annotations

import subprocess
import sys


def test_building_the_command_line_imports_no_socket_and_no_matplotlib():
    # `lab serve` patches the standard library with gevent after parsing its arguments, so
    # nothing that the parser needs may import socket (or ssl) first; and the server has no
    # use for matplotlib's start-up time and memory.
    probe = (
        "import sys\n"
        "from lab.cli import build_parser\n"
        "build_parser()\n"
        "print(sorted(m for m in ('socket', 'ssl', 'matplotlib') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_bad_settings_are_a_sentence_not_a_traceback():
    result = subprocess.run(
        [sys.executable, "-m", "lab", "serve", "--history", "0"], capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "history must keep at least 1 event" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_run_folder_is_a_sentence(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "lab", "report", str(tmp_path / "nothing")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "there is no run folder" in result.stderr and "Traceback" not in result.stderr


def test_a_setting_the_ticker_refuses_is_a_sentence_at_start_up():
    result = subprocess.run(
        [sys.executable, "-m", "lab", "serve", "--rate", "20000"], capture_output=True, text=True
    )
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "rate must be a number of events per second from 0 to 10000" in result.stderr


def test_a_chat_bench_through_a_proxy_is_refused_with_a_sentence():
    result = subprocess.run(
        [sys.executable, "-m", "lab", "bench", "--chat", "--via", "nginx:passthrough"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "--chat runs on loopback, directly" in result.stderr
    assert "Traceback" not in result.stderr
