"""Clients the lab did not write read its /sse: Chromium's EventSource and httpx-sse.

The browser tests open a page on the server's own origin and let `new EventSource("/sse")`
do everything itself: parse the stream, honour `retry:`, reconnect after a drop and send
`Last-Event-ID`. The httpx-sse tests do the same with a third-party Python parser, and
check the lab's encoder against that parser's decoder directly.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from helpers import LabServer, event_number, run_server, wait_until
from httpx_sse import ServerSentEvent as ThirdPartyEvent
from httpx_sse import _decoders as httpx_sse_decoders
from httpx_sse import connect_sse

from lab.sse import ServerSentEvent, SSEDecoder, encode_comment, encode_retry

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

# Event types the page listens to. "evil" is never published: it would only appear if a
# data string managed to inject an `event:` line. "gap" and "close" are server notices.
LISTENED_TYPES = ["message", "tick", "quote", "evil", "gap", "close"]

RECORDER = """
({url, types}) => {
  const rec = {log: [], opens: [], errors: []};
  const source = new EventSource(url);
  const keep = (event) => {
    let json = true;
    try { JSON.parse(event.data); } catch (error) { json = false; }
    rec.log.push({id: event.lastEventId, type: event.type, data: event.data, json,
                  t: performance.now()});
  };
  for (const type of types) source.addEventListener(type, keep);
  source.addEventListener("open", () => rec.opens.push(performance.now()));
  source.addEventListener("error",
    () => rec.errors.push({t: performance.now(), state: source.readyState}));
  window.rec = rec;
  window.source = source;
}
"""

# Browser-side waits: generous, since the machine may be busy; they only end early.
BROWSER_WAIT_MS = 15_000


class BrowserStream:
    """One page on the server's origin holding one native EventSource."""

    def __init__(self, page, server: LabServer) -> None:
        self.page = page
        self._sse_requests: list = []
        page.on("request", self._on_request)
        # Any same-origin page that opens no connections of its own (the classroom page at /
        # opens a stream and a long poll, which would count in /drop's answer).
        page.goto(server.url + "/source")
        page.evaluate(RECORDER, {"url": "/sse", "types": LISTENED_TYPES})

    def _on_request(self, request) -> None:
        if request.url.split("?", 1)[0].endswith("/sse"):
            self._sse_requests.append(request)

    @property
    def sse_requests(self) -> list[dict]:
        """The headers of every /sse request the page made, as sent (names in lower case)."""
        return [request.all_headers() for request in self._sse_requests]

    def record(self) -> dict:
        return self.page.evaluate("window.rec")

    def log(self) -> list[dict]:
        return self.page.evaluate("window.rec.log")

    def wait_for(self, condition: str, arg: object = None, timeout_ms: int = BROWSER_WAIT_MS):
        self.page.wait_for_function(f"(arg) => {condition}", arg=arg, timeout=timeout_ms)

    def wait_opens(self, count: int, timeout_ms: int = BROWSER_WAIT_MS) -> None:
        self.wait_for("window.rec.opens.length >= arg", count, timeout_ms)

    def wait_errors(self, count: int) -> None:
        self.wait_for("window.rec.errors.length >= arg", count)

    def wait_event_id(self, event_id: int) -> None:
        """Until the browser has dispatched the event with this id."""
        self.wait_for("window.rec.log.some((e) => e.id.split('@')[0] === arg)", str(event_id))


@pytest.fixture
def page(chromium):
    page = chromium.new_page()
    try:
        yield page
    finally:
        page.close()


def save_artifact(name: str, content: object) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / name).write_text(json.dumps(content, ensure_ascii=False, indent=1))


def drop_and_wait_until_disconnected(server: LabServer, browser: BrowserStream, errors: int):
    """POST /drop, then wait until the server holds no stream and the page saw `error`."""
    assert server.drop()["dropped"] >= 1
    browser.wait_errors(errors)
    wait_until(lambda: server.counters("sse")["open"] == 0, timeout=10, what="streams dropped")


# The 100 KB string carries line breaks too, so it also spans many would-be data lines.
LARGE = "".join(f"{i:07d}\n" for i in range(12_500))
HOSTILE = [
    ("message", "line one\nline two\nline three"),
    ("message", "carriage\rreturns\ralone\r"),
    ("tick", "crlf\r\npairs\r\n"),
    ("quote", "\n\ndata: injected\n\nevent: evil\nid: 999\n\n"),
    ("message", "retry: 1\n: not a comment\n\nid\nevent:evil"),
    ("message", "nul\x00inside\x00"),
    ("message", "한국어 텍스트: 안녕하세요, 서버가 보낸 이벤트입니다"),
    ("message", "\u2028\u2029\u0085\x0b\x0c are not SSE line endings"),
    ("message", "\ufeffa byte order mark first"),
    ("message", LARGE),
    ("quote", {"nested": "\n\ndata: x\n\n", "list": ["\r", "\x00", "id: 5"]}),
]


