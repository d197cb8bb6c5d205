"""lab.sweep_plan: the cells a sweep runs, and refusals of settings it cannot run."""

from __future__ import annotations

import pytest

from lab.measurement import Cell
from lab.sweep_plan import BenchConfig, sized_window


def test_the_default_plan_is_every_transport_at_three_event_rates():
    names = [cell.name for cell in BenchConfig().plan()]
    assert names == [
        "short_polling-u100-r0.2-i1",
        "short_polling-u100-r1-i1",
        "short_polling-u100-r5-i1",
        "long_polling-u100-r0.2",
        "long_polling-u100-r1",
        "long_polling-u100-r5",
        "sse-u100-r0.2",
        "sse-u100-r1",
        "sse-u100-r5",
        "websocket-u100-r0.2",
        "websocket-u100-r1",
        "websocket-u100-r5",
        # through a drop every 5 s, at the middle rate
        "sse-u100-r1-drop5",
        "websocket-u100-r1-drop5",
        "websocket-u100-r1-drop5-noresume",
    ]
    assert {cell.arrivals for cell in BenchConfig().plan()} == {"poisson"}


def test_repeats_round_trips_and_an_interval_sweep_each_make_their_own_cells():
    config = BenchConfig(
        transports=("short_polling", "sse"),
        users=(10,),
        rates=(1.0,),
        rtts_ms=(0.0, 50.0),
        interval_sweep=(1.0, 5.0),
        repeat=2,
    )
    assert [cell.name for cell in config.plan()] == [
        "short_polling-u10-r1-i1",
        "sse-u10-r1",
        "short_polling-u10-r1-i1-rtt50",
        "sse-u10-r1-rtt50",
        "short_polling-u100-r1-i5",
        "short_polling-u10-r1-i1-n2",
        "sse-u10-r1-n2",
        "short_polling-u10-r1-i1-rtt50-n2",
        "sse-u10-r1-rtt50-n2",
        "short_polling-u100-r1-i5-n2",
    ]


def test_the_interval_sweep_runs_at_the_middle_rate():
    config = BenchConfig(
        transports=("short_polling",), rates=(0.2, 1.0, 5.0), interval_sweep=(5.0,)
    )
    assert config.plan()[-1].rate == 1.0 and config.plan()[-1].interval_s == 5.0


def test_a_quick_plan():
    config = BenchConfig()
    config.make_quick()
    assert [(c.transport, c.users, c.rate) for c in config.plan()] == [
        ("short_polling", 20, 2.0),
        ("long_polling", 20, 2.0),
        ("sse", 20, 2.0),
        ("websocket", 20, 2.0),
    ]
    assert config.duration_s == 5.0 and config.interval_sweep == ()


def test_the_reference_plan():
    cells = BenchConfig(preset="reference").plan()
    assert len(cells) == 55 and len({c.name for c in cells}) == 55
    assert sum(c.repeat == 3 for c in cells) == 12
    assert {c.rtt_ms for c in cells} == {0.0, 50.0, 200.0}
    assert {c.users for c in cells} == {10, 100, 1000}


def test_cells_carry_only_their_transport_s_settings():
    config = BenchConfig(transports=("long_polling", "sse"), users=(7,), rates=(1.0,), timeout_s=10)
    long_polling, sse = config.plan()
    assert (long_polling.timeout_s, long_polling.interval_s) == (10, None)
    assert (sse.timeout_s, sse.interval_s) == (None, None)


