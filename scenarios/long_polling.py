"""Long polling: each user asks GET /longpoll?since=<cursor> again as soon as it is answered.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/long_polling.py --host http://127.0.0.1:8000
    locust -f scenarios/long_polling.py --host http://127.0.0.1:8000 --headless \
        -u 100 -r 20 --run-time 1m --longpoll-timeout 25

Each user starts live (one GET /poll learns the cursor), then loops: the server holds the
request until an event is published (200) or the timeout passes (204). Every event's delivery
latency is an "EVENT long_polling" entry; gaps or repeats are "long_polling sequence" failures.
All waiting users wake on the same event and ask again at once: that herd is part of the
transport, not an artefact.
"""

from __future__ import annotations

from client_measurement import DeliveryRecorder, back_off, learn_cursor, now, take_batch
from locust import FastHttpUser, constant, task

TRANSPORT = "long_polling"


class LongPollingUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 130.0  # above the server's longest allowed hold

    def on_start(self) -> None:
        self.timeout = self.environment.parsed_options.longpoll_timeout
        self.recorder = DeliveryRecorder(self.environment, TRANSPORT)
        self.cursor = None
        self.epoch = ""

    @task
    def longpoll(self) -> None:
        if self.cursor is None:
            self.cursor, self.epoch = learn_cursor(self.client, self.recorder)
            return
        response = self.client.get(
            f"/longpoll?since={self.cursor}&epoch={self.epoch}&timeout={self.timeout:g}",
            name="/longpoll",
        )
        received_at = now()
        if response.status_code == 204:
            return
        if response.status_code != 200:
            if response.status_code == 400:
                self.cursor = None  # the server restarted: start live again
            back_off(response)
            return
        self.recorder.received_bytes(len(response.content))
        self.cursor = take_batch(response.json(), self.recorder, received_at)
