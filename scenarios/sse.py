"""Server-Sent Events: each user opens one GET /sse stream and reads events as they come.

Run by hand against a running server (`lab serve`):

    locust -f scenarios/sse.py --host http://127.0.0.1:8000
    locust -f scenarios/sse.py --host http://127.0.0.1:8000 --headless \
        -u 100 -r 20 --run-time 1m --stop-timeout 5

Each user starts live (no Last-Event-ID) and parses the stream with the lab's own SSE parser
(lab.sse.SSEDecoder). Locust's FastHttpUser reads streams in fixed-size blocks and would hold
small events back, so this uses HttpUser with stream=True and reads each chunk as it arrives.
Locust itself records only the time to the response headers for GET /sse; every event's
delivery latency is an "EVENT sse" entry, and gaps or repeats are "sse sequence" failures.
If the stream ends (server restart, POST /drop), the user reconnects with Last-Event-ID.
"""

from __future__ import annotations

import json

from client_measurement import DeliveryRecorder, back_off, now
from locust import HttpUser, constant, task

from lab.sse import SSEDecoder

TRANSPORT = "sse"


class SSEUser(HttpUser):
    wait_time = constant(0)

    def on_start(self) -> None:
        self.recorder = DeliveryRecorder(self.environment, TRANSPORT)
        self.last_event_id = ""

    @task
    def stream(self) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.last_event_id:
            headers["Last-Event-ID"] = self.last_event_id
        decoder = SSEDecoder()
        response = self.client.get(
            "/sse", headers=headers, stream=True, name="/sse", timeout=(10, 120)
        )
        try:
            if response.status_code != 200:
                self.wait_before_retry(response)
                return
            for chunk in response.iter_content(chunk_size=None):
                received_at = now()
                self.recorder.received_bytes(len(chunk))
                for message in decoder.decode(chunk):
                    if message.event in ("gap", "close"):
                        continue  # server notices; a gap shows up in the ids as lost events
                    event = json.loads(message.data)
                    self.recorder.delivered(event, received_at, len(message.data.encode()))
                self.last_event_id = decoder.last_event_id
        finally:
            response.close()

    def wait_before_retry(self, response) -> None:
        if response.status_code == 400:
            self.last_event_id = ""  # the server restarted: start live again
        back_off(response)
