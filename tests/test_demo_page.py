"""The classroom page at `/`, driven in real headless Chromium against a real server.

Every wait is a condition with a deadline; rates are compared as loose ratios, never timed.
Screenshots at projector and laptop sizes are saved under test-artifacts/ for people to look at.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from helpers import START_TIMEOUT, run_server, stop_process, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANELS = ("short", "long", "sse", "ws")
WAIT_MS = 20_000
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"

# Reading the page as a person would: what its counters and lists show.
COUNTERS_JS = """(panel) => Object.fromEntries(
  [...document.querySelectorAll(`#panel-${panel} [data-c]`)]
    .filter((cell) => cell.dataset.value !== undefined)
    .map((cell) => [cell.dataset.c, Number(cell.dataset.value)]))"""
IDS_JS = """(panel) => [...document.querySelectorAll(`#panel-${panel} [data-events] li[data-id]`)]
  .map((row) => Number(row.dataset.id))"""
IDS_SINCE_RESTART_JS = """(panel) => {
  const ids = [];
  for (const row of document.querySelectorAll(`#panel-${panel} [data-events] li`)) {
    if (row.dataset.notice === "restart") break;
    if (row.dataset.id) ids.push(Number(row.dataset.id));
  }
  return ids;
}"""
EVENTS_AT_LEAST_JS = """(minimum) => ["short", "long", "sse", "ws"].every((panel) => {
  const cell = document.querySelector(`#panel-${panel} [data-c="events"]`);
  return Number(cell.dataset.value || 0) >= minimum[panel];
})"""
# Records every text each panel's status line shows, so short-lived states can be checked.
STATUS_LOG_JS = """() => {
  window.statusLog = { short: [], long: [], sse: [], ws: [] };
  for (const panel of ["short", "long", "sse", "ws"]) {
    const status = document.querySelector(`#panel-${panel} [data-status]`);
    new MutationObserver(() => window.statusLog[panel].push(status.textContent))
      .observe(status, { childList: true, characterData: true, subtree: true });
  }
}"""


@pytest.fixture(scope="module")
def lab():
    """A server ticking 5 events a second, with a short SSE reconnection delay."""
    with run_server("--rate", "5", "--retry-ms", "500", "--heartbeat", "2") as running:
        yield running


def open_page(chromium, url: str, width: int = 1920, height: int = 1080):
    page = chromium.new_page()
    page.set_viewport_size({"width": width, "height": height})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    # English whatever an earlier page chose (the language is remembered in the profile).
    address, hash_mark, fragment = url.partition("#")
    page.goto(address + ("&" if "?" in address else "?") + "lang=en" + hash_mark + fragment)
    return page


@pytest.fixture
def page(chromium, lab):
    """The page, live: every panel has received a few events."""
    page = open_page(chromium, lab.url + "/")
    try:
        wait_for_events(page, 3)
        yield page
        assert page.errors == [], page.errors
    finally:
        page.close()


def counters(page, panel: str) -> dict[str, int]:
    return page.evaluate(COUNTERS_JS, panel)


def events_received(page) -> dict[str, int]:
    return {panel: counters(page, panel)["events"] for panel in PANELS}


def wait_for_events(page, more_than: int | dict[str, int], extra: int = 0) -> None:
    """Wait until every panel has received `more_than` (+ `extra`) events."""
    if isinstance(more_than, int):
        minimum = dict.fromkeys(PANELS, more_than + extra)
    else:
        minimum = {panel: more_than[panel] + extra for panel in PANELS}
    page.wait_for_function(EVENTS_AT_LEAST_JS, arg=minimum, timeout=WAIT_MS)


def assert_continuous(page) -> None:
    """No panel lost or repeated an id."""
    for panel in PANELS:
        shown = counters(page, panel)
        assert shown["lost"] == 0, (panel, shown)
        assert shown["repeated"] == 0, (panel, shown)


def notices(page, panel: str, kind: str) -> list[str]:
    return page.eval_on_selector_all(
        f'#panel-{panel} [data-events] li[data-notice="{kind}"]',
        "(rows) => rows.map((row) => row.textContent)",
    )


def test_four_panels_receive_the_same_ids(page):
    wait_for_events(page, 15)
    ids = {panel: page.evaluate(IDS_JS, panel) for panel in PANELS}
    for panel, shown in ids.items():
        assert shown == sorted(shown, reverse=True), f"{panel} is not newest-first: {shown}"
        assert len(shown) <= 50
    # The panels started a moment apart and short polling lags by up to an interval: compare
    # the ids that all four lists cover (the WebSocket's are the SSE stream's, one by one).
    low = max(min(shown) for shown in ids.values())
    high = min(max(shown) for shown in ids.values())
    assert high - low >= 5, ids
    for panel, shown in ids.items():
        assert [i for i in shown if low <= i <= high] == list(range(high, low - 1, -1)), panel
    assert_continuous(page)


def message_everywhere(page, text: str) -> None:
    page.wait_for_function(
        """(text) => ["short", "long", "sse", "ws"].every((panel) =>
          [...document.querySelectorAll(`#panel-${panel} [data-events] li[data-id]`)]
            .some((row) => row.textContent.includes(text)))""",
        arg=text,
        timeout=WAIT_MS,
    )


def test_a_published_message_reaches_all_four_panels(page):
    text = "안녕하세요, class 42"
    page.fill("#message", text)
    page.press("#message", "Enter")
    message_everywhere(page, text)
    result = page.text_content("#control-result")
    assert result.startswith("Published as id ")
    published_id = int(result.removeprefix("Published as id ").rstrip("."))
    for panel in PANELS:
        row = page.text_content(f'#panel-{panel} [data-events] li[data-id="{published_id}"]')
        assert text in row, (panel, row)
    assert page.input_value("#message") == ""

    # The second direction: one frame in over the WebSocket panel's socket, no request.
    page.select_option("#publish-via", "ws")
    text = "over the socket, 소켓"
    page.fill("#message", text)
    page.press("#message", "Enter")
    message_everywhere(page, text)
    frame = len(json.dumps({"data": text}, ensure_ascii=False, separators=(",", ":")).encode())
    # A browser's frame: 2 bytes of header and a 4-byte mask key under 126 bytes.
    assert page.text_content("#control-result") == (
        f"Sent as one WebSocket frame ({frame + 6} B with its header and mask): "
        "the server publishes it to every panel."
    )
    sent = notices(page, "ws", "sent")
    assert sent and sent[0] == f"→ sent one frame: {frame} B of JSON + 6 B of header and mask"
    assert page.input_value("#message") == ""
    assert_continuous(page)


def test_dropping_all_connections_loses_and_repeats_nothing(page, lab):
    page.evaluate(STATUS_LOG_JS)
    # With the ticker paused, the page's long poll is certainly held when the drop comes.
    page.click("#pause")
    wait_until(lambda: lab.get("/source").json()["paused"], what="the ticker to pause")
    page.wait_for_selector('#pause[data-i18n="ctl.resume"]', timeout=WAIT_MS)
    wait_until(
        lambda: all(lab.counters(t)["open"] >= 1 for t in ("long_polling", "sse", "websocket")),
        what="a held long poll, an open stream and an open socket",
    )
    before = events_received(page)
    sockets_before = lab.counters("websocket")["requests"]
    ws_requests_before = page.evaluate("window.lab.panels.ws.counters.requests")

    page.click("#drop")
    page.wait_for_function(
        "document.querySelector('#control-result').textContent.startsWith('The server dropped')",
        timeout=WAIT_MS,
    )
    # Published while the panels reconnect (the WebSocket's waits about a second): each
    # must get it by resuming after its last id.
    missed = lab.publish("published during the reconnection")["id"]
    # The browser reconnects the stream by itself, sending Last-Event-ID; the page's own
    # code reconnects the socket, sending ?last_event_id=&epoch=.
    page.wait_for_function(
        """() => ["sse", "ws"].every((panel) =>
          Number(document.querySelector(`#panel-${panel}`).dataset.resumes) >= 1)""",
        timeout=WAIT_MS,
    )
    # One new upgrade request for the one reconnection, at the server and on the page.
    wait_until(
        lambda: lab.counters("websocket")["requests"] == sockets_before + 1,
        what="the socket's one reconnection at the server",
    )
    assert page.evaluate("window.lab.panels.ws.counters.requests") == ws_requests_before + 1
    page.wait_for_selector(f'#panel-ws li[data-id="{missed}"]', timeout=WAIT_MS)
    # The long poll was answered 503 and asked again at once; news ends its wait.
    page.click("#pause")
    wait_until(lambda: not lab.get("/source").json()["paused"], what="the ticker to resume")
    page.wait_for_function(
        "Number(document.querySelector('#panel-long').dataset.resumes) >= 1", timeout=WAIT_MS
    )
    wait_for_events(page, before, extra=10)

    log = page.evaluate("window.statusLog")
    assert any("reconnecting…" in text for text in log["sse"]), log["sse"]
    for panel in ("long", "ws"):
        assert any("dropped by the server: reconnecting…" in text for text in log[panel]), log
    # Unlike EventSource, a WebSocket says why it closed.
    closed = notices(page, "ws", "gap")
    assert (
        closed[0] == "the server closed the socket: code 1012, “dropped by the server (POST /drop)”"
    )
    assert lab.counters("websocket")["requests"] == sockets_before + 1, "reconnected twice"
    for panel in ("long", "sse", "ws"):
        resumed = notices(page, panel, "resumed")
        assert resumed and resumed[0].startswith("reconnected: resumed from id "), resumed
        assert any(text.startswith("resumed from id ") for text in log[panel]), log[panel]
    assert notices(page, "short", "gap"), "short polling should say it had nothing to drop"
    assert_continuous(page)


def test_the_short_polling_rate_follows_the_interval(page):
    def seconds_per_request(requests: int) -> float:
        """Time for the page's own request counter to advance by `requests` polls."""
        handle = page.wait_for_function(
            """([start, t0, requests]) => {
              const made = Number(document.querySelector('#panel-short [data-c="requests"]')
                .dataset.value);
              return made >= start + requests ? (performance.now() - t0) / 1000 : false;
            }""",
            arg=[counters(page, "short")["requests"], page.evaluate("performance.now()"), requests],
            timeout=WAIT_MS,
        )
        return handle.json_value() / requests

    slow = seconds_per_request(3)  # the default interval, 1 s
    page.select_option("#interval", "250")
    page.wait_for_function(
        "document.querySelector('#panel-short [data-status]').textContent.includes('every 0.25 s')",
        timeout=WAIT_MS,
    )
    fast = seconds_per_request(12)
    # 4 times as many requests in theory; a loaded machine makes the fast polls slower.
    assert slow / fast > 2, (slow, fast)
    page.select_option("#interval", "2000")
    slowest = seconds_per_request(2)
    assert slowest / fast > 3, (slowest, fast)
    assert_continuous(page)


