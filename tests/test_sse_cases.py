"""The SSE parsing cases both parsers share (tests/fixtures/sse_cases.json): lab/sse.py's
SSEDecoder here, and the page's lab/static/js/sse_parser.js in real Chromium, each fed the
same chunks and expected to dispatch the same events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.sse import SSEDecoder

CASES = json.loads(
    (Path(__file__).resolve().parent / "fixtures" / "sse_cases.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_python_decoder(case):
    decoder, events = SSEDecoder(), []
    for chunk in case["chunks"]:
        events += [
            {"data": e.data, "event": e.event, "id": e.id, "retry": e.retry}
            for e in decoder.decode(chunk.encode("utf-8"))
        ]
    assert events == case["events"]


RUN_CASES_JS = """async (cases) => {
  const { SSEParser } = await import("/static/js/sse_parser.js");
  const encoder = new TextEncoder();
  return cases.map((c) => {
    const parser = new SSEParser();
    return c.chunks.flatMap((chunk) => parser.decode(encoder.encode(chunk)));
  });
}"""


@pytest.mark.browser
def test_the_page_s_parser_agrees_case_by_case(chromium, server):
    page = chromium.new_page()
    try:
        page.goto(server.url + "/")
        results = page.evaluate(RUN_CASES_JS, CASES)
    finally:
        page.close()
    for case, events in zip(CASES, results, strict=True):
        assert events == case["events"], case["name"]


@pytest.mark.browser
def test_the_page_s_parser_reads_a_chat_answer_split_byte_by_byte(chromium, server):
    """Each byte its own chunk: a token's JSON, a Korean character, a line ending split."""
    page = chromium.new_page()
    try:
        page.goto(server.url + "/")
        events = page.evaluate(
            """async () => {
              const { SSEParser } = await import("/static/js/sse_parser.js");
              const bytes = new TextEncoder().encode(
                "id: 0\\r\\nevent: token\\r\\ndata: {\\"text\\":\\"안녕\\"}\\r\\n\\r\\n");
              const parser = new SSEParser();
              return [...bytes].flatMap((b) => parser.decode(new Uint8Array([b])));
            }"""
        )
    finally:
        page.close()
    assert events == [{"data": '{"text":"안녕"}', "event": "token", "id": "0", "retry": None}]
