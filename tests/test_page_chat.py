"""The classroom page's chat tab, in real headless Chromium against a real server: one
question answered over short polling, long polling and SSE side by side, stopped, refused,
in Korean, and laid out at the sizes a class uses (screenshots under test-artifacts/).

The ticker runs meanwhile, as in class, so its stream and long poll hold connections until
the chat tab pauses them (and closes the WebSocket panel's socket too). Every wait is a
condition with a deadline. The model is made fast (50 tokens/s, first token after 100 ms)
so an answer takes about 2.5 s.
"""

from __future__ import annotations

import pytest
from helpers import run_server, wait_until
from layout_checks import ARTIFACTS, SIZES, check_fits, check_side_by_side

from lab.chat.model import answer_tokens

pytestmark = [pytest.mark.browser, pytest.mark.slow]

COLUMNS = ("short", "long", "sse")
TICKER_PANELS = ("short", "long", "sse", "ws")
WAIT_MS = 20_000
FAST_TOKENS_PER_S = "50"
FAST_FIRST_TOKEN_MS = "100"
CHAT_BLOCKS = ["header", ".controls", ".chat-strip", ".chat-column", "footer"]
CHAT_BOXES = "header, .controls, .control, .chat-strip, .chat-column h2, .counters > div, footer"

# What a column shows, as a person reads it: its state, text, status and figures.
COLUMN_JS = """(key) => {
  const column = document.querySelector(`#chat-${key}`);
  const figures = {};
  for (const cell of column.querySelectorAll("[data-c]")) {
    figures[cell.dataset.c] = {
      value: cell.dataset.value === undefined ? null : Number(cell.dataset.value),
      text: cell.textContent,
    };
  }
  return {
    state: column.dataset.state,
    tokens: Number(column.dataset.tokens || 0),
    answer: column.querySelector("[data-answer]").textContent,
    status: column.querySelector("[data-status]").textContent,
    figures,
  };
}"""
ALL_IN_STATE_JS = """(state) => ["short", "long", "sse"].every(
  (key) => document.querySelector(`#chat-${key}`).dataset.state === state)"""
# Parts of a column that must be whole inside it, the answer's box, and figures cut short.
COLUMN_PARTS_JS = """(key) => {
  const column = document.querySelector(`#chat-${key}`);
  const bottom = column.getBoundingClientRect().bottom;
  const parts = [...column.querySelectorAll("h2, .status, .counters, [data-answer]")]
    .map((part) => ({ name: part.className || part.tagName,
                      bottom: part.getBoundingClientRect().bottom }))
    .filter((part) => part.bottom > bottom + 0.5);
  const answer = column.querySelector("[data-answer]");
  const cut = [...column.querySelectorAll(".counters dt, .counters dd")]
    .filter((cell) => cell.scrollWidth > cell.clientWidth + 1)
    .map((cell) => cell.textContent);
  return { parts, cut, answerHeight: answer.clientHeight,
           answerScrolls: getComputedStyle(answer).overflowY === "auto" };
}"""


@pytest.fixture(scope="module")
def lab():
    with run_server("--rate", "5") as running:
        yield running


def open_page(chromium, url: str, lang: str = "en", width: int = 1920, height: int = 1080):
    """The page with its ticker live (its stream and long poll holding connections)."""
    page = chromium.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{url}/?lang={lang}")
    page.wait_for_function(
        """() => ["short", "long", "sse", "ws"].every((panel) => Number(document.querySelector(
          `#panel-${panel} [data-c="events"]`).dataset.value || 0) >= 2)""",
        timeout=WAIT_MS,
    )
    return page


def open_chat(page, tokens_per_s: str = FAST_TOKENS_PER_S) -> None:
    page.click("#view-chat")
    page.fill("#chat-rate", tokens_per_s)
    page.fill("#chat-delay", FAST_FIRST_TOKEN_MS)


def column(page, key: str) -> dict:
    return page.evaluate(COLUMN_JS, key)


def chat_counters(lab) -> dict:
    return lab.metrics()["chat"]


def expected_answer(page) -> str:
    """The model's answer to the question the page sends, computed here."""
    question = page.evaluate("() => window.lab.chat.question()")
    return "".join(answer_tokens(question["prompt"], question["max_tokens"]))


def send_and_finish(page) -> None:
    page.click("#chat-send")
    page.wait_for_function(ALL_IN_STATE_JS, arg="done", timeout=WAIT_MS)