def test_the_language_switches_to_korean_and_back(page):
    page.click('button[data-lang="ko"]')
    page.wait_for_function("document.documentElement.lang === 'ko'", timeout=WAIT_MS)
    assert page.text_content("#h-short span") == "숏 폴링"
    assert page.text_content("#h-long span") == "롱 폴링"
    assert page.text_content('#panel-sse dt[data-i18n="c.lost"]') == "빠진 id"
    assert page.text_content("#drop") == "모든 연결 끊기"
    # The WebSocket panel, its cell in the strip and its way to publish.
    assert page.text_content("#h-ws span") == "웹소켓"
    assert page.text_content('.strip [data-transport="websocket"] b') == "웹소켓"
    assert page.text_content('#panel-ws dt[data-i18n="c.repeated"]') == "중복된 id"
    assert page.text_content('#publish-via option[value="ws"]') == "웹소켓으로"
    assert page.text_content("#panel-ws .explain").startswith("요청 하나로 연결을 업그레이드")
    # Text the script wrote (the status lines, the theory) is translated too.
    page.wait_for_function(
        """() => document.querySelector('#panel-short [data-status]').textContent
          .startsWith('수신 중') && document.querySelector('#panel-ws [data-status]')
          .textContent === '수신 중: 소켓 하나가 열려 있음'""",
        timeout=WAIT_MS,
    )
    assert page.text_content("#panel-ws [data-theory]").startswith(
        "이론: 업그레이드 요청 한 번 뒤로는 이벤트마다 프레임 하나"
    )
    page.click('button[data-lang="en"]')
    page.wait_for_function("document.documentElement.lang === 'en'", timeout=WAIT_MS)
    assert page.text_content("#h-short span") == "Short polling"
    assert page.text_content("#panel-ws [data-status]") == "live: one socket open"


