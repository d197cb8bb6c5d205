"""The classroom page's layout at the sizes a class uses, measured in real headless Chromium.

At each size: the four panels side by side in one row, no two of the page's blocks drawn
over each other, no scrolling, and no text under 16 px (the chart's labels included). A
screenshot of each size is saved under test-artifacts/ for people to look at.

Four panels in one row, even at 1024x768: a 2x2 grid would halve each panel's height, which
cannot hold a panel's theory, status, counters, chart and list, and it would lose the rows
that line up across the panels (the same figure at the same height in each). On narrow
screens the panels show less instead: two counters to a row, no address in the title, the
strip's cells straight above their panels (demo.css).
"""

from __future__ import annotations

import pytest
from helpers import run_server
from layout_checks import ARTIFACTS, SIZES, SMALLEST_TEXT_PX, check_fits, check_side_by_side

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PANELS = ("short", "long", "sse", "ws")

WAIT_MS = 20_000
# Boxes that must hold their content without cutting it off or drawing over a neighbour.
TICKER_BOXES = (
    "header, .controls, .control, .strip .cell, .panel h2, .counters > div, #streams, "
    ".streams-head, .stream-list li, footer"
)

# Parts of a panel that must be whole (not cut off by the panel's edge), and labels or
# figures cut short with an ellipsis.
PANEL_JS = """(panel) => {
  const element = document.querySelector(`#panel-${panel}`);
  const bottom = element.getBoundingClientRect().bottom;
  const whole = "h2, .explain, .theory, .status, .counters, .chart-box";
  const parts = [...element.querySelectorAll(whole)]
    .filter((part) => part.getClientRects().length > 0)
    .map((part) => ({ name: part.className || part.tagName,
                      bottom: part.getBoundingClientRect().bottom,
                      height: part.getBoundingClientRect().height }));
  const cut = [...element.querySelectorAll(".counters dt, .counters dd")]
    .filter((cell) => cell.getClientRects().length > 0 && cell.scrollWidth > cell.clientWidth + 1)
    .map((cell) => cell.textContent);
  const list = element.querySelector("[data-events]").getBoundingClientRect();
  const rows = [...element.querySelectorAll("[data-events] li")]
    .filter((row) => row.getBoundingClientRect().bottom <= list.bottom + 0.5).length;
  return { bottom, parts, cut, rows };
}"""


@pytest.fixture(scope="module")
def lab():
    with run_server("--rate", "2", "--arrivals", "poisson") as running:
        yield running


def open_page(chromium, url: str, width: int, height: int, lang: str):
    page = chromium.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{url}/?lang={lang}")
    page.wait_for_function(
        """() => ["short", "long", "sse", "ws"].every((panel) => Number(document.querySelector(
          `#panel-${panel} [data-c="events"]`).dataset.value || 0) >= 4)""",
        timeout=WAIT_MS,
    )
    # The theory needs the server's settings; the strip needs two snapshots for its rates.
    page.wait_for_function(
        """() => [...document.querySelectorAll("[data-theory]")].every((p) => p.textContent)
          && document.querySelector('[data-m="requests_rate"]').textContent""",
        timeout=WAIT_MS,
    )
    return page


def check_layout(page, width: int, height: int, blocks: list[str]) -> list[dict]:
    """Everything the layout promises at this size; returns the text sizes found."""
    check_side_by_side(page, ".panel", len(PANELS))
    texts = check_fits(page, width, height, blocks, TICKER_BOXES)
    chart_fonts = page.evaluate(
        "() => Object.values(window.lab.panels).map((panel) => panel.chart.fontPx)"
    )
    assert all(px >= SMALLEST_TEXT_PX for px in chart_fonts), chart_fonts

    for panel in PANELS:
        shown = page.evaluate(PANEL_JS, panel)
        cut_off = [part for part in shown["parts"] if part["bottom"] > shown["bottom"] + 0.5]
        assert cut_off == [], (panel, cut_off)
        chart = next(part for part in shown["parts"] if part["name"] == "chart-box")
        assert chart["height"] >= 48, (panel, "the chart is too low to read", chart)
        assert shown["cut"] == [], (panel, "labels or figures cut short", shown["cut"])
    return texts


# Each chart redraws at its box's new size within a quarter of a second.
CHARTS_FIT_JS = """() => Object.values(window.lab.panels).every((panel) =>
  panel.chart.canvas.width === Math.max(1, Math.round(
    panel.chart.canvas.clientWidth * (window.devicePixelRatio || 1))))"""


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_page_fits_the_screen_in_one_row(chromium, lab, lang):
    # One page, resized to each size in turn: the layout is a function of the size alone.
    page = open_page(chromium, lab.url, *SIZES[0], lang)
    try:
        page.wait_for_function(
            """() => ["short", "long", "sse", "ws"].every((panel) =>
              document.querySelectorAll(`#panel-${panel} [data-events] li`).length >= 6)""",
            timeout=WAIT_MS,
        )
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_function(CHARTS_FIT_JS, timeout=WAIT_MS)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"layout-{width}x{height}-{lang}.png"))
            texts = check_layout(
                page, width, height, ["header", ".controls", ".strip", ".panel", "footer"]
            )
            for panel in PANELS:
                rows = page.evaluate(PANEL_JS, panel)["rows"]
                assert rows >= 2, f"{width}x{height}: {panel} shows {rows} whole rows of its list"
            print(f"{width}x{height} {lang}: smallest text {min(t['px'] for t in texts):g} px")
        assert page.errors == [], page.errors
    finally:
        page.close()


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1024, 768)])
def test_the_seven_streams_drawer_takes_the_footers_place(chromium, lab, width, height):
    page = open_page(chromium, lab.url, width, height, "en")
    try:
        page.click("#streams-toggle")
        # Wait until the browser's limit shows: a stream waits, and so does a poll.
        page.wait_for_function(
            """() => document.querySelector("#stream-list li[data-state=connecting]")
              && document.querySelector('[data-stalled="true"]')""",
            timeout=WAIT_MS,
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"layout-{width}x{height}-7-streams.png"))
        assert page.is_hidden("footer")
        check_layout(page, width, height, ["header", ".controls", ".strip", ".panel", "#streams"])
        page.click("#streams-close")
        page.wait_for_selector("footer", state="visible", timeout=WAIT_MS)
        assert page.errors == [], page.errors
    finally:
        page.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_network_badge_fits_the_smallest_projector(chromium, lang):
    """`lab demo --rtt` adds a badge to the header: the page still fits 1024x768."""
    from lab.lab_process import LabProcess

    args = ["--host", "127.0.0.1", "--port", "0", "--rate", "2", "--rtt", "200"]
    with LabProcess(args, command_name="demo") as demo:
        page = open_page(chromium, demo.url, 1024, 768, lang)
        try:
            assert page.is_visible("#network")
            check_layout(page, 1024, 768, ["header", ".controls", ".strip", ".panel", "footer"])
            assert page.errors == [], page.errors
        finally:
            page.close()
