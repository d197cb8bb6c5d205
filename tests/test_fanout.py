"""lab.fanout on real sockets (socket pairs): one chunk per batch, the same bytes to every
parked stream, exact counters, and a slow reader handed back with the rest of its chunk."""

from __future__ import annotations

import socket
import time

import gevent
import gevent.socket
import pytest

from lab.event_source import EventSource
from lab.fanout import Fanout, ParkedStream
from lab.held import HeldRequests
from lab.http_chunks import ChunkedDecoder, encode_chunk
from lab.metrics import TransportCounters


def read_available(client) -> bytes:
    """What the client can read now, without waiting."""
    data = b""
    while True:
        try:
            chunk = client._sock.recv(1 << 20)
        except BlockingIOError:
            return data
        if not chunk:
            return data
        data += chunk


@pytest.fixture
def park():
    """A fan-out over a source, and a way to park streams on fresh socket pairs."""
    source = EventSource(epoch="e")
    counters = TransportCounters()
    fanout = Fanout(source, counters, max_batch=100, write_timeout=2)
    held = HeldRequests(limit=1000)
    made = []

    def stream(send_buffer: int | None = None):
        # gevent's sockets, so that a reader and the fan-out can take turns in one thread.
        server_side, client_side = gevent.socket.socketpair()
        client_side.settimeout(10)
        if send_buffer is not None:
            server_side.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, send_buffer)
            client_side.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, send_buffer)
        holding = held.hold({})
        parked = ParkedStream(holding.__enter__(), server_side._sock, source.last_id)
        fanout.park(parked)
        made.append((server_side, client_side, holding))
        return parked, client_side, server_side

    yield source, counters, fanout, stream
    for server_side, client_side, holding in made:
        holding.__exit__(None, None, None)
        server_side.close()
        client_side.close()


def test_one_batch_is_one_chunk_with_the_same_bytes_for_every_stream(park):
    source, counters, fanout, stream = park
    streams = [stream() for _ in range(3)]
    events = [source.publish("tick", i) for i in range(2)]
    fanout.deliver(events)
    chunk = encode_chunk(events[0].sse_bytes + events[1].sse_bytes)
    for parked, client, _server_side in streams:
        assert read_available(client) == chunk
        assert parked.cursor == 2 and parked.parked
    assert counters.events_sent == 2 * 3
    assert counters.bytes_out == 3 * len(chunk)


def test_a_stream_behind_the_batch_is_handed_back_to_catch_up(park):
    source, counters, fanout, stream = park
    behind, client, _ = stream()
    source.publish("tick", 0)
    second = source.publish("tick", 1)
    fanout.deliver([second])  # the stream still needs event 1 first
    assert not behind.parked and read_available(client) == b""
    assert counters.events_sent == 0 and counters.bytes_out == 0


def test_a_stream_already_past_the_batch_is_left_alone(park):
    source, counters, fanout, stream = park
    ahead, client, _ = stream()
    event = source.publish("tick", 0)
    ahead.cursor = event.id
    fanout.deliver([event])
    assert ahead.parked and read_available(client) == b"" and counters.events_sent == 0


def test_a_slow_reader_keeps_what_did_not_fit_and_it_is_all_counted(park):
    source, counters, fanout, stream = park
    slow, client, server_side = stream(send_buffer=4096)
    event = source.publish("tick", "x" * 200_000)
    fanout.deliver([event])
    chunk = encode_chunk(event.sse_bytes)
    assert not slow.parked and slow.pending, "handed back with the rest of the chunk"
    sent_by_fanout = counters.bytes_out
    assert 0 < sent_by_fanout < len(chunk)
    assert len(slow.pending) == len(chunk) - sent_by_fanout
    # The stream's own greenlet finishes the chunk while the client reads.
    received = bytearray()

    def reader() -> None:
        while len(received) < len(chunk):
            received.extend(client.recv(65536))

    reading = gevent.spawn(reader)
    cursor, _last = fanout.wait_parked(slow, slow.cursor, 0.0, 0.001, server_side)
    reading.join(timeout=10)
    assert bytes(received) == chunk
    assert counters.bytes_out == len(chunk) and counters.events_sent == 1
    assert cursor == event.id


def test_the_fan_out_greenlet_delivers_each_publish(park):
    source, counters, fanout, stream = park
    streams = [stream() for _ in range(2)]
    fanout.start()
    try:
        for i in range(5):
            source.publish("tick", i)
            gevent.sleep(0.01)
    finally:
        fanout.stop()
    decoded = []
    for _parked, client, _server_side in streams:
        payload = ChunkedDecoder().decode(read_available(client))
        decoded.append(payload.count(b"\n\n"))
    assert decoded == [5, 5] and counters.events_sent == 10


def test_a_parked_stream_sleeps_until_its_heartbeat_is_due(park):
    source, _counters, fanout, stream = park
    parked, _client, server_side = stream()
    fanout.unpark(parked)
    started = time.monotonic()
    fanout.wait_parked(parked, parked.cursor, started, 0.5, server_side)
    assert time.monotonic() - started >= 0.45  # a heartbeat 0.5 s after the last write


def test_after_stop_the_fan_out_writes_nothing(park):
    source, counters, fanout, stream = park
    _parked, client, _ = stream()
    fanout.start()
    fanout.stop()
    source.publish("tick", 1)
    gevent.sleep(0.05)
    assert read_available(client) == b"" and counters.events_sent == 0


def test_a_socket_that_takes_nothing_keeps_the_whole_chunk_for_later(park):
    source, counters, fanout, stream = park
    full, _client, server_side = stream(send_buffer=4096)
    try:
        while True:
            server_side._sock.send(b"x" * 65536)  # fill the buffers: the next send blocks
    except BlockingIOError:
        pass
    event = source.publish("tick", "y" * 100)
    fanout.deliver([event])
    assert full.pending == encode_chunk(event.sse_bytes) and counters.bytes_out == 0


def test_the_fan_out_lets_other_greenlets_run_every_few_hundred_writes(park):
    from lab.fanout import YIELD_EVERY

    source, counters, fanout, stream = park
    for _ in range(YIELD_EVERY + 50):
        stream()
    seen = []
    gevent.spawn(lambda: seen.append(counters.events_sent))
    fanout.deliver([source.publish("tick", 1)])
    assert seen == [YIELD_EVERY], "another greenlet ran once the first batch of writes was done"


def test_a_stream_written_to_sleeps_on_until_its_own_heartbeat_is_due(park):
    source, _counters, fanout, stream = park
    parked, _client, server_side = stream()
    fanout.unpark(parked)
    seen = []

    def publish_then_look() -> None:
        gevent.sleep(0.2)
        fanout.deliver([source.publish("tick", 1)])  # the heartbeat is now due at 0.5 s
        gevent.sleep(0.15)  # past the stream's first timer, at 0.3 s
        seen.append(parked.parked)

    helper = gevent.spawn(publish_then_look)
    started = time.monotonic()
    cursor, _last = fanout.wait_parked(parked, parked.cursor, started, 0.3, server_side)
    helper.join(timeout=5)
    assert seen == [True], "still parked after its first timer: the write moved its heartbeat"
    assert time.monotonic() - started >= 0.45 and cursor == 1