def test_seven_extra_streams_hit_the_browsers_connection_limit(page):
    page.click("#streams-toggle")
    states = '[...document.querySelectorAll("#stream-list li")].map((li) => li.dataset.state)'
    # This page holds 2 of Chromium's 6 connections per host: 4 streams open, the rest wait.
    page.wait_for_function(
        f"""() => {{
          const states = {states};
          const open = states.filter((s) => s === "open").length;
          return states.length === 7 && open >= 4 && states.includes("connecting");
        }}""",
        timeout=WAIT_MS,
    )
    # Stuck, not slow: the page's own stream goes on receiving while a stream still waits,
    # and so does its WebSocket, which is not one of the 6 (4 streams opened, not 3).
    page.wait_for_function(
        """(before) => ["sse", "ws"].every((panel) => Number(document.querySelector(
          `#panel-${panel} [data-c="events"]`).dataset.value) >= before[panel] + 5)""",
        arg={panel: counters(page, panel)["events"] for panel in ("sse", "ws")},
        timeout=WAIT_MS,
    )
    assert "connecting" in page.evaluate(f"() => {states}")
    assert page.get_attribute("#panel-ws", "data-stalled") == "false"
    assert page.get_attribute("#panel-ws [data-status]", "data-state") == "live"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-page-7-streams-1920x1080.png"))

    page.click("#streams-close")
    page.wait_for_selector("#streams", state="hidden", timeout=WAIT_MS)
    assert page.evaluate(f"() => {states}") == []
    # The connections are free again: the polls flow.
    requests = counters(page, "short")["requests"]
    page.wait_for_function(
        """(before) => Number(document.querySelector('#panel-short [data-c="requests"]')
          .dataset.value) >= before + 3""",
        arg=requests,
        timeout=WAIT_MS,
    )
    wait_for_events(page, events_received(page), extra=5)
    assert_continuous(page)


