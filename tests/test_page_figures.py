"""What the classroom page says, in real headless Chromium against real servers: the theory
next to the live figures, short polling's phase and jitter, the strip's rates, the reset
button, the 7-streams demo's account of the browser's connections, a clean console, and a
simulated network's round trip.

Every wait is a condition with a deadline; times are compared only with generous bounds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from helpers import run_server, wait_until

from lab.lab_process import LabProcess
from lab.theory import empty_poll_share, long_polling, websocket_frame_overhead

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANELS = ("short", "long", "sse", "ws")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
WAIT_MS = 20_000
EVENTS_AT_LEAST_JS = """(minimum) => ["short", "long", "sse", "ws"].every((panel) => Number(
  document.querySelector(`#panel-${panel} [data-c="events"]`).dataset.value || 0) >= minimum)"""


def open_page(chromium, url: str, width: int = 1366, height: int = 768, lang: str = "en"):
    page = chromium.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            page.problems.append(f"console {message.type}: {message.text}")
            if message.type == "error"
            else None
        ),
    )
    page.on(
        "response",
        lambda response: (
            page.problems.append(f"{response.status} {response.url}")
            if response.status >= 400
            else None
        ),
    )
    address, hash_mark, fragment = url.partition("#")
    page.goto(f"{address}?lang={lang}{hash_mark}{fragment}")
    page.wait_for_function(EVENTS_AT_LEAST_JS, arg=3, timeout=WAIT_MS)
    return page


def theory_params(page, panel: str) -> tuple[str, dict]:
    """The theory line a panel shows: its text key and its numbers."""
    key, params = page.eval_on_selector(
        f"#panel-{panel} [data-theory]",
        "(p) => [p.dataset.i18n, JSON.parse(p.dataset.i18nParams || '{}')]",
    )
    return key, params


def wait_for_theory(page, panel: str, text: str) -> str:
    page.wait_for_function(
        """([panel, text]) => document.querySelector(`#panel-${panel} [data-theory]`)
          .textContent.includes(text)""",
        arg=[panel, text],
        timeout=WAIT_MS,
    )
    return page.text_content(f"#panel-{panel} [data-theory]")


def percent(share: float) -> str:
    return "<1%" if 0 < share < 0.005 else f"{round(share * 100)}%"


def test_the_theory_states_numbers_for_the_current_settings(chromium):
    with run_server("--rate", "1", "--arrivals", "poisson") as lab:
        page = open_page(chromium, lab.url + "/")
        try:
            # 1 event/s at random, polled every 1 s: e^(−1) of the polls are empty, not most.
            expected = percent(empty_poll_share(1, 1, "poisson"))
            assert expected == "37%"
            text = wait_for_theory(page, "short", f"e^(−λT) = {expected}")
            assert "T/2 = 500 ms" in text, text
            long_text = wait_for_theory(page, "long", "requests per event")
            model = long_polling(users=1, rate=1, timeout_s=20, arrivals="poisson")
            assert f"{model.requests_per_s / 1:.2f} requests per event" in long_text, long_text
            sse_text = page.text_content("#panel-sse [data-theory]")
            assert "no request and no empty answer per event" in sse_text, sse_text
            ws_text = page.text_content("#panel-ws [data-theory]")
            assert "one frame, its JSON + a 2-byte header (4 from 126 B)" in ws_text, ws_text
            assert ws_text.endswith(sse_text.rpartition("latency ≈ ")[2]), (ws_text, sse_text)
            # The page counts a frame's header as the lab's model does.
            sizes = [0, 125, 126, 65_535, 65_536]
            headers = page.evaluate(
                """async (sizes) => {
                  const { websocketFrameHeader } = await import("/static/js/theory.js");
                  return sizes.map(websocketFrameHeader);
                }""",
                sizes,
            )
            assert headers == [websocket_frame_overhead(size) for size in sizes]
            # Latencies from a second on are seconds: a panel on a projector is narrow.
            shown = page.evaluate(
                """async (values) => {
                  const { formatLatency } = await import("/static/js/helpers.js");
                  return values.map(formatLatency);
                }""",
                [0.4, 12.4, 999.4, 1056, 9994, 12345],
            )
            assert shown == ["<1 ms", "12 ms", "999 ms", "1.06 s", "9.99 s", "12.3 s"]

            page.select_option("#interval", "5000")
            expected = percent(empty_poll_share(1, 5, "poisson"))
            text = wait_for_theory(page, "short", f"= {expected} of polls")
            assert "T/2 = 2.50 s" in text, text

            # The server's settings change: the page follows them within a snapshot or two.
            lab.put("/source", json={"rate": 0.2})
            wait_for_theory(page, "short", "= 37% of polls")
            lab.put("/source", json={"rate": 0.5, "arrivals": "fixed"})
            page.select_option("#interval", "1000")
            text = wait_for_theory(page, "short", "evenly spaced")
            assert f"1 − λT = {percent(empty_poll_share(0.5, 1, 'fixed'))}" in text, text
            lab.put("/source", json={"paused": True})
            wait_for_theory(page, "short", "the ticker is paused")
            wait_for_theory(page, "long", "the ticker is paused")

            page.click('button[data-lang="ko"]')
            korean = wait_for_theory(page, "short", "이론")
            assert "발행이 멈춰" in korean, korean
            lab.put("/source", json={"paused": False, "rate": 1, "arrivals": "poisson"})
            wait_for_theory(page, "short", "e^(−λT) = 37%")
            assert page.problems == [], page.problems
        finally:
            page.close()


def test_short_polling_starts_at_a_random_phase_and_jitters_its_interval(chromium):
    with run_server("--rate", "5") as lab:
        page = open_page(chromium, lab.url + "/")
        try:
            delays = page.wait_for_function(
                "() => (window.lab.panels.short.delays.length >= 8"
                " && window.lab.panels.short.delays)",
                timeout=WAIT_MS,
            ).json_value()
            phase, gaps = delays[0], delays[1:]
            assert 0 <= phase <= 1000, delays
            assert all(900 <= gap <= 1100 for gap in gaps), delays
            assert max(gaps) - min(gaps) >= 5, f"the gaps do not vary: {delays}"
            page.select_option("#interval", "250")
            faster = page.wait_for_function(
                """() => {
                  const delays = window.lab.panels.short.delays;
                  return delays.slice(-6).every((gap) => gap < 500) && delays.slice(-6);
                }""",
                timeout=WAIT_MS,
            ).json_value()
            assert all(225 <= gap <= 275 for gap in faster), faster
            assert page.problems == [], page.problems
        finally:
            page.close()


def test_the_strip_reads_a_slow_poller_per_minute(chromium):
    with run_server("--rate", "1") as lab:
        page = open_page(chromium, lab.url + "/")
        try:
            page.select_option("#interval", "5000")
            cell = '.strip [data-transport="short_polling"] [data-m="requests_rate"]'
            # One poll every 5 s: 12 a minute, not "0.0/s" (a window of several polls).
            handle = page.wait_for_function(
                """(cell) => {
                  const element = document.querySelector(cell);
                  const perSecond = Number(element.dataset.perSecond);
                  return /\\/min$/.test(element.textContent) && perSecond > 0.1
                    && perSecond < 0.35 && element.textContent;
                }""",
                arg=cell,
                timeout=40_000,
            )
            assert re.fullmatch(r"\d+(\.\d)?/min", handle.json_value()), handle.json_value()
            long_rate = page.text_content(
                '.strip [data-transport="long_polling"] [data-m="requests_rate"]'
            )
            assert re.fullmatch(r"[\d.]+/(s|min)", long_rate), long_rate
            assert page.problems == [], page.problems
        finally:
            page.close()


def test_the_reset_button_clears_charts_averages_and_counters(chromium):
    with run_server("--rate", "5") as lab:
        page = open_page(chromium, lab.url + "/")
        try:
            page.wait_for_function(EVENTS_AT_LEAST_JS, arg=8, timeout=WAIT_MS)
            # Clicked and read in one turn of the page's event loop: nothing arrives between.
            after = page.evaluate(
                """() => {
                  document.querySelector("#reset").click();
                  return Object.values(window.lab.panels).map((panel) => ({
                    counters: panel.counters,
                    summary: panel.chart.summary(Date.now() / 1000),
                    last: panel.latencyLast,
                    rows: panel.pendingRows.length,
                  }));
                }"""
            )
            for shown in after:
                assert shown["summary"] is None and shown["last"] is None, shown
                assert all(value in (0, None) for value in shown["counters"].values()), shown
                assert shown["rows"] == 1, "the list keeps only the reset notice"
            # Counting goes on, and ids are still checked across the reset.
            page.wait_for_function(EVENTS_AT_LEAST_JS, arg=5, timeout=WAIT_MS)
            for panel in PANELS:
                notice = page.text_content(f'#panel-{panel} [data-notice="reset"]')
                assert notice.startswith("reset at "), notice
                counters = page.evaluate(f"window.lab.panels.{panel}.counters")
                assert counters["lost"] == 0 and counters["repeated"] == 0, counters
            page.click('button[data-lang="ko"]')
            page.wait_for_function(
                "document.querySelector('#reset').textContent === '차트 초기화'", timeout=WAIT_MS
            )
            assert page.problems == [], page.problems
        finally:
            page.close()


def test_the_seven_streams_demo_says_who_waits_and_why(chromium):
    with run_server("--rate", "5") as lab:
        page = open_page(chromium, lab.url + "/", 1920, 1080)
        try:
            page.click("#streams-toggle")
            # Settled: every connection the browser allows is in use, and requests wait.
            page.wait_for_function(
                """() => {
                  const used = document.querySelector("#streams-in-use");
                  const waiting = document.querySelector("#streams-waiting").dataset.who || "";
                  return used.dataset.count === "6" && waiting.split(",").includes("extra")
                    && document.querySelector('[data-stalled="true"]');
                }""",
                timeout=WAIT_MS,
            )
            tally = page.evaluate(
                """() => {
                  const used = document.querySelector("#streams-in-use").dataset;
                  return {
                    inUse: Number(used.count),
                    streams: Number(used.streams),
                    requests: Number(used.requests),
                    waiting: document.querySelector("#streams-waiting").dataset.who.split(","),
                    states: [...document.querySelectorAll("#stream-list li")]
                      .map((li) => li.dataset.state),
                    sseOpen: window.lab.panels.sse.holdsConnection(),
                    stalled: Object.fromEntries(["short", "long", "sse", "ws"].map((panel) =>
                      [panel, document.querySelector(`#panel-${panel}`).dataset.stalled === "true"]
                    )),
                  };
                }"""
            )
            extra_open = tally["states"].count("open")
            assert len(tally["states"]) == 7, tally
            assert extra_open + tally["states"].count("connecting") == 7, tally
            # The page's arithmetic: the streams it holds and what is left for its requests
            # add up to the browser's 6, while a stream waits.
            assert tally["streams"] == extra_open + int(tally["sseOpen"]), tally
            assert tally["streams"] + tally["requests"] == tally["inUse"] == 6, tally
            summary = page.text_content("#streams-summary")
            assert summary.startswith(f"{extra_open} of 7 open"), summary
            assert page.text_content("#streams-in-use").endswith("= 6 of 6."), tally
            # The WebSocket is not one of the 6: it never waits for one.
            assert not tally["stalled"].pop("ws"), tally
            for panel, stalled in tally["stalled"].items():
                status = page.text_content(f"#panel-{panel} [data-status]")
                if stalled:
                    assert "waits for a free connection" in status, (panel, status)
                    assert "6 per server" in status, (panel, status)
                    assert panel in tally["waiting"], (panel, tally)
                    assert "nothing lost" not in status, (panel, status)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "demo-page-7-streams-stalls-1920x1080.png"))

            page.click("#streams-close")
            page.wait_for_function(
                "document.querySelector('#control-result').textContent"
                ".startsWith('Streams closed')",
                timeout=WAIT_MS,
            )
            assert "suggested" in page.get_attribute("#reset", "class")
            page.wait_for_function(
                "!document.querySelector('[data-stalled=\"true\"]')", timeout=WAIT_MS
            )
            page.click("#reset")
            assert "suggested" not in (page.get_attribute("#reset", "class") or "")
            assert page.problems == [], page.problems
        finally:
            page.close()


def four_hundreds(metrics: dict) -> dict:
    return {
        name: {status: n for status, n in counters["responses"].items() if status.startswith("4")}
        for name, counters in metrics["transports"].items()
        if any(status.startswith("4") for status in counters["responses"])
    }


@pytest.mark.parametrize("who", ["loopback", "teacher", "student"])
def test_a_page_load_leaves_no_console_error_and_no_4xx(chromium, who):
    args = ("--rate", "5") if who == "loopback" else ("--rate", "5", "--host", "0.0.0.0")
    with run_server(*args, "--token", "class-token") as lab:
        url = f"http://127.0.0.1:{urlsplit(lab.url).port}/"
        page = open_page(chromium, url + ("#token=class-token" if who == "teacher" else ""))
        try:
            state = "readonly" if who == "student" else "teacher"
            page.wait_for_selector(f'#access[data-state="{state}"]', timeout=WAIT_MS)
            page.wait_for_function(EVENTS_AT_LEAST_JS, arg=6, timeout=WAIT_MS)
            metrics = requests.get(url + "metrics", timeout=10).json()
            assert four_hundreds(metrics) == {}, json.dumps(metrics["transports"])
            assert page.problems == [], page.problems
        finally:
            page.close()


def test_the_page_shows_a_simulated_round_trip(chromium):
    with LabProcess(["--port", "0", "--rate", "5", "--rtt", "200"], command_name="demo") as lab:
        page = open_page(chromium, lab.url + "/")
        try:
            page.wait_for_selector("#network", state="visible", timeout=WAIT_MS)
            assert page.text_content("#network") == "Simulated 200 ms round trip"
            page.wait_for_function(EVENTS_AT_LEAST_JS, arg=10, timeout=WAIT_MS)
            # Every pushed event crossed the relay once: at least half the round trip late.
            mean = page.evaluate("window.lab.panels.sse.chart.summary(Date.now() / 1000).mean")
            assert mean >= 95, mean
            key, params = theory_params(page, "sse")
            assert key == "theory.sse" and int(params["latency"].split()[0]) >= 100, params
            wait_until(lambda: not page.query_selector('[data-stalled="true"]'), what="no stall")
            page.click('button[data-lang="ko"]')
            page.wait_for_function(
                "document.querySelector('#network').textContent.includes('왕복 200 ms')",
                timeout=WAIT_MS,
            )
            assert page.problems == [], page.problems
        finally:
            page.close()
