"""Long polling: each user asks GET /longpoll?since=<cursor> again as soon as it is answered.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/long_polling.py --host http://127.0.0.1:8000
    locust -f scenarios/long_polling.py --host http://127.0.0.1:8000 --headless \\
        -u 100 -r 20 --run-time 1m --longpoll-timeout 25

Each user starts live (one GET /poll learns the cursor), then loops: the server holds the
request until an event is published (200) or the timeout passes (204). Every event's delivery
latency is an "EVENT long_polling" entry; gaps or repeats are "long_polling sequence" failures.
All waiting users wake on the same event and ask again at once: that herd is part of the
transport, not an artefact.
"""

from __future__ import annotations

from locust import constant, task
from polling_user import PollingUser


class LongPollingUser(PollingUser):
    transport = "long_polling"
    wait_time = constant(0)
    network_timeout = 130.0  # above the server's longest allowed hold

    def on_start(self) -> None:
        super().on_start()
        self.timeout = self.environment.parsed_options.longpoll_timeout

    def request_path(self) -> str:
        return f"/longpoll?since={self.cursor}&epoch={self.epoch}&timeout={self.timeout:g}"

    def entry_name(self) -> str:
        return "/longpoll"

    @task
    def longpoll(self) -> None:
        self.poll_once()