def test_the_panels_survive_a_server_restart(chromium):
    with run_server("--rate", "20", "--retry-ms", "500") as first:
        port = urlsplit(first.url).port
        page = open_page(chromium, first.url + "/")
        try:
            # Far enough that every cursor is ahead of the new server's ids when it answers.
            page.wait_for_function(
                """() => ["short", "long", "sse", "ws"].every(
                  (panel) => window.lab.panels[panel].lastId >= 60)""",
                timeout=WAIT_MS,
            )
        except BaseException:
            page.close()
            raise
    try:
        with run_server("--port", str(port), "--rate", "5", "--retry-ms", "500") as second:
            assert urlsplit(second.url).port == port
            before = events_received(page)
            page.wait_for_function(
                """() => ["short", "long", "sse", "ws"].every((panel) =>
                  Number(document.querySelector(`#panel-${panel}`).dataset.restarts) >= 1 &&
                  document.querySelector(`#panel-${panel} [data-status]`).dataset.state
                    === "restarted")""",
                timeout=WAIT_MS,
            )
            wait_for_events(page, before, extra=5)
            for panel in PANELS:
                restart = notices(page, panel, "restart")
                assert restart, f"{panel} does not say the server restarted"
                status = page.text_content(f"#panel-{panel} [data-status]")
                assert status.startswith("the server restarted: live again from id "), status
                # Above the notice (newest first): the new server's ids, one after another.
                since = page.evaluate(IDS_SINCE_RESTART_JS, panel)
                newest = second.last_id()  # read after the page, so nothing overtakes it
                assert len(since) >= 5 and max(since) <= newest, (panel, since, newest)
                assert since == list(range(since[0], since[0] - len(since), -1)), since
            assert_continuous(page)
            assert page.errors == [], page.errors
    finally:
        page.close()


def test_the_panels_notice_a_restarted_server_that_is_already_ahead(chromium):
    # The page's cursors are behind the new server's newest id, so a resume by id alone
    # would silently skip the new run's first events. The run's epoch tells the page.
    with run_server("--rate", "20", "--retry-ms", "500") as first:
        port = urlsplit(first.url).port
        page = open_page(chromium, first.url + "/")
        try:
            page.wait_for_function(
                """() => ["short", "long", "sse", "ws"].every(
                  (panel) => window.lab.panels[panel].lastId >= 3)""",
                timeout=WAIT_MS,
            )
            # Cut the page off while the server is replaced, so that it cannot reconnect
            # before the new server has gone past its cursors.
            page.route("**/*", lambda route: route.abort())
            cursors = page.evaluate(
                "() => Object.values(window.lab.panels).map((panel) => panel.lastId)"
            )
        except BaseException:
            page.close()
            raise
    try:
        with run_server("--port", str(port), "--rate", "0", "--retry-ms", "500") as second:
            fresh = [second.publish(f"new run {i}") for i in range(max(cursors) + 10)]
            page.unroute("**/*")
            page.wait_for_function(
                """() => ["short", "long", "sse", "ws"].every((panel) =>
                  Number(document.querySelector(`#panel-${panel}`).dataset.restarts) >= 1)""",
                timeout=WAIT_MS,
            )
            newest = fresh[-1]["id"]
            page.wait_for_function(
                """(newest) => ["short", "long", "sse", "ws"].every(
                  (panel) => window.lab.panels[panel].lastId === newest)""",
                arg=newest,
                timeout=WAIT_MS,
            )
            for panel in PANELS:
                assert notices(page, panel, "restart"), f"{panel} does not say so"
                since = page.evaluate(IDS_SINCE_RESTART_JS, panel)
                # Every event of the new run, from its first: none skipped.
                assert since == list(range(newest, 0, -1))[: len(since)], (panel, since)
                assert len(since) == min(newest, 50) or since[-1] == 1, (panel, since)
            assert_continuous(page)
            assert page.errors == [], page.errors
    finally:
        page.close()


