"""Tests for lab.sse: the SSE encoder and the incremental parser.

Parser cases come from the WHATWG HTML standard ("Server-sent events": its examples and the
rules of "Parsing an event stream" / "Interpreting an event stream") and from the
web-platform-tests `eventsource/format-*` tests. Every parser case is fed in chunks of every
size from one byte to the whole input and must give the same result each time.
"""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lab.sse import ServerSentEvent, SSEDecoder, SSEFieldError, encode_comment, encode_retry


def ev(data: str, event: str = "message", id: str = "", retry: int | None = None):
    """A dispatched event as the decoder reports it (id is always a str there)."""
    return ServerSentEvent(data=data, event=event, id=id, retry=retry)


def wpt_message(message: bytes, newline: bool = True) -> bytes:
    """The body wpt's eventsource/resources/message.py sends for ?message=...

    It appends "\\n\\n" unless ?newline=none, then always one more "\\n".
    """
    return message + (b"\n\n" if newline else b"") + b"\n"


def wpt_last_event_id(idvalue: bytes = "\u2026".encode()) -> bytes:
    """The body wpt's resources/last-event-id.py sends when no Last-Event-ID header came."""
    return b"id: " + idvalue + b"\nretry: 200\ndata: hello\n\n"


def wpt_last_event_id_echo(last_event_id: str) -> bytes:
    """The body last-event-id.py sends on reconnection: the Last-Event-ID header as data."""
    return b"data: " + last_event_id.encode() + b"\n\n"


_WPT_LONG = b"x" * 2048
_ELLIPSIS = "\u2026"


class ParseCase(NamedTuple):
    name: str
    # One stream, or several: each is followed by flush(), as when a client reconnects.
    streams: bytes | tuple[bytes, ...]
    events: list[ServerSentEvent]
    last_event_id: str = ""
    retry: int | None = None


