"""Short polling: each user asks GET /poll?since=<cursor> every --poll-interval seconds.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/short_polling.py --host http://127.0.0.1:8000
    locust -f scenarios/short_polling.py --host http://127.0.0.1:8000 --headless \\
        -u 100 -r 20 --run-time 1m --poll-interval 1

Each user starts live (its first request only learns the cursor), polls on a schedule with a
random phase and a jitter of up to a tenth of the interval each time, and records every
event's delivery latency as an "EVENT short_polling" entry. Gaps or repeats in the ids are
failures under "short_polling sequence".

The phase and the jitter keep a poller from locking onto evenly spaced events: a client that
polls every 1 s exactly, against a ticker firing every 1 s exactly, always finds the event
the same fraction of a second old, and its latency says nothing about polling.
"""

from __future__ import annotations

import random
import time

import gevent
from locust import task
from polling_user import PollingUser

JITTER = 0.1
"""Each gap between two polls is the interval times a random factor in [0.9, 1.1]: on
average the interval, never in step with the events for long."""


class ShortPollingUser(PollingUser):
    transport = "short_polling"
    network_timeout = 30.0

    def on_start(self) -> None:
        super().on_start()
        self.interval = self.environment.parsed_options.poll_interval
        # A random phase, so users' polls are spread over the interval as real clients' are.
        self.next_at = time.monotonic() + random.uniform(0, self.interval)

    def request_path(self) -> str:
        return f"/poll?since={self.cursor}&epoch={self.epoch}"

    def entry_name(self) -> str:
        return "/poll"

    @task
    def poll(self) -> None:
        if self.cursor is not None:
            delay = self.next_at - time.monotonic()
            if delay > 0:
                gevent.sleep(delay)
            self.next_at += self.interval * random.uniform(1 - JITTER, 1 + JITTER)
            if self.next_at < time.monotonic():
                self.next_at = time.monotonic() + self.interval  # fell behind: do not burst
        self.poll_once()