def test_the_page_works_under_its_content_security_policy(chromium, lab):
    from browser import strict_context

    context = strict_context(chromium)
    try:
        page = context.new_page()
        violations: list[str] = []
        page.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        page.goto(lab.url + "/?lang=en")
        deadline = time.monotonic() + WAIT_MS / 1000
        # Polled from here: under the policy Playwright's in-page waits cannot run.
        while min(events_received(page).values()) < 5:
            assert time.monotonic() < deadline, events_received(page)
            time.sleep(0.2)
        assert page.get_attribute("#access", "data-state") == "teacher"
        page.fill("#message", "under the policy")
        page.press("#message", "Enter")
        while "Published" not in (page.text_content("#control-result") or ""):
            assert time.monotonic() < deadline, page.text_content("#control-result")
            time.sleep(0.2)
        assert violations == [], violations
        response = requests.get(lab.url + "/", timeout=10)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    finally:
        context.close()


def test_students_are_read_only_and_the_teachers_link_enables_the_controls(chromium):
    with run_server("--host", "0.0.0.0", "--token", "class-token", "--rate", "5") as lab:
        url = f"http://127.0.0.1:{urlsplit(lab.url).port}/"
        student = open_page(chromium, url)
        try:
            student.wait_for_selector('#access[data-state="readonly"]', timeout=WAIT_MS)
            controls = ("#rate", "#pause", "#payload", "#message", "#publish-via", "#publish")
            for control in (*controls, "#drop"):
                assert student.is_disabled(control), control
            assert student.is_visible("#readonly-note")
            # What only changes this browser stays usable, and the panels are live.
            assert student.is_enabled("#interval")
            assert student.is_enabled("#streams-toggle")
            wait_for_events(student, 3)
        finally:
            student.close()

        teacher = open_page(chromium, url + "#token=class-token")
        try:
            teacher.wait_for_selector('#access[data-state="teacher"]', timeout=WAIT_MS)
            # The token leaves the address bar, which the class can read on the projector.
            assert "class-token" not in teacher.url
            assert teacher.is_hidden("#readonly-note")
            teacher.fill("#message", "from the teacher")
            teacher.click("#publish")
            teacher.wait_for_function(
                "document.querySelector('#control-result').textContent.startsWith('Published')",
                timeout=WAIT_MS,
            )
            # Off loopback a frame publishes only with the token, which the page put in
            # the socket's address (?token=): refused, the server would close it (1008).
            teacher.wait_for_selector('#panel-ws [data-status][data-state="live"]')
            teacher.select_option("#publish-via", "ws")
            teacher.fill("#message", "a frame from the teacher")
            teacher.click("#publish")
            teacher.wait_for_selector(
                '#panel-ws li[data-id]:has-text("a frame from the teacher")', timeout=WAIT_MS
            )
            assert notices(teacher, "ws", "gap") == [], "the socket was closed"
            assert teacher.errors == [], teacher.errors
        finally:
            teacher.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 800)])