PARSE_CASES = [
    # --- web-platform-tests eventsource/format-*.
    ParseCase(
        "wpt_format_bom",
        wpt_message(b"\xef\xbb\xbfdata:1\n\n\xef\xbb\xbfdata:2\n\ndata:3"),
        [ev("1"), ev("3")],
    ),
    ParseCase(
        "wpt_format_bom_2",
        wpt_message(b"\xef\xbb\xbf\xef\xbb\xbfdata:1\n\ndata:2\n\ndata:3"),
        [ev("2"), ev("3")],
    ),
    ParseCase(
        "wpt_format_comments",
        wpt_message(
            b"data:1\r:\x00\n:\r\ndata:2\n:"
            + _WPT_LONG
            + b"\rdata:3\n:data:fail\r:"
            + _WPT_LONG
            + b"\ndata:4\n",
            newline=False,
        ),
        [ev("1\n2\n3\n4")],
    ),
    ParseCase(
        # The unterminated block's id must not be sent on reconnection: the second
        # connection gets test1 again with lastEventId "".
        "wpt_format_data_before_final_empty_line",
        (
            wpt_message(b"retry:1000\ndata:test1\n\nid:test\ndata:test2", newline=False),
            wpt_message(b"retry:1000\ndata:test1\n\nid:test\ndata:test2", newline=False),
        ),
        [ev("test1", retry=1000), ev("test1", retry=1000)],
        last_event_id="",
        retry=1000,
    ),
    ParseCase(
        "wpt_format_field_data",
        wpt_message(b"data:\n\ndata\ndata\n\ndata:test"),
        [ev(""), ev("\n"), ev("test")],
    ),
    ParseCase("wpt_format_field_event_empty", wpt_message(b"event: \ndata:data"), [ev("data")]),
    ParseCase(
        "wpt_format_field_event",
        wpt_message(b"event:test\ndata:x\n\ndata:x"),
        [ev("x", event="test"), ev("x")],
    ),
    ParseCase(
        "wpt_format_field_id",
        (wpt_last_event_id(), wpt_last_event_id_echo(_ELLIPSIS)),
        [ev("hello", id=_ELLIPSIS, retry=200), ev(_ELLIPSIS, id=_ELLIPSIS)],
        last_event_id=_ELLIPSIS,
        retry=200,
    ),
    ParseCase(
        "wpt_format_field_id_2",
        (wpt_last_event_id(), wpt_last_event_id_echo(_ELLIPSIS), wpt_last_event_id_echo(_ELLIPSIS)),
        [
            ev("hello", id=_ELLIPSIS, retry=200),
            ev(_ELLIPSIS, id=_ELLIPSIS),
            ev(_ELLIPSIS, id=_ELLIPSIS),
        ],
        last_event_id=_ELLIPSIS,
        retry=200,
    ),
    ParseCase(
        "wpt_format_field_id_3_persists",
        b"id: 1\ndata: 1\n\ndata:2\n\n",
        [ev("1", id="1"), ev("2", id="1")],
        last_event_id="1",
    ),
    ParseCase(
        "wpt_format_field_id_3_changes_and_persists",
        b"id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n",
        [ev("1", id="1"), ev("2", id="2"), ev("3", id="2")],
        last_event_id="2",
    ),
    ParseCase(
        "wpt_format_field_id_3_resets",
        b"id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
        [ev("1", id="1"), ev("2", id=""), ev("3", id="")],
        last_event_id="",
    ),
    *[
        # The id is ignored, so the client reconnects without Last-Event-ID and gets hello
        # again, still with lastEventId "".
        ParseCase(
            f"wpt_format_field_id_null_{label}",
            (wpt_last_event_id(idvalue), wpt_last_event_id(idvalue)),
            [ev("hello", retry=200), ev("hello", retry=200)],
            last_event_id="",
            retry=200,
        )
        for label, idvalue in [
            ("nul_nul", b"\x00\x00"),
            ("x_nul", b"x\x00"),
            ("nul_x", b"\x00x"),
            ("x_nul_x", b"x\x00x"),
            ("space_nul", b" \x00"),
        ]
    ],
    ParseCase(
        "wpt_format_field_parsing",
        wpt_message(
            b"data:\x00\ndata:  2\rData:1\ndata\x00:2\ndata:1\r\x00data:4\nda-ta:3\rdata_5"
            b"\ndata:3\rdata:\r\n data:32\ndata:4\n",
            newline=False,
        ),
        [ev("\x00\n 2\n1\n3\n\n4")],
    ),
    ParseCase(
        "wpt_format_field_retry_bogus",
        wpt_message(b"retry:3000\nretry:1000x\ndata:x"),
        [ev("x", retry=3000)],
        retry=3000,
    ),
    ParseCase(
        # Leading zeros: decimal 3000, not octal.
        "wpt_format_field_retry",
        wpt_message(b"retry:03000\ndata:x"),
        [ev("x", retry=3000)],
        retry=3000,
    ),
    ParseCase("wpt_format_field_retry_empty", wpt_message(b"retry\ndata:test"), [ev("test")]),
    ParseCase(
        "wpt_format_field_unknown",
        wpt_message(
            b"data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test"
        ),
        [ev("test\n\ntest")],
    ),
    ParseCase(
        "wpt_format_leading_space",
        wpt_message(b"data:\ttest\rdata: \ndata:test"),
        [ev("\ttest\n\ntest")],
    ),
    ParseCase(
        # The message ends in CR and the resource appends LF: one CRLF, one blank line.
        "wpt_format_newlines",
        wpt_message(b"data:test\r\ndata\ndata:test\r\n\r", newline=False),
        [ev("test\n\ntest")],
    ),
    ParseCase("wpt_format_null_character", wpt_message(b"data:\x00\n\n"), [ev("\x00")]),
    ParseCase("wpt_format_utf_8", wpt_message(b"data:ok\xe2\x80\xa6"), [ev("ok\u2026")]),
    # --- The standard's own examples.
    ParseCase(
        "spec_intro_three_messages",
        b"data: This is the first message.\n\n"
        b"data: This is the second message, it\n"
        b"data: has two lines.\n\n"
        b"data: This is the third message.\n\n",
        [
            ev("This is the first message."),
            ev("This is the second message, it\nhas two lines."),
            ev("This is the third message."),
        ],
    ),
    ParseCase(
        "spec_intro_add_remove_event_types",
        b"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\nevent: add\ndata: 113411\n\n",
        [ev("73857293", event="add"), ev("2153", event="remove"), ev("113411", event="add")],
    ),
    ParseCase(
        "spec_example_stock_ticker", b"data: YHOO\ndata: +2\ndata: 10\n\n", [ev("YHOO\n+2\n10")]
    ),
    ParseCase(
        # A comment-only block, data+id, data with an empty id (reset), a leading space kept.
        "spec_example_four_blocks_comment_id_reset",
        b": test stream\n\n"
        b"data: first event\nid: 1\n\n"
        b"data:second event\nid\n\n"
        b"data:  third event\n\n",
        [ev("first event", id="1"), ev("second event", id=""), ev(" third event", id="")],
    ),
    ParseCase(
        # The last block is not followed by a blank line, so it is discarded.
        "spec_example_empty_data_blocks",
        b"data\n\ndata\ndata\n\ndata:",
        [ev(""), ev("\n")],
    ),
    ParseCase(
        "spec_example_space_after_colon_ignored",
        b"data:test\n\ndata: test\n\n",
        [ev("test"), ev("test")],
    ),
    ParseCase(
        "spec_authoring_keepalive_comments", b":\n\n: keep-alive\n\ndata: x\n:\n\n", [ev("x")]
    ),
    # --- UTF-8 decoding.
    ParseCase(
        "rule_utf8_korean_split_across_chunks",
        "data: 안녕하세요\nevent: 인사\nid: 번호\n\n".encode(),
        [ev("안녕하세요", event="인사", id="번호")],
        last_event_id="번호",
    ),
    ParseCase("rule_utf8_four_byte_character", "data: \U0001f642\n\n".encode(), [ev("\U0001f642")]),
    ParseCase(
        # 0xFF is never valid; E2 82 is a truncated three-byte sequence: one U+FFFD each.
        "rule_utf8_invalid_bytes_replaced",
        b"data:\xff\xe2\x82!\n\n",
        [ev("\ufffd\ufffd!")],
    ),
    ParseCase(
        "rule_utf8_truncated_sequence_at_end_of_stream", b"data: ok\n\ndata: \xe2\x82", [ev("ok")]
    ),
    # --- Byte order mark.
    ParseCase("rule_bom_stripped_before_comment", b"\xef\xbb\xbf: hello\n\ndata: x\n\n", [ev("x")]),
    ParseCase(
        "rule_bom_kept_when_not_first_in_stream", b"data: \xef\xbb\xbfx\n\n", [ev("\ufeffx")]
    ),
    ParseCase(
        # After a replacement character the BOM is no longer at the start of the stream,
        # so the field name is "\ufffd\ufeffdata": unknown.
        "rule_bom_after_invalid_byte_not_stripped",
        b"\xff\xef\xbb\xbfdata: x\n\ndata: y\n\n",
        [ev("y")],
    ),
    ParseCase(
        "rule_bom_stripped_at_start_of_each_stream",
        (b"\xef\xbb\xbfdata: a\n\n", b"\xef\xbb\xbfdata: b\n\n"),
        [ev("a"), ev("b")],
    ),
    # --- Line endings.
    ParseCase(
        "rule_line_endings_cr_crlf_lf",
        b"data:a\rdata:b\r\rdata:c\r\ndata:d\r\n\r\ndata:e\ndata:f\n\n",
        [ev("a\nb"), ev("c\nd"), ev("e\nf")],
    ),
    ParseCase(
        # If a CR at the end of a chunk plus the LF starting the next counted as two endings,
        # the blank line between would dispatch "a" on its own.
        "rule_crlf_is_one_line_ending",
        b"data:a\r\ndata:b\r\n\r\n",
        [ev("a\nb")],
    ),
    ParseCase("rule_lf_then_cr_is_two_line_endings", b"data:a\n\rdata:b\n\n", [ev("a"), ev("b")]),
    ParseCase(
        "rule_cr_then_crlf_is_two_line_endings", b"data:a\r\r\ndata:b\r\n\r\n", [ev("a"), ev("b")]
    ),
    ParseCase(
        # Only CR and LF end lines: not NEL, VT, FF or U+2028.
        "rule_other_unicode_line_breaks_are_data",
        "data: a\x85b\x0bc\x0cd\u2028e\u2029f\n\n".encode(),
        [ev("a\x85b\x0bc\x0cd\u2028e\u2029f")],
    ),
    # --- Line kinds and field/value split.
    ParseCase(
        "rule_comment_lines_ignored", b": data: nope\ndata: x\n:\n:event: evil\n\n", [ev("x")]
    ),
    ParseCase(
        "rule_one_leading_space_removed_from_value",
        b"data:  two\ndata:\tthree\ndata: \ndata:four\n\n",
        [ev(" two\n\tthree\n\nfour")],
    ),
    ParseCase(
        "rule_value_is_everything_after_first_colon",
        b"data: a: b:c\nevent: x:y\nid: 1:2\n\n",
        [ev("a: b:c", event="x:y", id="1:2")],
        last_event_id="1:2",
    ),
    ParseCase(
        "rule_line_without_colon_is_field_with_empty_value",
        b"id: 5\nevent: a\ndata\nevent\nid\n\n",
        [ev("", id="")],
    ),
    ParseCase(
        "rule_field_names_are_case_sensitive",
        b"Data: x\nDATA: y\nEvent: e\nID: 1\nRetry: 5\ndata: z\n\n",
        [ev("z")],
    ),
    ParseCase(
        "rule_field_name_with_leading_space_is_unknown",
        b" data: x\ndata : y\ndata: z\n\n",
        [ev("z")],
    ),
    ParseCase("rule_unknown_field_ignored", b"foo: bar\nfoo\ndata: x\n\n", [ev("x")]),
    # --- event field.
    ParseCase(
        "rule_event_last_field_wins", b"event: a\nevent: b\ndata: x\n\n", [ev("x", event="b")]
    ),
    ParseCase(
        "rule_event_type_reset_after_dispatch",
        b"event: a\ndata: 1\n\ndata: 2\n\n",
        [ev("1", event="a"), ev("2")],
    ),
    ParseCase(
        "rule_event_without_data_dispatches_nothing_and_resets_type",
        b"event: a\n\ndata: x\n\n",
        [ev("x")],
    ),
    ParseCase("rule_event_message_explicit", b"event: message\ndata: x\n\n", [ev("x")]),
    # --- data field and dispatch.
    ParseCase("rule_data_only_one_trailing_lf_removed", b"data:\ndata:\ndata:\n\n", [ev("\n\n")]),
    ParseCase("rule_blank_lines_without_data_dispatch_nothing", b"\n\n\r\n\r\r", []),
    ParseCase("rule_incomplete_event_dropped_at_end_of_stream", b"data: a\n\ndata: b\n", [ev("a")]),
    ParseCase("rule_final_line_without_line_ending_dropped", b"data: a\n\ndata: b", [ev("a")]),
    # --- id field.
    ParseCase(
        "rule_id_with_nul_ignored_keeps_previous",
        b"id: 1\ndata: a\n\nid: 2\x00\ndata: b\n\n",
        [ev("a", id="1"), ev("b", id="1")],
        last_event_id="1",
    ),
    ParseCase("rule_id_without_data_still_sets_last_event_id", b"id: 7\n\n", [], last_event_id="7"),
    ParseCase(
        "rule_id_after_data_in_same_block_applies",
        b"data: a\nid: 3\n\n",
        [ev("a", id="3")],
        last_event_id="3",
    ),
    ParseCase(
        "rule_id_of_unfinished_block_not_kept_across_reconnection",
        (b"id: 1\ndata: a\n\nid: 2\ndata: b", b"data: c\n\n"),
        [ev("a", id="1"), ev("c", id="1")],
        last_event_id="1",
    ),
    # --- retry field.
    ParseCase(
        "rule_retry_without_data_sets_stream_retry",
        b"retry: 1500\n\ndata: x\n\n",
        [ev("x")],
        retry=1500,
    ),
    ParseCase(
        "rule_retry_reported_on_its_own_block_only",
        b"retry: 10\ndata: a\n\ndata: b\n\n",
        [ev("a", retry=10), ev("b")],
        retry=10,
    ),
    ParseCase(
        "rule_retry_not_ascii_digits_ignored",
        b"retry: 100\n"
        b"retry: -1\nretry: +5\nretry: 1.5\nretry: 1e3\nretry: 0x10\nretry:  5\nretry: 5 \n"
        b"retry: \xd9\xa3\nretry: \xc2\xb2\nretry: \xef\xbc\x91\nretry:\n"
        b"data: x\n\n",
        [ev("x", retry=100)],
        retry=100,
    ),
    ParseCase(
        "rule_retry_large_value",
        b"retry: 123456789012345678901234567890\ndata: x\n\n",
        [ev("x", retry=123456789012345678901234567890)],
        retry=123456789012345678901234567890,
    ),
    ParseCase(
        "rule_retry_kept_across_reconnection",
        (b"retry: 42\n\n", b"data: x\n\n"),
        [ev("x")],
        retry=42,
    ),
]