@pytest.mark.browser
def test_browser_receives_hostile_data_intact_and_in_order(page):
    with run_server("--rate", "0", "--max-body-bytes", "400000") as server:
        browser = BrowserStream(page, server)
        browser.wait_opens(1)
        published = [server.publish(data, type=type) for type, data in HOSTILE]
        # A sentinel last: once it is in, anything injected before it would be too.
        published.append(server.publish("sentinel"))
        browser.wait_event_id(published[-1]["id"])
        log = browser.log()
    assert len(log) == len(published), [(e["id"], e["type"]) for e in log]
    for received, event in zip(log, published, strict=True):
        assert received["type"] == event["type"]
        assert event_number(received["id"]) == event["id"]
        assert received["json"], received["data"][:200]
        assert json.loads(received["data"]) == event
    assert len(json.loads(log[HOSTILE.index(("message", LARGE))]["data"])["data"]) == 100_000
    assert all(e["type"] != "evil" and e["id"] != "999" for e in log)


@pytest.mark.browser
@pytest.mark.parametrize("retry_ms", [1200, 100])
def test_browser_waits_the_announced_retry_before_reconnecting(page, retry_ms):
    with run_server("--rate", "0", "--retry-ms", str(retry_ms)) as server:
        browser = BrowserStream(page, server)
        browser.wait_opens(1)
        assert server.drop() == {"dropped": 1}
        browser.wait_opens(2, timeout_ms=retry_ms + BROWSER_WAIT_MS)
        record = browser.record()
        # The stream ended with the server's comment; the browser must be reconnecting
        # (readyState CONNECTING = 0), not closed for good (CLOSED = 2).
        assert record["errors"][0]["state"] == 0
        delay_ms = record["opens"][1] - record["errors"][0]["t"]
        print(f"retry {retry_ms} ms: the browser reconnected after {delay_ms:.0f} ms")
        assert delay_ms >= 0.8 * retry_ms
        assert delay_ms < retry_ms + 5_000
        # It reconnected to the same stream, which works as before.
        event = server.publish("after the reconnection")
        browser.wait_event_id(event["id"])


@pytest.mark.browser
def test_browser_resumes_with_last_event_id_after_a_drop(page, server):
    """The events published while the browser is away arrive once it is back.

    A fresh connection without Last-Event-ID would start live and miss them.
    """
    browser = BrowserStream(page, server)
    browser.wait_opens(1)
    seen = [server.publish(f"seen {i}") for i in range(2)]
    browser.wait_event_id(seen[-1]["id"])
    requests_before = server.counters("sse")["requests"]

    drop_and_wait_until_disconnected(server, browser, errors=1)
    missed = [server.publish(f"missed {i}", type="tick") for i in range(3)]
    assert server.counters("sse")["requests"] == requests_before, (
        "the browser reconnected before the events were published, so this run proves "
        "nothing; the retry (1500 ms) should leave plenty of time"
    )
    assert len(browser.record()["opens"]) == 1

    browser.wait_opens(2)
    browser.wait_event_id(missed[-1]["id"])
    live = server.publish("live")
    browser.wait_event_id(live["id"])
    log = browser.log()
    assert [event_number(e["id"]) for e in log] == [e["id"] for e in [*seen, *missed, live]]
    assert [json.loads(e["data"]) for e in log[2:5]] == missed
    # The reconnection request itself carried the id of the last event the page saw.
    assert len(browser.sse_requests) == 2
    assert "last-event-id" not in browser.sse_requests[0]
    assert browser.sse_requests[1]["last-event-id"] == server.sse_id(seen[-1])


