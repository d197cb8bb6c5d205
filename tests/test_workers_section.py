"""lab.workers_section: the report's cells with workers and Redis, against one process."""

from __future__ import annotations

from dataclasses import replace

from rows import summary

from lab.workers_section import workers_section


def test_no_section_when_every_cell_ran_on_one_process():
    assert workers_section([summary("sse", 100)]) == []


def test_each_cell_with_workers_or_redis_is_priced_against_the_single_process():
    single = summary("sse", 100, server_cpu_us_per_event=10.0)
    redis = replace(
        single, cell="sse-u100-r1-w1-redis", broker="redis", server_cpu_us_per_event=11.0
    )
    two = replace(single, cell="sse-u100-r1-w2-redis", workers=2, broker="redis",
                  server_cpu_us_per_event=20.0)  # fmt: skip
    text = "\n".join(workers_section([single, redis, two]))
    assert "## Workers and Redis" in text
    assert "1 worker through Redis: 11.0 µs of server CPU per event against 10.0 µs" in text
    assert "on one process (1.10×)" in text
    assert "2 workers through Redis: 20.0 µs of server CPU per event against 10.0 µs" in text
    assert "(2.00×)" in text
    assert text.count("| SSE |") == 3