def parse_all(streams: tuple[bytes, ...], size: int):
    """Feed each stream in chunks of `size` bytes, flushing after each; return everything."""
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    for stream in streams:
        for start in range(0, len(stream), size):
            events.extend(decoder.decode(stream[start : start + size]))
        assert decoder.flush() == []
    return events, decoder.last_event_id, decoder.retry


@pytest.mark.parametrize("case", PARSE_CASES, ids=[case.name for case in PARSE_CASES])
def test_parse(case: ParseCase) -> None:
    streams = case.streams if isinstance(case.streams, tuple) else (case.streams,)
    expected = (case.events, case.last_event_id, case.retry)
    for size in range(1, max(len(stream) for stream in streams) + 1):
        assert parse_all(streams, size) == expected, f"chunk size {size}"


def test_case_names_unique() -> None:
    names = [case.name for case in PARSE_CASES]
    assert len(names) == len(set(names))


def test_events_returned_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SSEDecoder()
    assert decoder.decode(b"data: a\n") == []
    assert decoder.decode(b"\n") == [ev("a")]
    # A CR ends a line at once; the decoder does not wait to see whether an LF follows.
    assert decoder.decode(b"data: b\r") == []
    assert decoder.decode(b"\r") == [ev("b")]
    assert decoder.decode(b"\n") == []  # a lone LF: an empty line, nothing to dispatch
    assert decoder.decode(b"data: c\r") == []
    assert decoder.decode(b"\n") == []  # completes the CRLF, not a blank line
    assert decoder.decode(b"\r\n") == [ev("c")]