@pytest.mark.parametrize(
    ("values", "words"),
    [
        ({"rates": (1.0, 0.0)}, "--rate"),
        ({"users": (10, 0)}, "--users"),
        ({"duration_s": 0}, "--duration"),
        ({"interval_s": -1}, "--interval"),
        ({"timeout_s": 500}, "--timeout"),
        ({"interval_sweep": (0.0,)}, "--interval-sweep"),
        ({"rtts_ms": (-1.0,)}, "--rtt"),
        ({"repeat": 0}, "--repeat"),
        ({"workers": (1, 0)}, "--workers must all be from 1 to 64"),
        ({"broker": "memcached"}, "--broker takes 'redis'"),
        ({"expect_workers": -1}, "--expect-workers must be 0 or more"),
        ({"server_host": "0.0.0.0"}, "--server-host must be an address the load machines"),
        ({"server_host": "10.0.0.5", "rtts_ms": (50.0,)}, "leave out --via and --rtt"),
        ({"chat": True, "vias": ("nginx:passthrough",)}, "--chat runs on loopback"),
        ({"chat": True, "rtts_ms": (50.0,)}, "--chat runs on loopback"),
        ({"chat": True, "preset": "reference"}, "--chat and --preset"),
    ],
)
def test_settings_that_cannot_run_are_named(values, words):
    assert any(words in problem for problem in BenchConfig(**values).problems())


def test_spawn_rate_and_processes():
    config = BenchConfig()
    assert config.spawn_rate_for(10) == 10.0 and config.spawn_rate_for(1000) == 500.0
    assert BenchConfig(processes="3").processes_for(config.plan()[0]) == 3


def test_each_via_runs_every_cell_and_short_timeout_adds_the_idle_cells():
    config = BenchConfig(
        transports=("long_polling", "sse"),
        users=(20,),
        rates=(2.0,),
        duration_s=5.0,
        vias=("direct", "nginx:buffered", "nginx:short-timeout"),
    )
    cells = config.plan()
    assert [(c.name, config.window_for(c)) for c in cells] == [
        ("long_polling-u20-r2", 5.0),
        ("sse-u20-r2", 5.0),
        ("long_polling-u20-r2-nginx-buffered", 5.0),
        # A 4 KB buffer takes about 15 s to fill at 2 events/s: a 5 s window shows nothing.
        ("sse-u20-r2-nginx-buffered", 40.0),
        ("long_polling-u20-r2-nginx-short-timeout", 5.0),
        ("sse-u20-r2-nginx-short-timeout", 5.0),
        ("sse-u20-r0.0666667-hb15-nginx-short-timeout", 30.0),
        ("sse-u20-r0.0666667-hb5-nginx-short-timeout", 30.0),
        ("long_polling-u20-r0.0666667-nginx-short-timeout", 30.0),
        ("long_polling-u20-r0.0666667-t5-nginx-short-timeout", 30.0),
    ]
    idle = cells[-4:]
    assert {c.arrivals for c in idle} == {"fixed"}
    assert [c.heartbeat_s for c in idle] == [15.0, 5.0, None, None]
    assert [c.timeout_s for c in idle] == [None, None, 25.0, 5.0]


@pytest.mark.parametrize(
    ("vias", "words"),
    [
        (("nginx:nope",), "is not one of: direct, nginx:passthrough"),
        (("proxy",), "'direct' means no proxy"),
    ],
)
def test_vias_that_cannot_be_benched_are_named(vias, words):
    assert any(words in problem for problem in BenchConfig(vias=vias).problems())


def test_http2_is_left_to_a_browser_not_to_the_load_generator():
    config = BenchConfig(transports=("sse",), users=(20,), rates=(2.0,), vias=("nginx:http2",))
    assert config.plan() == []
    assert config.browser_vias == ("direct", "nginx:http2")
    assert BenchConfig(vias=("direct", "nginx:gzip")).browser_vias == ()


def test_a_chat_plan_is_each_transport_at_each_user_count():
    config = BenchConfig(chat=True, users=(1, 10, 100), repeat=2)
    cells = config.plan()
    assert [(c.transport, c.users, c.repeat) for c in cells[:3]] == [
        ("short_polling", 1, 1),
        ("short_polling", 10, 1),
        ("short_polling", 100, 1),
    ]
    assert len(cells) == 18 and len({c.name for c in cells}) == 18
    assert {c.workload for c in cells} == {"chat"}
    assert {c.rate for c in cells} == {20.0}  # the model's tokens per second
    assert cells[0].name == "chat-short_polling-u1-i1"
    assert cells[-1].name == "chat-sse-u100-n2"
    assert {c.interval_s for c in cells if c.transport != "short_polling"} == {None}
    assert {c.timeout_s for c in cells} == {None}


