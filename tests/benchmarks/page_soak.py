"""Benchmark: the classroom page left running with a fast event rate.

Starts a lab server (default 20 events/s), opens the page in headless Chromium and samples,
once a minute: the page's JavaScript heap, its DOM size, and each panel's counters (events,
missed, repeated). A lesson-long page must keep its heap and DOM flat and its missed and
repeated counts at 0.

Run:  python tests/benchmarks/page_soak.py [--minutes 10] [--rate 20]
It prints figures; it asserts nothing. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from browser import launched_chromium  # noqa: E402
from helpers import run_server  # noqa: E402

SAMPLE = """() => {
  const counter = (panel, name) =>
    document.querySelector(`#panel-${panel} [data-c="${name}"]`).textContent.trim();
  const panels = {};
  for (const panel of ["short", "long", "sse"]) {
    panels[panel] = ["events", "missed", "repeated"].map((n) => counter(panel, n)).join("/");
  }
  return {
    heap: performance.memory ? performance.memory.usedJSHeapSize : null,
    nodes: document.getElementsByTagName("*").length,
    panels,
  };
}"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    with run_server("--rate", f"{args.rate:g}") as server, launched_chromium() as context:
        page = context.new_page()
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto(server.url + "/?lang=en")
        started = time.monotonic()
        print(
            f"rate {args.rate:g} events/s for {args.minutes:g} min; "
            "panels show events/missed/repeated"
        )
        while True:
            elapsed = time.monotonic() - started
            sample = page.evaluate(SAMPLE)
            heap = f"{sample['heap'] / 2**20:.1f} MiB" if sample["heap"] else "n/a"
            panels = ", ".join(f"{k} {v}" for k, v in sample["panels"].items())
            print(
                f"{elapsed / 60:5.1f} min  heap {heap:>9}  DOM {sample['nodes']:>5}  {panels}",
                flush=True,
            )
            if elapsed >= args.minutes * 60:
                break
            page.wait_for_timeout(min(60_000, (args.minutes * 60 - elapsed) * 1000 + 10))
        metrics = server.metrics()["transports"]
        print(
            "server: "
            + ", ".join(
                f"{name} {metrics[name]['requests']} requests, {metrics[name]['open']} open"
                for name in ("short_polling", "long_polling", "sse")
            )
        )


if __name__ == "__main__":
    main()