def test_decoder_initial_state() -> None:
    decoder = SSEDecoder()
    assert decoder.last_event_id == ""
    assert decoder.retry is None
    assert decoder.flush() == []
    assert decoder.decode(b"") == []


# --- Encoder.

ENCODE_CASES = [
    ("plain", ServerSentEvent("hello"), b"data: hello\n\n"),
    ("with_id", ServerSentEvent("hello", id="42"), b"id: 42\ndata: hello\n\n"),
    ("empty_id_written_to_reset", ServerSentEvent("x", id=""), b"id: \ndata: x\n\n"),
    ("with_event", ServerSentEvent("x", event="update"), b"event: update\ndata: x\n\n"),
    ("event_message_omitted", ServerSentEvent("x", event="message"), b"data: x\n\n"),
    ("event_empty_omitted", ServerSentEvent("x", event=""), b"data: x\n\n"),
    ("multiline_lf", ServerSentEvent("a\nb"), b"data: a\ndata: b\n\n"),
    ("multiline_cr", ServerSentEvent("a\rb"), b"data: a\ndata: b\n\n"),
    ("multiline_crlf", ServerSentEvent("a\r\nb"), b"data: a\ndata: b\n\n"),
    ("multiline_mixed", ServerSentEvent("a\r\n\rb\nc"), b"data: a\ndata: \ndata: b\ndata: c\n\n"),
    ("trailing_newline_kept", ServerSentEvent("a\n"), b"data: a\ndata: \n\n"),
    ("empty_data", ServerSentEvent(""), b"data: \n\n"),
    ("default_event", ServerSentEvent(), b"data: \n\n"),
    ("data_leading_space", ServerSentEvent(" x"), b"data:  x\n\n"),
    ("data_with_colon", ServerSentEvent('{"a": 1}'), b'data: {"a": 1}\n\n'),
    ("data_with_nul", ServerSentEvent("a\x00b"), b"data: a\x00b\n\n"),
    ("data_unicode_line_separator_not_split", ServerSentEvent("a\u2028b"), "data: a\u2028b\n\n"),
    ("korean", ServerSentEvent("안녕하세요", event="인사"), "event: 인사\ndata: 안녕하세요\n\n"),
    ("retry", ServerSentEvent("x", retry=3000), b"retry: 3000\ndata: x\n\n"),
    ("retry_zero", ServerSentEvent("x", retry=0), b"retry: 0\ndata: x\n\n"),
    (
        "all_fields_in_order",
        ServerSentEvent("a\nb", event="tick", id="7", retry=500),
        b"retry: 500\nid: 7\nevent: tick\ndata: a\ndata: b\n\n",
    ),
]


