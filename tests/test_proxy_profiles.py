"""The nginx profiles, their generated configuration and nginx's access log: pure code."""

from __future__ import annotations

from pathlib import Path

import pytest

from lab.proxy.access_log import Response, parse_line, responses_between
from lab.proxy.nginx import render_config
from lab.proxy.profiles import PROFILES, VIA_CHOICES, parse_via


@pytest.mark.parametrize(
    ("via", "expected"),
    [
        ("direct", None),
        ("nginx:passthrough", "passthrough"),
        ("nginx:short-timeout", "short-timeout"),
        ("nginx:http2", "http2"),
    ],
)
def test_parse_via_names_a_profile_or_none(via, expected):
    profile = parse_via(via)
    assert (profile.name if profile else None) == expected


@pytest.mark.parametrize("via", ["nginx", "nginx:", "nginx:fast", "passthrough", "apache:gzip"])
def test_parse_via_refuses_anything_else_with_the_choices(via):
    with pytest.raises(ValueError) as refused:
        parse_via(via)
    assert all(choice in str(refused.value) for choice in VIA_CHOICES)


# (profile, directives its location must hold, directives it must not)
PROFILE_DIRECTIVES = [
    ("passthrough", ["proxy_buffering off;", "proxy_http_version 1.1;"], ["gzip on;"]),
    ("buffered", ["proxy_ignore_headers X-Accel-Buffering;"], ["proxy_buffering off;"]),
    ("honours-header", [], ["proxy_buffering", "proxy_ignore_headers", "proxy_http_version"]),
    ("short-timeout", ["proxy_read_timeout 10s;", "proxy_buffering off;"], []),
    ("gzip", ["gzip on;", "gzip_types text/event-stream;", "proxy_buffering off;"], []),
    ("http2", ["proxy_buffering off;"], ["gzip"]),
]


@pytest.mark.parametrize(("name", "present", "absent"), PROFILE_DIRECTIVES)
def test_each_profile_differs_in_its_own_setting(name, present, absent):
    block = PROFILES[name].location_block()
    directives = "\n".join(line.partition("#")[0] for line in block.splitlines())
    assert "proxy_pass http://lab;" in block
    assert "proxy_set_header Host $http_host;" in block
    for directive in present:
        assert directive in directives
    for directive in absent:
        assert directive not in directives


def test_the_profiles_cover_every_via_choice():
    assert [f"nginx:{name}" for name in PROFILES] == list(VIA_CHOICES[1:])


def test_the_config_keeps_everything_in_its_folder(tmp_path):
    config = render_config(PROFILES["buffered"], tmp_path, ("127.0.0.1", 8123), ("127.0.0.1", 9))
    assert "listen 127.0.0.1:8123;" in config
    assert "server 127.0.0.1:9;" in config
    for line in config.splitlines():
        if line.strip().startswith(("pid ", "error_log ", "access_log ", "client_body_temp")):
            assert str(tmp_path) in line, line
    assert "daemon off;" in config


def test_the_http2_config_listens_with_tls(tmp_path):
    certificate = (tmp_path / "c.pem", tmp_path / "k.pem")
    config = render_config(
        PROFILES["http2"], tmp_path, ("127.0.0.1", 8443), ("127.0.0.1", 9), certificate
    )
    assert "listen 127.0.0.1:8443 ssl http2;" in config
    assert f"ssl_certificate {certificate[0]};" in config
    with pytest.raises(ValueError):
        render_config(PROFILES["http2"], tmp_path, ("127.0.0.1", 1), ("127.0.0.1", 9))


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            '1795446289.086 504 10.068 345 504 "GET /longpoll?since=4 HTTP/1.1" HTTP/1.1',
            Response(1795446289.086, 504, 345, "/longpoll?since=4"),
        ),
        (
            '1795446069.181 200 0.002 1250 200 "GET /metrics HTTP/2.0" HTTP/2.0',
            Response(1795446069.181, 200, 1250, "/metrics"),
        ),
        (
            '1795446289.086 499 10.068 0 - "GET /sse HTTP/1.1" HTTP/1.1',
            Response(1795446289.086, 499, 0, "/sse"),
        ),
        ("not a line of ours", None),
        ('x 200 0.1 12 200 "GET / HTTP/1.1" HTTP/1.1', None),
    ],
)
def test_access_log_lines(line, expected):
    assert parse_line(line) == expected


def test_responses_between_keeps_the_window_and_the_path(tmp_path: Path):
    log = tmp_path / "access.log"
    log.write_text(
        '99.0 504 1 300 504 "GET /longpoll?since=1 HTTP/1.1" HTTP/1.1\n'
        '100.5 504 1 300 504 "GET /longpoll?since=1 HTTP/1.1" HTTP/1.1\n'
        '101.0 200 1 400 200 "GET /poll?since=1 HTTP/1.1" HTTP/1.1\n'
        '111.0 200 1 400 200 "GET /longpoll?since=2 HTTP/1.1" HTTP/1.1\n'
    )
    found = responses_between(log, 100.0, 110.0, "/longpoll")
    assert [(r.ended_at, r.status) for r in found] == [(100.5, 504)]
    assert responses_between(tmp_path / "none.log", 0, 1e12) == []