def test_a_quick_chat_plan():
    config = BenchConfig(chat=True)
    config.make_quick()
    assert [(c.transport, c.users) for c in config.plan()] == [
        ("short_polling", 10),
        ("long_polling", 10),
        ("sse", 10),
    ]


def test_a_sweep_with_websocket_adds_three_drop_cells_at_the_middle_point():
    cells = BenchConfig(users=(10, 100, 1000), rates=(1.0,)).plan()
    drops = [c for c in cells if c.drop_every_s is not None]
    assert [c.name for c in drops] == [
        "sse-u100-r1-drop5",
        "websocket-u100-r1-drop5",
        "websocket-u100-r1-drop5-noresume",
    ]
    assert not BenchConfig(transports=("sse",)).plan()[-1].drop_every_s
    # A window that holds fewer than two drops has none.
    assert not any(c.drop_every_s for c in BenchConfig(duration_s=9.0).plan())


@pytest.mark.parametrize(
    ("cell", "window"),
    [
        # five events expected, ten seconds at least
        (Cell("long_polling", 100, 0.2), 25.0),
        (Cell("sse", 100, 1.0), 10.0),
        (Cell("websocket", 100, 5.0), 10.0),
        (Cell("sse", 100, 0.05), 100.0),
        # ten poll intervals at least
        (Cell("short_polling", 100, 1.0, interval_s=1.0), 10.0),
        (Cell("short_polling", 100, 1.0, interval_s=5.0), 50.0),
        (Cell("short_polling", 100, 0.2, interval_s=0.5), 25.0),
        # four drops and the reconnection after the last
        (Cell("sse", 100, 1.0, drop_every_s=5.0), 25.0),
        # several answers per chat user
        (Cell("sse", 10, 20.0, workload="chat"), 30.0),
    ],
)
def test_a_window_is_sized_for_what_its_cell_must_show(cell, window):
    assert sized_window(cell) == window


def test_a_given_duration_or_a_cell_s_own_window_wins_over_the_sized_one():
    cell = Cell("sse", 100, 0.2)
    assert BenchConfig().window_for(cell) == 25.0
    assert BenchConfig(duration_s=7.0).window_for(cell) == 7.0
    assert BenchConfig(duration_s=7.0).window_for(Cell("sse", 100, 0.2, window_s=40.0)) == 40.0


def test_the_default_sweep_s_windows_fit_in_a_few_minutes():
    config = BenchConfig()
    windows = [config.window_for(c) for c in config.plan()]
    assert windows == [25.0, 10.0, 10.0] * 4 + [25.0] * 3
    # Under six minutes with the report: a little under five for the cells.
    assert sum(config.cell_seconds(c) for c in config.plan()) < 5 * 60


def test_the_reference_plan_keeps_its_own_window():
    config = BenchConfig(preset="reference")
    assert {config.window_for(c) for c in config.plan()} == {30.0}
    longer = BenchConfig(preset="reference", duration_s=60.0)
    assert {longer.window_for(c) for c in longer.plan()} == {60.0}


def test_each_worker_count_is_a_cell_of_its_own():
    config = BenchConfig(transports=("sse", "short_polling"), users=(100,), rates=(1.0,))
    config.workers = (1, 2)
    names = [cell.name for cell in config.plan()]
    assert names == [
        "sse-u100-r1",
        "short_polling-u100-r1-i1",
        "sse-u100-r1-w2-redis",
        "short_polling-u100-r1-i1-w2-redis",
    ]
    config.broker = "redis"  # Redis in the path for one worker too, to price it
    assert [(c.workers, c.broker) for c in config.plan()][::2] == [(1, "redis"), (2, "redis")]


def test_a_worker_cell_starts_its_server_with_workers_and_a_broker():
    from lab.cell_servers import server_args

    args = server_args(Cell("sse", 100, 1.0, workers=2, broker="redis"))
    assert args[args.index("--workers") + 1] == "2"
    assert args[args.index("--broker") + 1] == "redis"
    assert "--workers" not in server_args(Cell("sse", 100, 1.0))
    assert server_args(Cell("sse", 100, 1.0), "10.0.0.5", "-t0k")[-1] == "--token=-t0k"