@pytest.mark.parametrize(
    ("event", "expected"),
    [(event, expected) for _, event, expected in ENCODE_CASES],
    ids=[name for name, _, _ in ENCODE_CASES],
)
def test_encode(event: ServerSentEvent, expected: bytes | str) -> None:
    if isinstance(expected, str):
        expected = expected.encode("utf-8")
    assert event.encode() == expected


REFUSAL_CASES = [
    ("event_with_lf", {"event": "a\nb"}, "event", "U+000A"),
    ("event_with_cr", {"event": "a\rb"}, "event", "U+000D"),
    ("event_with_crlf", {"event": "a\r\ndata: x"}, "event", "U+000D"),
    ("id_with_lf", {"id": "1\n"}, "id", "U+000A"),
    ("id_with_cr", {"id": "1\r2"}, "id", "U+000D"),
    ("id_with_nul", {"id": "1\x00"}, "id", "U+0000"),
    ("retry_negative", {"retry": -1}, "retry", "negative"),
    ("retry_bool_true", {"retry": True}, "retry", "bool"),
    ("retry_bool_false", {"retry": False}, "retry", "bool"),
    ("retry_float", {"retry": 1.5}, "retry", "float"),
    ("retry_str", {"retry": "100"}, "retry", "str"),
    ("data_not_str", {"data": b"x"}, "data", "bytes"),
]


