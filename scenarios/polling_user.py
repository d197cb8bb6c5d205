"""What the two polling scenarios share: start live, poll with a cursor, record each batch.

A user first asks /poll without a cursor (where "now" is, and the server run's epoch), then
repeats `poll()`: one request with the cursor and the epoch, its events recorded. A 400 means
the server has restarted without knowing our epoch: start live again.
"""

from __future__ import annotations

from client_measurement import back_off, learn_cursor, now, recorder_for
from locust import FastHttpUser

from lab.delivery_recorder import take_batch


class PollingUser(FastHttpUser):
    abstract = True
    transport = ""
    """The transport's name (for the recorder's Locust entries)."""

    def on_start(self) -> None:
        self.recorder = recorder_for(self.environment, self.transport)
        self.cursor: int | None = None
        self.epoch = ""

    def request_path(self) -> str:
        """The next poll's path and query, cursor and epoch included."""
        raise NotImplementedError

    def entry_name(self) -> str:
        """The name Locust records the poll request under."""
        raise NotImplementedError

    def poll_once(self) -> None:
        if self.cursor is None:
            self.cursor, self.epoch = learn_cursor(self.client, self.recorder)
            return
        response = self.client.get(self.request_path(), name=self.entry_name())
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