@pytest.mark.browser
def test_browser_misses_and_repeats_nothing_across_several_drops(page, server):
    browser = BrowserStream(page, server)
    browser.wait_opens(1)
    published: list[dict] = []
    for round in range(3):
        published += [server.publish(f"connected {round}.{i}") for i in range(2)]
        browser.wait_event_id(published[-1]["id"])
        drop_and_wait_until_disconnected(server, browser, errors=round + 1)
        published += [server.publish(f"away {round}.{i}", type="tick") for i in range(2)]
        browser.wait_opens(round + 2)
    published += [server.publish(f"after {i}") for i in range(2)]
    browser.wait_event_id(published[-1]["id"])
    record = browser.record()
    save_artifact(
        "sse-interop-browser-drops.json",
        {
            "opens_ms": record["opens"],
            "errors": record["errors"],
            "events": [{k: e[k] for k in ("id", "type", "t")} for e in record["log"]],
        },
    )
    ids = [event_number(e["id"]) for e in record["log"]]
    assert ids == [e["id"] for e in published]
    assert ids == list(range(ids[0], ids[0] + len(ids)))
    assert len(record["opens"]) == 4
    last_event_ids = [headers.get("last-event-id") for headers in browser.sse_requests]
    assert last_event_ids[0] is None
    assert all(value is not None for value in last_event_ids[1:]), last_event_ids


@pytest.mark.browser
def test_browser_can_parse_the_data_of_every_event(page):
    with run_server("--rate", "0") as server:
        browser = BrowserStream(page, server)
        browser.wait_opens(1)
        answers = [
            server.post("/publish", data=body, headers={"Content-Type": "application/json"})
            for body in (b'{"data": NaN}', b'{"data": [Infinity, -Infinity]}')
        ]
        sentinel = server.publish("sentinel")
        browser.wait_event_id(sentinel["id"])
        log = browser.log()
    # NaN and Infinity are not JSON: refused, so nothing unparseable reaches the browser.
    for answer in answers:
        assert answer.status_code == 400, answer.text
        assert "not valid JSON" in answer.json()["error"]
    assert all(e["json"] for e in log), [e["data"] for e in log if not e["json"]]
    assert [event_number(e["id"]) for e in log] == [sentinel["id"]]


# --- httpx-sse, a third-party Python client ---------------------------------------------


def data_events(events: Iterator[ThirdPartyEvent], count: int, timeout: float = 10.0):
    """The next `count` events that carry data.

    httpx-sse also yields a data-less event for a block that only sets `retry` and, once
    an id was seen, for every comment-only block (the heartbeats); those are skipped.
    """
    deadline = time.monotonic() + timeout
    got: list[ThirdPartyEvent] = []
    try:
        for event in events:
            if event.data:
                got.append(event)
                if len(got) == count:
                    return got
            if time.monotonic() > deadline:
                break
    except httpx.TransportError as error:
        raise AssertionError(f"the stream broke after {got}: {error!r}") from error
    raise AssertionError(f"wanted {count} events within {timeout} s, got {got}")


@pytest.fixture
def http():
    with httpx.Client(timeout=httpx.Timeout(10.0)) as client:
        yield client


MULTILINE = [
    ("message", "first line\nsecond line\r\nthird line\rfourth"),
    ("quote", "\n\ndata: injected\n\nevent: evil\nid: 999\n\n"),
    ("tick", "한국어\n둘째 줄\n"),
    ("message", "nul\x00and\u2028separators\u0085"),
]


def test_httpx_sse_receives_published_multiline_text(server, http):
    with connect_sse(http, "GET", server.url + "/sse") as source:
        assert source.response.status_code == 200
        # The start point is fixed once the response has begun: publishing now is live.
        published = [server.publish(data, type=type) for type, data in MULTILINE]
        got = data_events(source.iter_sse(), len(published))
    for event, sent, (type, data) in zip(got, published, MULTILINE, strict=True):
        assert (event.event, event.id) == (type, server.sse_id(sent))
        assert "\n" not in event.data  # one JSON data line per event
        assert event.json() == sent
        assert event.json()["data"] == data


def test_httpx_sse_resumes_with_its_own_last_event_id(server, http):
    url = server.url + "/sse"
    with connect_sse(http, "GET", url) as source:
        seen = [server.publish(f"seen {i}") for i in range(2)]
        got = data_events(source.iter_sse(), 2)
    assert [e.id for e in got] == [server.sse_id(e) for e in seen]
    last_event_id = got[-1].id

    missed = [server.publish(f"missed {i}", type="tick") for i in range(3)]
    with connect_sse(http, "GET", url, headers={"Last-Event-ID": last_event_id}) as source:
        events = source.iter_sse()
        resumed = data_events(events, len(missed))
        live = server.publish("live")
        # Exactly the missed events: the next one after them is the live one.
        (next_event,) = data_events(events, 1)
    assert [e.json() for e in resumed] == missed
    assert [e.event for e in resumed] == ["tick"] * 3
    assert (next_event.id, next_event.json()) == (server.sse_id(live), live)