@pytest.mark.parametrize(
    ("fields", "field", "detail"),
    [case[1:] for case in REFUSAL_CASES],
    ids=[case[0] for case in REFUSAL_CASES],
)
def test_encode_refuses(fields: dict, field: str, detail: str) -> None:
    with pytest.raises(SSEFieldError) as raised:
        ServerSentEvent(**{"data": "x", **fields}).encode()
    message = str(raised.value)
    assert f"'{field}' field" in message
    assert detail in message


def test_field_error_is_value_error() -> None:
    assert issubclass(SSEFieldError, ValueError)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", b":\n\n"),
        ("ping", b": ping\n\n"),
        ("a\nb", b": a\n: b\n\n"),
        ("a\r\nb\rc", b": a\n: b\n: c\n\n"),
        ("a\n\nb", b": a\n:\n: b\n\n"),
        ("a\n", b": a\n:\n\n"),
        ("안녕", ": 안녕\n\n".encode()),
    ],
    ids=["empty", "plain", "lf", "crlf_and_cr", "blank_line_inside", "trailing_newline", "korean"],
)
def test_encode_comment(text: str, expected: bytes) -> None:
    assert encode_comment(text) == expected
    # A comment block dispatches nothing and leaves the events around it alone.
    decoder = SSEDecoder()
    assert decoder.decode(expected) == []
    assert decoder.decode(b"id: 1\ndata: a\n\n" + expected + b"data: b\n\n") == [
        ev("a", id="1"),
        ev("b", id="1"),
    ]


def test_encode_comment_default() -> None:
    assert encode_comment() == b":\n\n"


@pytest.mark.parametrize(
    ("milliseconds", "expected"),
    [(3000, b"retry: 3000\n\n"), (0, b"retry: 0\n\n")],
    ids=["3000", "zero"],
)
def test_encode_retry(milliseconds: int, expected: bytes) -> None:
    assert encode_retry(milliseconds) == expected
    decoder = SSEDecoder()
    assert decoder.decode(expected) == []  # its own block, with no data: dispatches nothing
    assert decoder.retry == milliseconds


@pytest.mark.parametrize(
    ("milliseconds", "detail"),
    [(-5, "negative"), (True, "bool"), (2.5, "float"), ("3000", "str"), (None, "NoneType")],
    ids=["negative", "bool", "float", "str", "none"],
)
def test_encode_retry_refuses(milliseconds: object, detail: str) -> None:
    with pytest.raises(SSEFieldError, match="'retry' field") as raised:
        encode_retry(milliseconds)  # type: ignore[arg-type]
    assert detail in str(raised.value)


# --- Properties.

# Text biased towards the characters that matter to the framing.
_TRICKY = st.sampled_from(["\r", "\n", "\r\n", ":", " ", "\x00", "\ufeff", "data: ", "id: "])
_TEXT = st.lists(st.one_of(_TRICKY, st.text(max_size=5)), max_size=12).map("".join)
_EVENT_TYPES = _TEXT.map(lambda text: re.sub(r"[\r\n]", "", text))
_IDS = st.none() | _TEXT.map(lambda text: re.sub(r"[\r\n\x00]", "", text))
_RETRIES = st.none() | st.integers(min_value=0, max_value=10**15)