def test_one_question_fills_three_columns_with_the_models_answer(chromium, lab):
    page = open_page(chromium, lab.url)
    try:
        open_chat(page)
        # The chat view closed the ticker's stream, held long poll and socket.
        wait_until(
            lambda: all(lab.counters(t)["open"] == 0 for t in ("sse", "long_polling", "websocket")),
            what="the ticker's stream, long poll and socket to close",
        )
        before = chat_counters(lab)
        page.click("#chat-send")
        # All three columns got a connection at once: the server saw three questions.
        wait_until(
            lambda: chat_counters(lab)["answers_started"] >= before["answers_started"] + 3,
            timeout=1.0,
            what="all three columns to reach the server within a second",
        )
        page.wait_for_function(
            """() => document.querySelector("#chat-short [data-status]").textContent
              === "asking every 1 s (the poll interval)" """,
            timeout=WAIT_MS,
        )
        page.wait_for_function(ALL_IN_STATE_JS, arg="done", timeout=WAIT_MS)

        expected = expected_answer(page)
        shown = {key: column(page, key) for key in COLUMNS}
        for key, answer in shown.items():
            assert answer["answer"] == expected, key
            assert answer["status"] == f"done: {len(expected.split(' '))} tokens", answer
            figures = answer["figures"]
            first, done = figures["firstToken"], figures["done"]
            assert first["value"] > 0, (key, figures)
            assert done["value"] >= first["value"], (key, figures)
            for figure in (first, done):
                # Whole milliseconds below a second, hundredths of a second from there on.
                assert abs(shown_ms(figure["text"]) - figure["value"]) <= 5, (key, figures)
            assert figures["rate"]["value"] > 0, (key, figures)
        # Short polling asks one interval (1 s) after Send, and then every second.
        assert shown["short"]["figures"]["firstToken"]["value"] >= 990, shown["short"]
        assert shown["short"]["figures"]["requests"]["value"] > 1, shown["short"]
        assert shown["long"]["figures"]["requests"]["value"] > 1, shown["long"]
        assert shown["sse"]["figures"]["requests"]["value"] == 1, shown["sse"]

        after = wait_until(
            lambda: (c := chat_counters(lab))["generating"] == 0 and c,
            what="the server to end all three answers",
        )
        assert after["answers_finished"] - before["answers_finished"] == 3, (before, after)
        assert after["answers_aborted"] == before["answers_aborted"], (before, after)
        page.wait_for_function(
            """(finished) => Number(document.querySelector(
              '.chat-strip [data-m="answers_finished"]').dataset.value) >= finished""",
            arg=after["answers_finished"],
            timeout=WAIT_MS,
        )
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_stop_aborts_all_three_answers_on_the_server(chromium, lab):
    page = open_page(chromium, lab.url)
    try:
        open_chat(page, tokens_per_s="10")  # 12 s for the whole answer: Stop comes mid-way
        page.click("#chat-send")
        page.wait_for_function(
            """() => ["short", "long", "sse"].every((key) =>
              Number(document.querySelector(`#chat-${key}`).dataset.tokens || 0) >= 3)""",
            timeout=WAIT_MS,
        )
        before = chat_counters(lab)
        assert before["generating"] == 3, before
        page.click("#chat-stop")
        after = wait_until(
            lambda: (c := chat_counters(lab))["generating"] == 0 and c,
            what="generating to return to 0 after Stop",
        )
        assert after["answers_aborted"] - before["answers_aborted"] == 3, (before, after)
        assert after["answers_finished"] == before["answers_finished"], (before, after)

        page.wait_for_function(ALL_IN_STATE_JS, arg="stopped", timeout=WAIT_MS)
        for key in COLUMNS:
            shown = column(page, key)
            assert shown["status"].startswith("stopped after "), shown
            assert 3 <= shown["tokens"] < 120, shown
            assert shown["figures"]["done"]["value"] is None, shown
        assert page.is_disabled("#chat-stop")
        page.wait_for_function(
            """(aborted) => Number(document.querySelector(
              '.chat-strip [data-m="answers_aborted"]').dataset.value) >= aborted""",
            arg=after["answers_aborted"],
            timeout=WAIT_MS,
        )
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_the_ticker_pauses_for_the_chat_and_goes_on_live(chromium, lab):
    page = open_page(chromium, lab.url)
    try:
        page.click("#view-chat")
        assert page.is_hidden("#panels") and page.is_visible("#chat")
        paused_after = lab.last_id()
        wait_until(lambda: lab.last_id() >= paused_after + 3, what="events while paused")
        page.click("#view-ticker")
        assert page.is_visible("#panels") and page.is_hidden("#chat")
        newest = lab.last_id()
        page.wait_for_function(
            """(newest) => ["short", "long", "sse", "ws"].every(
              (panel) => window.lab.panels[panel].lastId >= newest + 2)""",
            arg=newest,
            timeout=WAIT_MS,
        )
        for panel in TICKER_PANELS:
            counted = page.evaluate(f"() => window.lab.panels.{panel}.counters")
            # The events published while paused were never asked for: not lost.
            assert counted["lost"] == 0 and counted["repeated"] == 0, (panel, counted)
            notice = page.text_content(f'#panel-{panel} [data-events] li[data-notice="paused"]')
            assert notice.startswith("paused while the chat was shown, after id "), notice
            status = page.get_attribute(f"#panel-{panel} [data-status]", "data-state")
            assert status == "live", (panel, status)
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_the_chat_speaks_korean_and_both_tables_have_the_same_keys(chromium, lab):
    page = open_page(chromium, lab.url, lang="ko")
    try:
        page.click("#view-chat")
        korean = {
            "#view-ticker": "이벤트",
            "#view-chat": "채팅",
            "#chat-send": "보내기",
            "#chat-stop": "멈추기",
            "label[for=chat-prompt]": "질문",
            "#hc-short span": "숏 폴링",
            '#chat-long dt[data-i18n="chat.firstToken"]': "첫 토큰",
            "#chat-sse [data-status]": "질문을 기다리는 중",
            ".chat-strip h2": "서버 집계 (모든 접속자):",
        }
        for selector, text in korean.items():
            assert page.text_content(selector) == text, selector
        assert page.input_value("#chat-prompt").startswith("채팅 앱은 왜")
        assert page.text_content(".note-paused").startswith("채팅을 보는 동안")

        page.click('button[data-lang="en"]')
        page.wait_for_function("document.documentElement.lang === 'en'", timeout=WAIT_MS)
        assert page.text_content("#view-chat") == "Chat"
        assert page.text_content("#chat-stop") == "Stop"
        assert page.text_content("#chat-sse [data-status]") == "waiting for a question"
        assert page.input_value("#chat-prompt").startswith("Why do chat apps")

        keys = page.evaluate(
            """async () => {
              const { ENGLISH } = await import("/static/js/messages_en.js");
              const { KOREAN } = await import("/static/js/messages_ko.js");
              const only = (a, b) => Object.keys(a).filter((key) => !(key in b));
              return { english: only(ENGLISH, KOREAN), korean: only(KOREAN, ENGLISH) };
            }"""
        )
        assert keys == {"english": [], "korean": []}, keys
        assert page.errors == [], page.errors
    finally:
        page.close()


