"""Short polling: each user asks GET /poll?since=<cursor> every --poll-interval seconds.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/short_polling.py --host http://127.0.0.1:8000
    locust -f scenarios/short_polling.py --host http://127.0.0.1:8000 --headless \
        -u 100 -r 20 --run-time 1m --poll-interval 1

Each user starts live (its first request only learns the cursor), polls on a fixed schedule
with a random phase, and records every event's delivery latency as an "EVENT short_polling"
entry. Gaps or repeats in the ids are failures under "short_polling sequence".
"""

from __future__ import annotations

import random
import time

import gevent
from client_measurement import DeliveryRecorder, back_off, learn_cursor, now, take_batch
from locust import FastHttpUser, task

TRANSPORT = "short_polling"


class ShortPollingUser(FastHttpUser):
    network_timeout = 30.0

    def on_start(self) -> None:
        self.interval = self.environment.parsed_options.poll_interval
        self.recorder = DeliveryRecorder(self.environment, TRANSPORT)
        self.cursor = None
        self.epoch = ""
        # A random phase, so users' polls are spread over the interval as real clients' are.
        self.next_at = time.monotonic() + random.uniform(0, self.interval)

    @task
    def poll(self) -> None:
        if self.cursor is None:
            self.cursor, self.epoch = learn_cursor(self.client, self.recorder)
            return
        delay = self.next_at - time.monotonic()
        if delay > 0:
            gevent.sleep(delay)
        self.next_at += self.interval
        if self.next_at < time.monotonic():
            self.next_at = time.monotonic() + self.interval  # fell behind: do not burst
        response = self.client.get(f"/poll?since={self.cursor}&epoch={self.epoch}", name="/poll")
        received_at = now()
        if response.status_code != 200:
            if response.status_code == 400:
                self.cursor = None  # the server restarted: start live again
            back_off(response)
            return
        body = response.content
        self.recorder.received_bytes(len(body))
        self.cursor = take_batch(response.json(), self.recorder, received_at)