def _normalise_newlines(text: str) -> str:
    return re.sub(r"\r\n|\r", "\n", text)


def _decode_in_pieces(raw: bytes, cuts: list[int]) -> tuple[list[ServerSentEvent], SSEDecoder]:
    decoder = SSEDecoder()
    events: list[ServerSentEvent] = []
    bounds = [0, *sorted(cuts), len(raw)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        events.extend(decoder.decode(raw[start:end]))
    assert decoder.flush() == []
    return events, decoder


def _cuts(data: st.DataObject, raw: bytes) -> list[int]:
    return data.draw(st.lists(st.integers(0, len(raw)), max_size=20), label="cuts")


@settings(max_examples=300, deadline=None)
@given(text=_TEXT, event_type=_EVENT_TYPES, event_id=_IDS, retry=_RETRIES, data=st.data())
def test_round_trip(
    text: str, event_type: str, event_id: str | None, retry: int | None, data: st.DataObject
) -> None:
    raw = ServerSentEvent(text, event=event_type, id=event_id, retry=retry).encode()
    events, decoder = _decode_in_pieces(raw, _cuts(data, raw))
    expected_id = "" if event_id is None else event_id
    assert events == [ev(_normalise_newlines(text), event_type or "message", expected_id, retry)]
    assert decoder.last_event_id == expected_id
    assert decoder.retry == retry


# Fewer examples: each one is a whole batch of events, and the file should stay fast.
@settings(max_examples=100, deadline=None)
@given(batch=st.lists(st.tuples(_TEXT, _EVENT_TYPES, _IDS), max_size=4), data=st.data())
def test_round_trip_sequence_keeps_last_event_id(
    batch: list[tuple[str, str, str | None]], data: st.DataObject
) -> None:
    raw = b"".join(ServerSentEvent(t, event=e, id=i).encode() for t, e, i in batch)
    events, _ = _decode_in_pieces(raw, _cuts(data, raw))
    expected = []
    last_id = ""
    for text, event_type, event_id in batch:
        # An event without an id line carries the last id in force, as in a browser.
        last_id = last_id if event_id is None else event_id
        expected.append(ev(_normalise_newlines(text), event_type or "message", last_id))
    assert events == expected


_HOSTILE = st.lists(
    st.one_of(
        st.sampled_from(
            ["\ndata: x", "\nevent: evil", "\r", "\x00", "id: 9", "\n\n", "\r\n\r\n", "\nid: 9"]
        ),
        st.sampled_from(["\nretry: 1", ":", "\n:", "\ufeff", " "]),
        st.text(max_size=4),
    ),
    min_size=1,
    max_size=15,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    text=_HOSTILE,
    event_type=st.sampled_from(["message", "", "update"]),
    event_id=st.sampled_from([None, "", "1"]),
    data=st.data(),
)
def test_hostile_data_stays_one_event(
    text: str, event_type: str, event_id: str | None, data: st.DataObject
) -> None:
    raw = ServerSentEvent(text, event=event_type, id=event_id).encode()
    events, decoder = _decode_in_pieces(raw, _cuts(data, raw))
    assert len(events) == 1
    (event,) = events
    assert event.event == (event_type or "message")
    assert event.id == ("" if event_id is None else event_id)
    assert event.data == _normalise_newlines(text)
    assert decoder.retry is None


_STREAM_BYTES = st.lists(
    st.sampled_from(
        [
            b"data:", b"data: ", b"event:", b"id:", b"retry:", b"1", b"x", b":", b" ",
            b"\r", b"\n", b"\r\n", b"\x00", b"\xef\xbb\xbf", b"\xe2\x80", b"\xa6", b"\xff",
        ]
    ),
    max_size=40,
).map(b"".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(raw=_STREAM_BYTES, data=st.data())
def test_any_bytes_parse_the_same_however_chunked(raw: bytes, data: st.DataObject) -> None:
    whole, whole_decoder = _decode_in_pieces(raw, [])
    pieces, pieces_decoder = _decode_in_pieces(raw, _cuts(data, raw))
    assert pieces == whole
    assert pieces_decoder.last_event_id == whole_decoder.last_event_id
    assert pieces_decoder.retry == whole_decoder.retry


def test_an_event_is_a_value_that_cannot_change():
    import dataclasses

    event = ServerSentEvent(data="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.data = "y"  # type: ignore[misc]
