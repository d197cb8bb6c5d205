"""`lab demo --via`: the classroom page through a real nginx, and the 7-streams demo over
HTTP/2 and HTTP/1.1 in real headless Chromium. Real processes, real sockets.

Over HTTP/1.1 Chromium opens at most 6 connections to one server and every open stream
keeps one, so some of the 7 extra streams wait; through `nginx:http2` one connection carries
them all and they all open. Every wait is a condition with a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from ci import unavailable
from helpers import START_TIMEOUT, SSEClient, wait_until

from lab.lab_process import LabProcess

WAIT_MS = 20_000
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
STATES_JS = '() => [...document.querySelectorAll("#stream-list li")].map((li) => li.dataset.state)'
SSE_EVENTS_JS = """() => Number(
  document.querySelector('#panel-sse [data-c="events"]').dataset.value || 0)"""


def needs_nginx() -> None:
    """Fail under CI, skip elsewhere, when nginx (or openssl, for http2) is missing."""
    from lab.proxy.nginx import NginxMissing, find_nginx

    try:
        find_nginx()
    except NginxMissing as error:
        unavailable(str(error), "CI must run the proxy tests")
    if shutil.which("openssl") is None:
        unavailable("openssl was not found on PATH", "CI must run the HTTP/2 tests")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def demo(*args: str) -> Iterator[LabProcess]:
    """`lab demo ARGS` on 127.0.0.1, as a teacher starts it; stopped with SIGTERM after."""
    with LabProcess(
        ["--host", "127.0.0.1", *args], command_name="demo", timeout=START_TIMEOUT
    ) as running:
        yield running


def child_processes(pid: int) -> dict[int, str]:
    """Every process below `pid` (children, their children…): pid -> command name."""
    parents: dict[int, tuple[int, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        parents[int(entry.name)] = (int(stat[stat.rindex(")") + 2 :].split()[1]), name)
    found: dict[int, str] = {}
    frontier = [pid]
    while frontier:
        parent = frontier.pop()
        for child, (ppid, name) in parents.items():
            if ppid == parent and child not in found:
                found[child] = name
                frontier.append(child)
    return found


def lab_metrics(url: str) -> dict:
    return requests.get(f"{url}/metrics", timeout=10).json()


def running(pid: int) -> bool:
    """True while `pid` is a live process (a zombie has ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_demo_through_nginx_serves_the_lab_and_leaves_no_nginx_behind():
    needs_nginx()
    port = free_port()
    with demo("--via", "nginx:passthrough", "--port", str(port), "--rate", "0") as lab:
        # nginx listens where the teacher asked; the lab server somewhere else on loopback.
        assert lab.url == f"http://127.0.0.1:{port}", lab.output
        wait_until(
            lambda: any(f"Classroom page: http://127.0.0.1:{port}/" in li for li in lab.output),
            what="the page's address",
        )
        metrics = requests.get(f"{lab.url}/metrics", timeout=10)
        assert metrics.status_code == 200, metrics.text
        assert metrics.headers["Server"].startswith("nginx"), metrics.headers
        assert set(metrics.json()["transports"]) >= {"short_polling", "long_polling", "sse"}

        def nginx_processes() -> dict[int, str]:
            below = child_processes(lab.process.pid)
            return {pid: name for pid, name in below.items() if name == "nginx"}

        wait_until(nginx_processes, timeout=5, what="the demo's nginx processes")
        nginx = nginx_processes()
        assert len(nginx) >= 2, nginx  # its master and a worker

        # An event reaches an open stream through nginx, as it is published.
        with SSEClient(f"{lab.url}/sse", timeout=10) as stream:
            wait_until(
                lambda: lab_metrics(lab.url)["transports"]["sse"]["open"] == 1,
                timeout=10,
                what="the stream to be open at the server",
            )
            published = requests.post(f"{lab.url}/publish", json={"data": "via"}, timeout=10)
            assert published.status_code == 201, published.text
            assert "via" in stream.next_event().data

        assert lab.stop() == 0, lab.output
    assert any(line.strip() == "stopped" for line in lab.output), lab.output
    wait_until(
        lambda: not any(running(pid) for pid in nginx),
        timeout=10,
        what=f"nginx {sorted(nginx)} to end with the demo",
    )
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_with_a_round_trip_too_the_relay_stands_in_front_of_nginx():
    needs_nginx()
    with demo("--via", "nginx:passthrough", "--rtt", "200", "--port", "0", "--rate", "0") as lab:
        with requests.Session() as session:
            session.get(f"{lab.url}/poll", timeout=10)  # the connection, opened once
            quickest = None
            for _ in range(3):
                answer = session.get(f"{lab.url}/poll", timeout=10)
                assert answer.status_code == 200, answer.text
                assert answer.headers["Server"].startswith("nginx"), answer.headers
                took = answer.elapsed.total_seconds()
                quickest = took if quickest is None else min(quickest, took)
        # Each request and its answer cross the relay once each way: one round trip.
        assert quickest is not None and quickest >= 0.2 * 0.95, quickest
        network = lab_metrics(lab.url)["network"]
        assert network == {"simulated_rtt_ms": 200}, network


def test_an_unknown_via_is_one_sentence():
    result = subprocess.run(
        [sys.executable, "-m", "lab", "demo", "--port", "0", "--via", "nginx:nope"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("lab demo: --via 'nginx:nope' is not one of: direct, "), (
        result.stderr
    )
    assert "nginx:http2" in result.stderr


def test_a_missing_nginx_is_one_sentence_that_says_how_to_install_it(tmp_path):
    # No nginx on PATH, and none in the folders searched outside it.
    script = (
        "import sys, lab.proxy.nginx as nginx; nginx.SEARCHED = ();"
        "from lab.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, "demo", "--port", "0", "--via", "nginx:passthrough"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PATH": str(tmp_path)},
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("lab demo: nginx was not found"), result.stderr
    assert "apt-get install nginx" in result.stderr
    assert result.stdout == "", result.stdout  # no server was started


# ---------- the 7-streams demo in Chromium ----------


@pytest.fixture(scope="module")
def browser_context():
    """Headless Chromium that accepts the http2 profile's self-signed certificate."""
    from browser import CHROMIUM_ARGS, chromium_path
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[*CHROMIUM_ARGS, "--ignore-certificate-errors"],
        )
        try:
            # As conftest's `chromium`: the tests read the page with wait_for_function.
            yield browser.new_context(bypass_csp=True)
        finally:
            browser.close()


def open_page(context, url: str, width: int = 1920, height: int = 1080):
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{url}/?lang=en")
    page.wait_for_function(
        """() => ["short", "long", "sse"].every((panel) => Number(document.querySelector(
          `#panel-${panel} [data-c="events"]`).dataset.value || 0) >= 3)""",
        timeout=WAIT_MS,
    )
    return page


def in_page_metrics(page) -> dict:
    """/metrics fetched by the page itself, over its own connection(s)."""
    return page.evaluate("async () => (await fetch('metrics')).json()")


@pytest.mark.browser
@pytest.mark.slow
def test_over_http2_all_seven_streams_open_and_nothing_waits(browser_context):
    needs_nginx()
    port = free_port()
    with demo("--via", "nginx:http2", "--port", str(port), "--rate", "5") as lab:
        assert lab.url == f"https://127.0.0.1:{port}", lab.output
        wait_until(
            lambda: any("self-signed" in line for line in lab.output),
            what="the note on the self-signed certificate",
        )
        page = open_page(browser_context, lab.url)
        try:
            assert (
                page.evaluate("() => performance.getEntriesByType('navigation')[0].nextHopProtocol")
                == "h2"
            )
            assert page.is_visible("#network")
            assert page.text_content("#network") == "HTTP/2: one connection"

            page.click("#streams-toggle")
            page.wait_for_function(
                f"""() => {{
                  const states = ({STATES_JS})();
                  return states.length === 7 && states.every((s) => s === "open");
                }}""",
                timeout=WAIT_MS,
            )
            # At the server (behind nginx): the page's own stream and the 7 extra ones.
            wait_until(
                lambda: in_page_metrics(page)["transports"]["sse"]["open"] == 8,
                timeout=10,
                what="8 open streams at the server",
            )
            # Nothing waits: the polls go on while all eight streams stay open.
            requests_before = page.evaluate(
                """() => Number(document.querySelector('#panel-short [data-c="requests"]')
                  .dataset.value)"""
            )
            page.wait_for_function(
                """(before) => Number(document.querySelector('#panel-short [data-c="requests"]')
                  .dataset.value) >= before + 3""",
                arg=requests_before,
                timeout=WAIT_MS,
            )
            assert page.evaluate(STATES_JS) == ["open"] * 7
            assert page.query_selector('[data-stalled="true"]') is None

            # The page says what it sees: 7 of 7 open, one HTTP/2 connection, no limit of 6.
            assert page.text_content("#streams-summary") == "7 of 7 open, 0 waiting"
            used = page.text_content("#streams-in-use")
            assert used.startswith("One HTTP/2 connection carries"), used
            assert "7 extra streams" in used and "of 6" not in used, used
            assert page.get_attribute("#streams-in-use", "data-count") == "1"
            assert page.text_content("#streams-waiting") == "Nothing waits for a connection."
            explain = page.text_content("#streams .explain-long")
            assert explain.startswith("This page reached the server over HTTP/2"), explain
            for panel in ("short", "long", "sse"):
                status = page.text_content(f"#panel-{panel} [data-status]")
                assert "free connection" not in status, (panel, status)

            page.click('button[data-lang="ko"]')
            page.wait_for_function(
                """() => document.querySelector("#streams-summary").textContent
                  === "7개 중 7개 열림, 0개 대기" """,
                timeout=WAIT_MS,
            )
            assert page.text_content("#streams-in-use").startswith("HTTP/2 연결 하나가")
            assert "HTTP/2로 서버에 연결" in page.text_content("#streams .explain-long")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "demo-via-http2-7-streams-ko-1920x1080.png"))
            assert page.errors == [], page.errors
        finally:
            page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_over_http11_six_connections_are_in_use_and_the_seventh_stream_waits(browser_context):
    port = free_port()
    with demo("--port", str(port), "--rate", "5") as lab, requests.Session() as session:
        assert lab.url == f"http://127.0.0.1:{port}", lab.output

        def server_side() -> dict:
            return session.get(f"{lab.url}/metrics", timeout=10).json()

        page = open_page(browser_context, lab.url)
        try:
            assert (
                page.evaluate("() => performance.getEntriesByType('navigation')[0].nextHopProtocol")
                == "http/1.1"
            )
            assert page.is_hidden("#network")

            page.click("#streams-toggle")
            page.wait_for_function(
                f"""() => {{
                  const states = ({STATES_JS})();
                  const used = document.querySelector("#streams-in-use").dataset;
                  return states.length === 7 && states[6] === "connecting" && used.count === "6";
                }}""",
                timeout=WAIT_MS,
            )
            # The server sees the browser's 6 connections, the page's WebSocket (outside the
            # 6) and this test's one, no more.
            wait_until(
                lambda: server_side()["connections"]["open"] == 6 + 1 + 1,
                timeout=10,
                what="the browser's 6 connections at the server",
            )
            # Stuck, not slow: the page's own stream goes on receiving; the 7th still waits.
            page.wait_for_function(
                f"(before) => ({SSE_EVENTS_JS})() >= before + 5",
                arg=page.evaluate(SSE_EVENTS_JS),
                timeout=WAIT_MS,
            )
            states = page.evaluate(STATES_JS)
            assert states[6] == "connecting", states
            opened = states.count("open")
            assert 4 <= opened <= 5 and opened + states.count("connecting") == 7, states
            figures = server_side()
            assert figures["connections"]["open"] == 6 + 1 + 1, figures["connections"]
            assert figures["transports"]["sse"]["open"] <= 6, figures["transports"]["sse"]

            summary = page.text_content("#streams-summary")
            assert summary.startswith(f"{opened} of 7 open"), summary
            assert page.text_content("#streams-in-use").endswith("= 6 of 6.")
            explain = page.text_content("#streams .explain-long")
            assert explain.startswith("Chromium opens at most 6 HTTP/1.1 connections"), explain
            assert explain.endswith("this page reached the server over HTTP/1.1."), explain
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "demo-via-direct-7-streams-1920x1080.png"))

            page.click("#streams-close")
            page.wait_for_selector("#streams", state="hidden", timeout=WAIT_MS)
            assert page.errors == [], page.errors
        finally:
            page.close()


@pytest.mark.browser
@pytest.mark.slow
def test_the_bench_s_browser_check_counts_the_seven_streams():
    from browser import chromium_path

    needs_nginx()
    chromium = chromium_path()
    # In a process of its own, as `lab bench` runs it: this module's browser is driven by
    # Playwright already, and one process cannot drive two.
    script = (
        "import json, sys; from dataclasses import asdict;"
        "from lab.browser_check import check_seven_streams;"
        "print(json.dumps([asdict(check_seven_streams(v, sys.argv[1])) for v in sys.argv[2:]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, chromium, "direct", "nginx:http2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    direct, http2 = json.loads(done.stdout)
    assert direct["protocol"] == "http/1.1" and direct["waiting"] > 0, direct
    assert direct["opened"] + direct["waiting"] == 7
    assert http2["protocol"] == "h2" and (http2["opened"], http2["waiting"]) == (7, 0), http2
