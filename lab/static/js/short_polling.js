import { ExtraStreams } from "./extra_streams.js";
import { decodeJson, epochParam, formatSeconds, STALLED_AFTER_MS } from "./helpers.js";
import { I18N } from "./i18n.js";
import { Panel, Types } from "./panel.js";

/* Short polling: GET /poll?since=N every interval (start to start, never overlapping). */
export class ShortPolling extends Panel {
  constructor(element) {
    super("short", element);
    this.intervalMs = 1000;
    this.cursor = null;
    this.timer = null;
    this.inFlightSince = null;
    this.lastStart = 0;
    this.failures = 0;
  }

  liveStatus() {
    this.setStatus("live", "status.liveShort", { seconds: formatSeconds(this.intervalMs) });
  }

  start() {
    this.poll();
  }

  setIntervalMs(ms) {
    this.intervalMs = ms;
    if (this.status.state === "live") this.liveStatus();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.schedule(Math.max(0, ms - (performance.now() - this.lastStart)));
    }
  }

  schedule(delay) {
    this.timer = setTimeout(() => {
      this.timer = null;
      this.poll();
    }, delay);
  }

  async poll() {
    this.lastStart = performance.now();
    this.inFlightSince = this.lastStart;
    const url = this.cursor === null ? "poll" : `poll?since=${this.cursor}${epochParam(this.epoch)}`;
    this.counters.requests += 1;
    this.dirty = true;
    let delay = this.intervalMs;
    try {
      const response = await fetch(url, { cache: "no-store" });
      const buffer = await response.arrayBuffer();
      this.counters.bytes += buffer.byteLength;
      const body = decodeJson(buffer);
      if (response.status === 200 && body) {
        if (this.failures) this.failures = 0;
        this.batch(body);
        if (body.more) delay = 0;
      } else if (response.status === 400 && this.cursor !== null) {
        this.cursor = null;
        this.serverRestarted();
        delay = 0;
      } else {
        this.setStatus("problem", "status.refused", { reason: response.status });
      }
    } catch (error) {
      this.failures += 1;
      this.reconnecting();
      this.setStatus("problem", "status.unreachable", {
        seconds: formatSeconds(this.intervalMs),
      });
    } finally {
      this.inFlightSince = null;
      this.dirty = true;
    }
    this.schedule(Math.max(0, delay - (performance.now() - this.lastStart)));
  }

  batch(body) {
    const events = body.events || [];
    if (!events.length) this.counters.empty += 1;
    this.epoch = body.epoch || null;
    if (body.restarted) {
      // Our cursor came from an earlier run of the server: its events start again from 1.
      this.notice("restart", "row.restartedPoll", { epoch: body.epoch });
      this.serverRestarted();
    } else if (body.gap && events.length && this.lastId !== null) {
      this.gap(this.lastId + 1, events[0].id - 1);
    }
    if (this.cursor === null && this.lastId === null && !events.length) {
      // The first answer (no cursor) says where "now" is; continuity starts there.
      this.lastId = body.last_id;
      if (!this.awaitingFirstAfterRestart) this.liveStatus();
    } else if (this.status.state === "starting" || this.status.state === "problem") {
      if (this.resumeFrom !== null) this.markResumed();
      else this.liveStatus();
    }
    for (const event of events) {
      Types.seen(event.id, event.type);
      this.receive(event);
    }
    this.cursor = body.last_id;
  }

  /* A poll stuck in the browser's queue shows here (e.g. during the 7-streams demo). */
  showStall() {
    const waited = this.inFlightSince === null ? 0 : performance.now() - this.inFlightSince;
    if (waited > STALLED_AFTER_MS) {
      const seconds = Math.floor(waited / 1000);
      if (this.stallShown !== seconds) {
        this.stallShown = seconds;
        this.statusElement.dataset.state = "stalled";
        const key = ExtraStreams.active ? "status.stalledLimit" : "status.stalled";
        I18N.put(this.statusElement, key, { seconds });
      }
    } else if (this.stallShown !== null && this.stallShown !== undefined) {
      this.stallShown = null;
      this.setStatus(this.status.state, this.status.key, this.status.params);
    }
  }
}