def test_refusals_show_the_servers_sentence_in_every_column(chromium):
    # One answer at a time: of three questions sent at once, at least one is refused.
    with run_server("--rate", "0", "--max-chat-answers", "1") as lab:
        page = chromium.new_page()
        try:
            page.goto(f"{lab.url}/?lang=en")
            open_chat(page, tokens_per_s="999")
            page.click("#chat-send")
            page.wait_for_function(ALL_IN_STATE_JS, arg="problem", timeout=WAIT_MS)
            for key in COLUMNS:
                assert column(page, key)["status"] == (
                    "the server refused (400): tokens_per_s must be a number from 0.5 to 200, "
                    "not 999"
                ), key

            page.fill("#chat-rate", "5")
            page.click("#chat-send")
            page.wait_for_function(
                """() => ["short", "long", "sse"].every((key) =>
                  document.querySelector(`#chat-${key}`).dataset.state !== "sending")""",
                timeout=WAIT_MS,
            )
            statuses = [column(page, key)["status"] for key in COLUMNS]
            refused = [text for text in statuses if text.startswith("the server refused (503)")]
            assert refused, statuses
            assert all("chat answers" in text for text in refused), refused
            page.click("#chat-stop")
            wait_until(lambda: chat_counters(lab)["generating"] == 0, what="the answers to stop")
        finally:
            page.close()


@pytest.fixture(scope="module")
def answered(chromium, lab):
    """One page for every size: the chat shown, with a whole answer in each column."""
    page = open_page(chromium, lab.url)
    try:
        open_chat(page)
        send_and_finish(page)
        yield page
        assert page.errors == [], page.errors
    finally:
        page.close()


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_chat_fits_the_screen_with_three_columns(answered, width, height, lang):
    page = answered
    page.set_viewport_size({"width": width, "height": height})
    if page.evaluate("document.documentElement.lang") != lang:
        page.click(f'button[data-lang="{lang}"]')
        page.wait_for_function("(lang) => document.documentElement.lang === lang", arg=lang)
    # Resizing lays the page out again before the next frame: wait for one.
    page.evaluate("() => new Promise((resolve) => requestAnimationFrame(() => resolve()))")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"chat-{width}x{height}-{lang}.png"))

    check_side_by_side(page, ".chat-column", 3)
    texts = check_fits(page, width, height, CHAT_BLOCKS, CHAT_BOXES)
    for key in COLUMNS:
        shown = page.evaluate(COLUMN_PARTS_JS, key)
        assert shown["parts"] == [], (key, "cut off by the column's edge", shown["parts"])
        assert shown["cut"] == [], (key, "labels or figures cut short", shown["cut"])
        # A long answer scrolls inside its column, which keeps a few lines to read.
        assert shown["answerScrolls"] and shown["answerHeight"] >= 80, (key, shown)
    print(f"chat {width}x{height} {lang}: smallest text {min(t['px'] for t in texts):g} px")


def shown_ms(text: str) -> float:
    """A latency as the page writes it ("842 ms", "1.06 s"), in milliseconds."""
    number, unit = text.split(" ")
    return float(number) * (1000 if unit == "s" else 1)