def test_httpx_sse_stream_survives_a_lone_surrogate_in_published_data(http):
    with (
        run_server("--rate", "0") as server,
        connect_sse(http, "GET", server.url + "/sse") as source,
    ):
        answer = server.post(
            "/publish", data=b'{"data": "\\ud800"}', headers={"Content-Type": "application/json"}
        )
        after = server.publish("after")
        got = data_events(source.iter_sse(), 1)
        # Refused before anything is stored, and the stream carries on with the next event.
        assert answer.status_code == 400, answer.text
        assert "lone surrogate" in answer.json()["error"]
        assert after["id"] == 1
        assert got[-1].json() == after


# --- the lab's encoder read by httpx-sse's own decoder (no server) -----------------------

FRAMING_CASES = [
    ServerSentEvent(data="a\nb\r\nc", event="x", id="7"),
    ServerSentEvent(data="lone\rcarriage\rreturns"),
    ServerSentEvent(data="\nstarts and ends with a line break\n"),
    ServerSentEvent(data="\r\n\r\n", event="blank-lines"),
    ServerSentEvent(data="\r\r\n\n\r"),
    ServerSentEvent(data=""),
    ServerSentEvent(data="data: injected\n\nevent: evil\nid: 999\nretry: 1\n\n", id="8"),
    ServerSentEvent(data=": looks like a comment\n:\nid"),
    ServerSentEvent(data="  two leading spaces\n trailing space "),
    ServerSentEvent(data="한국어\n텍스트", event="틱", id="식별자"),
    ServerSentEvent(data="nul\x00inside", id="9"),
    ServerSentEvent(data="\u2028\u2029\u0085\x0b\x0c\x1c are not line endings"),
    ServerSentEvent(data="\ufeffbyte order mark inside the data"),
    ServerSentEvent(data="with a retry", retry=2500, id=""),
    ServerSentEvent(data="x" * 100_000 + "\n" + "y" * 10, event="message"),
]


def third_party_lines(text: str, piece: int) -> list[str]:
    """httpx-sse's own line splitting, fed `piece` characters at a time."""
    splitter = getattr(httpx_sse_decoders, "SSELineDecoder", None)
    if splitter is None:  # older httpx-sse: split by the standard's rules here
        lines = re.split(r"\r\n|\r|\n", text)
        return lines[:-1] if lines and lines[-1] == "" else lines
    decoder = splitter()
    lines = []
    for start in range(0, len(text), piece):
        lines += decoder.decode(text[start : start + piece])
    return lines + decoder.flush()


def third_party_decode(stream: bytes, piece: int = 1 << 20) -> list[ThirdPartyEvent]:
    decoder = httpx_sse_decoders.SSEDecoder()
    events = [decoder.decode(line) for line in third_party_lines(stream.decode("utf-8"), piece)]
    return [event for event in events if event is not None]


@pytest.mark.parametrize("event", FRAMING_CASES, ids=lambda e: repr(e.data[:24]))
def test_encoder_output_reads_back_the_same_through_httpx_sse(event):
    (decoded,) = third_party_decode(event.encode())
    assert decoded.data == re.sub(r"\r\n|\r", "\n", event.data)
    assert decoded.event == (event.event or "message")
    assert decoded.id == (event.id or "")
    assert decoded.retry == event.retry


@pytest.mark.parametrize("piece", [1, 2, 7, 1 << 20])
def test_whole_stream_reads_the_same_through_httpx_sse_and_the_lab_decoder(piece):
    blocks = [encode_retry(3000), encode_comment("ping"), encode_comment("two\nlines\n")]
    for n, event in enumerate(FRAMING_CASES):
        blocks.append(event.encode())
        if n % 3 == 0:
            blocks.append(encode_comment(f"heartbeat {n}"))
    stream = b"".join(blocks)

    ours = SSEDecoder().decode(stream)
    # httpx-sse also dispatches data-less blocks (retry only, or comments after an id);
    # the standard dispatches nothing for them. Keep the events that have data lines.
    theirs = [e for e in third_party_decode(stream, piece) if e.data or e.event != "message"]
    ours_with_data = [e for e in ours if e.data or e.event != "message"]
    assert [(e.event, e.data, e.id) for e in theirs] == [
        (e.event, e.data, e.id) for e in ours_with_data
    ]
    assert len(ours) == len(FRAMING_CASES)
