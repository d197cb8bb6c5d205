"""One ticker for several workers: each runs the schedule, the one holding a lease publishes.

The lease is a Redis key with an expiry that its holder renews. When the holder dies, the
key expires and another worker takes it within `LEASE_S`, so the events keep coming (after
a pause of at most that long). The settings live in Redis too, and a change made on any
worker (`PUT /source`) is sent to every worker, so whichever takes the lease next ticks
with the same rate.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import gevent
import redis

from lab.ticker import Ticker
from lab.worker_bus import WorkerBus

LEASE_S = 3.0
RENEW_EVERY_S = 1.0

# Renew only a lease this worker still holds: after a long pause it may have passed on.
RENEW_SCRIPT = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""


class SharedTicker(Ticker):
    def __init__(
        self, *args: Any, client: redis.Redis, bus: WorkerBus, prefix: str = "lab:", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.bus = bus
        self.me = str(bus.worker)
        self.lease_key = prefix + "ticker:lease"
        self.settings_key = prefix + "ticker:settings"
        self.leading = False
        self.lost_ticks = 0
        self._renew = client.register_script(RENEW_SCRIPT)
        self._lease: gevent.Greenlet | None = None
        # The first worker's settings stand; a worker started later (or restarted) takes
        # the ones in force, changes included.
        self._store_settings_unless_stored()
        stored = client.get(self.settings_key)
        if stored:
            self.apply(**json.loads(stored))
        bus.on("ticker", lambda changes: self.apply(**changes))

    def _store_settings_unless_stored(self) -> None:
        self.client.set(self.settings_key, json.dumps(self.settings()), nx=True)

    def update(self, **changes: Any) -> dict[str, Any]:
        """Check and apply the changes here, then store them and send them to every worker."""
        settings = self.apply(**changes)
        self.client.set(self.settings_key, json.dumps(settings))
        self.bus.tell_all("ticker", **settings)
        return settings

    def tick(self) -> None:
        if not self.leading:
            return
        try:
            super().tick()
        except redis.RedisError as error:  # the schedule goes on; the tick is lost
            self.lost_ticks += 1
            if self.lost_ticks == 1 or self.lost_ticks % 100 == 0:
                print(f"lab: a tick could not be published ({error})", file=sys.stderr)

    def start(self) -> None:
        if self._lease is None:
            self._lease = gevent.spawn(self._hold_lease)
        super().start()

    def stop(self) -> None:
        super().stop()
        if self._lease is not None:
            self._lease.kill()
            self._lease = None
        if self.leading:  # hand the lease on at once rather than after it expires
            self.client.delete(self.lease_key)
            self.leading = False

    def _hold_lease(self) -> None:
        lease_ms = int(LEASE_S * 1000)
        while True:
            try:
                if self.leading:
                    self.leading = bool(
                        self._renew(keys=[self.lease_key], args=[self.me, lease_ms])
                    )
                if not self.leading:
                    self.leading = bool(
                        self.client.set(self.lease_key, self.me, nx=True, px=lease_ms)
                    )
                    if self.leading:  # a Redis that came back empty has lost them too
                        self._store_settings_unless_stored()
            except redis.RedisError:
                self.leading = False  # without Redis, publishing fails anyway
            gevent.sleep(RENEW_EVERY_S)
