"""lab.request_head against pywsgi's own header reader (the email parser): the same message
for plain heads and for odd ones alike."""

from __future__ import annotations

import io

import pytest
from gevent import pywsgi

from lab.request_head import LINE_TOO_LONG, MAX_HEADERS, MAX_LINE, read_head

HEADS = [
    b"Host: 127.0.0.1\r\n\r\n",
    b"Host: a\r\nAccept:  */* \t\r\n\r\n",  # blanks after the colon go, trailing ones stay
    b"Host: a\nX: b\n\n",  # bare LF line ends
    b"X:\r\n\r\n",  # an empty value
    b"Content-Length: 1\r\nContent-Length: 2\r\n\r\n",  # repeated names stay apart
    b"X: \xe9\xff\r\n\r\n",  # bytes above ASCII, read as Latin-1
    b"Host: a\r\n",  # the input ends before the blank line
    b"\r\n",
    b"",
    b"Host: a\r\nHost: b\r\n\r\nGET /next HTTP/1.1\r\n",  # a pipelined request after it
    # Lines only the full parser reads, each its own way:
    b"Host: a\r\n  folded\r\n\r\n",
    b"A\rB: c\r\n\r\n",
    b"NoColon\r\nHost: x\r\n\r\n",
    b": no name\r\n\r\n",
    b"From someone\r\nHost: y\r\n\r\n",
    b"X\t: y\r\n\r\n",
    b"X :y\r\n\r\n",
    b"X: a\rb\r\n\r\n",
]


def described(message) -> tuple:
    return (
        message.status,
        message.items(),
        list(message.headers),
        message.get_payload(),
        [type(defect) for defect in message.defects],
    )


@pytest.mark.parametrize("head", HEADS)
def test_the_same_message_as_pywsgis_reader(head):
    expected_input, given_input = io.BytesIO(head), io.BytesIO(head)
    expected = pywsgi.headers_factory(expected_input, 0)
    given = read_head(given_input, pywsgi.OldMessage)
    assert described(given) == described(expected)
    assert given_input.tell() == expected_input.tell(), "it reads no further than the head"


def test_a_line_over_the_limit_is_marked_as_pywsgi_marks_it():
    head = b"X: " + b"a" * MAX_LINE + b"\r\n\r\n"
    assert read_head(io.BytesIO(head), pywsgi.OldMessage).status == LINE_TOO_LONG
    assert pywsgi.headers_factory(io.BytesIO(head), 0).status == LINE_TOO_LONG


def test_too_many_lines_are_refused():
    head = b"X: y\r\n" * (MAX_HEADERS + 1) + b"\r\n"
    with pytest.raises(Exception, match=f"more than {MAX_HEADERS} headers"):
        read_head(io.BytesIO(head), pywsgi.OldMessage)