# --- several servers (lab bench --servers) -------------------------------------------------


def test_peers_get_the_cells_of_the_transports_they_serve_and_one_worker():
    config = BenchConfig(
        servers=("lab", "fastapi"), users=(10,), rates=(1.0,), workers=(1, 2), interval_sweep=()
    )
    cells = config.plan()
    on_fastapi = [c for c in cells if c.server == "fastapi"]
    assert {c.transport for c in on_fastapi} == {"short_polling", "long_polling", "sse"}
    assert {c.workers for c in on_fastapi} == {1}
    assert all(c.drop_every_s is None for c in on_fastapi)
    assert {c.workers for c in cells if c.server == "lab"} == {1, 2}
    assert all(c.name.endswith("-fastapi") for c in on_fastapi)
    assert len({c.name for c in cells}) == len(cells)


def test_without_the_lab_only_the_peers_cells_run():
    cells = BenchConfig(servers=("flask-threaded",), users=(5,), rates=(1.0,)).plan()
    assert cells and {c.server for c in cells} == {"flask-threaded"}


def test_the_peers_preset_runs_sse_on_every_server_and_can_be_narrowed():
    from lab.peers import SERVERS
    from lab.sweep_presets import PEERS_USERS

    cells = BenchConfig(preset="peers").plan()
    assert {c.server for c in cells} == set(SERVERS)
    assert {c.transport for c in cells} == {"sse"}
    assert sorted({c.users for c in cells}) == sorted(PEERS_USERS)
    narrowed = BenchConfig(preset="peers", servers=("lab", "fastapi"), users=(50,)).plan()
    assert [(c.server, c.users) for c in narrowed] == [("lab", 50), ("fastapi", 50)]


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        ({"servers": ("fastapi",), "transports": ("websocket",)}, "the peers serve"),
        ({"servers": ("lab", "fastapi"), "chat": True}, "--chat runs on the lab's server"),
        ({"servers": ("fastapi",), "server_host": "10.0.0.2"}, "the peers run on loopback"),
        ({"server_cpus": "x"}, "--server-cpus takes CPU numbers"),
        ({"server_cpus": "-1"}, "--server-cpus takes CPU numbers of 0 or more"),
        ({"server_cpus": "9999"}, "this machine offers CPUs"),
    ],
)
def test_settings_the_servers_cannot_run_are_refused_in_a_sentence(settings, says):
    problems = BenchConfig(**settings).problems()
    assert any(says in p for p in problems), problems


def test_servers_are_pinned_only_when_several_are_compared_on_two_cores_or_more():
    import os

    cpus = sorted(os.sched_getaffinity(0))
    config = BenchConfig()
    assert config.pinned_cpus({"lab"}) is None
    if len(cpus) >= 2:
        assert config.pinned_cpus({"lab", "fastapi"}) == ({cpus[0]}, set(cpus[1:]))
        assert BenchConfig(server_cpus=str(cpus[-1])).pinned_cpus({"lab"}) == (
            {cpus[-1]},
            set(cpus[:-1]),
        )
    assert BenchConfig(server_cpus="none").pinned_cpus({"lab", "fastapi"}) is None


def test_a_peers_cell_starts_lab_peer_with_the_cells_source():
    from lab.cell_servers import server_args

    cell = Cell("sse", 10, 2.0, arrivals="poisson", payload_pad_bytes=64, server="django-asgi")
    assert server_args(cell) == [
        "django-asgi",
        "--host=127.0.0.1",
        "--port=0",
        "--rate=2",
        "--arrivals=poisson",
        "--payload-bytes=64",
    ]


def test_cells_that_differ_only_in_users_or_repeat_are_the_same_but_for_users():
    a = Cell("sse", 10, 2.0, server="fastapi")
    assert a.same_but_users() == Cell("sse", 99, 2.0, server="fastapi", repeat=2).same_but_users()
    assert a.same_but_users() != Cell("sse", 10, 2.0, server="lab").same_but_users()
    assert a.same_but_users() != Cell("sse", 10, 1.0, server="fastapi").same_but_users()