def test_screenshots_for_the_projector_and_a_laptop(chromium, lab, width, height):
    page = open_page(chromium, lab.url + "/", width, height)
    try:
        wait_for_events(page, 10)
        page.fill("#message", "Hello, class!")
        page.press("#message", "Enter")
        page.wait_for_function(
            """() => [...document.querySelectorAll("[data-events] li .message")]
              .filter((cell) => cell.textContent.includes("Hello, class!")).length === 4""",
            timeout=WAIT_MS,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"demo-page-{width}x{height}.png"))
        # Nothing sticks out sideways, and on the projector the panels fit on one screen.
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        bottoms = page.eval_on_selector_all(
            ".panel", "(panels) => panels.map((p) => p.getBoundingClientRect().bottom)"
        )
        if height >= 1080:
            assert max(bottoms) <= height, bottoms
        page.click('button[data-lang="ko"]')
        page.wait_for_function("document.documentElement.lang === 'ko'")
        page.screenshot(path=str(ARTIFACTS / f"demo-page-{width}x{height}-ko.png"))
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_lab_demo_runs_the_server_with_classroom_defaults():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in (
        "LAB_RATE",
        "LAB_ARRIVALS",
        "LAB_HEARTBEAT",
        "LAB_RETRY_MS",
        "LAB_HOST",
        "LAB_PORT",
    ):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "lab", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        first = process.stdout.readline()
        assert first.startswith("listening on http://127.0.0.1:"), first
        url = first.removeprefix("listening on ").strip()
        assert process.stdout.readline().strip() == (
            f"Classroom page: {url} (only this machine can reach it)"
        )
        page = requests.get(url, timeout=START_TIMEOUT)
        assert '<script type="module" src="static/js/main.js">' in page.text
        for name in ("js/main.js", "demo.css", "js/latency_chart.js", "js/i18n.js"):
            response = requests.get(f"{url}static/{name}", timeout=10)
            assert response.status_code == 200, name
            if name.endswith(".js"):
                # A module script with any other type is refused by the browser.
                assert response.headers["Content-Type"].split(";")[0] in (
                    "text/javascript",
                    "application/javascript",
                ), name
        source = requests.get(f"{url}source", timeout=10).json()
        assert source["rate"] == 1.0 and not source["paused"]
        # Random arrivals: a poller cannot lock onto them (see `lab demo --help`).
        assert source["arrivals"] == "poisson"
        with requests.get(f"{url}sse", stream=True, timeout=10) as stream:
            assert next(stream.iter_lines()) == b"retry: 1500"
    finally:
        stop_process(process)


def test_the_panels_count_lost_and_repeated_ids(chromium, lab):
    """Answers are altered on their way to the page: one poll's events never arrive, another
    carries its last event twice; the SSE stream and the WebSocket skip an id and repeat
    one. Every panel must count exactly one lost and one repeated id."""
    altered = {"poll": 0, "longpoll": 0}

    def alter(route, path: str) -> None:
        response = route.fetch()
        body = response.json() if response.status == 200 else None
        if body and body.get("events") and altered[path] < 2:
            if altered[path] == 0:
                body["events"] = body["events"][1:]  # the first never reaches the page
            else:
                body["events"] = [*body["events"], body["events"][-1]]  # one twice
            altered[path] += 1
            route.fulfill(response=response, json=body)
        else:
            route.fulfill(response=response)

    now = time.time()
    frames = "retry: 60000\n\n" + "".join(
        f"id: {i}@test\nevent: tick\n"
        f"data: {json.dumps({'id': i, 'ts': now, 'type': 'tick', 'data': {'n': i}})}\n\n"
        for i in (1000, 1002, 1002, 1003)
    )
    page = chromium.new_page()
    try:
        page.route("**/poll?since=*", lambda route: alter(route, "poll"))
        page.route("**/longpoll?*", lambda route: alter(route, "longpoll"))
        page.route(
            # The stream alone: a glob such as "**/sse*" would also catch static/js/sse_parser.js.
            re.compile(r"/sse(\?.*)?$"),
            lambda route: route.fulfill(
                status=200, headers={"Content-Type": "text/event-stream"}, body=frames
            ),
        )

        def socket(route) -> None:
            # Stands in for the server (no connection to it is made).
            route.send(json.dumps({"notice": "open", "epoch": "test", "last_id": 999}))
            for i in (1000, 1002, 1002, 1003):
                route.send(json.dumps({"id": i, "ts": now, "type": "tick", "data": {"n": i}}))

        page.route_web_socket(re.compile(r"/ws(\?.*)?$"), socket)
        page.goto(lab.url + "/?lang=en")
        deadline = time.monotonic() + WAIT_MS / 1000
        while True:
            shown = {panel: counters(page, panel) for panel in PANELS}
            if all(c.get("lost") == 1 and c.get("repeated") == 1 for c in shown.values()):
                break
            assert time.monotonic() < deadline, shown
            time.sleep(0.2)
        for panel in PANELS:
            assert page.eval_on_selector(
                f'#panel-{panel} [data-c="lost"]', "(cell) => cell.parentElement.className"
            ).endswith("bad"), panel
    finally:
        page.close()
