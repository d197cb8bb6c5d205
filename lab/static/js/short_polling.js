import { decodeJson, epochParam, formatSeconds, Stall } from "./helpers.js";
import { Panel, Types } from "./panel.js";
import { POLL_JITTER } from "./theory.js";

const DELAYS_KEPT = 20;

/* Short polling: GET /poll?since=N every interval (start to start, never overlapping).
 *
 * The first question after learning the cursor comes at a random moment within the
 * interval, and every gap is the interval ±10%: a page that polled in step with evenly
 * spaced events would find each one equally old and show a single, meaningless lag. */
export class ShortPolling extends Panel {
  constructor(element) {
    super("short", element);
    this.intervalMs = 1000;
    this.cursor = null;
    this.timer = null;
    this.inFlightSince = null;
    this.lastStart = 0;
    this.failures = 0;
    this.delays = []; // the latest planned gaps, for the curious (and the tests)
  }

  liveStatus() {
    this.setStatus("live", "status.liveShort", { seconds: formatSeconds(this.intervalMs) });
  }

  start() {
    this.poll();
  }

  pause() {
    super.pause();
    clearTimeout(this.timer);
    this.timer = null;
    // A poll under way is answered at once; its answer is dropped (see poll).
    this.inFlightSince = null;
  }

  resume() {
    super.resume();
    this.cursor = null; // the first poll learns where "now" is
    this.poll();
  }

  jitteredIntervalMs() {
    return this.intervalMs * (1 - POLL_JITTER + Math.random() * 2 * POLL_JITTER);
  }

  setIntervalMs(ms) {
    this.intervalMs = ms;
    if (this.status.state === "live") this.liveStatus();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.schedule(this.jitteredIntervalMs());
    }
  }

  /* `gap`: from the start of the last poll to the start of the next. */
  schedule(gap) {
    this.delays.push(Math.round(gap));
    if (this.delays.length > DELAYS_KEPT) this.delays.shift();
    const delay = Math.max(0, gap - (performance.now() - this.lastStart));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.poll();
    }, delay);
  }

  async poll() {
    const run = this.run;
    this.lastStart = performance.now();
    this.inFlightSince = this.lastStart;
    const learning = this.cursor === null;
    const url = learning ? "poll" : `poll?since=${this.cursor}${epochParam(this.epoch)}`;
    this.counters.requests += 1;
    this.dirty = true;
    // After learning where "now" is: a random phase; then the interval, jittered.
    let gap = learning ? Math.random() * this.intervalMs : this.jitteredIntervalMs();
    try {
      const response = await fetch(url, { cache: "no-store" });
      const buffer = await response.arrayBuffer();
      if (run !== this.run) return; // paused meanwhile: this answer belongs to before
      this.counters.bytes += buffer.byteLength;
      const body = decodeJson(buffer);
      if (response.status === 200 && body) {
        if (this.failures) this.failures = 0;
        this.batch(body);
        if (body.more) gap = 0;
      } else if (response.status === 400 && this.cursor !== null) {
        this.cursor = null;
        this.serverRestarted();
        gap = 0;
      } else {
        this.setStatus("problem", "status.refused", { reason: response.status });
      }
    } catch (error) {
      if (run !== this.run) return;
      this.failures += 1;
      this.reconnecting();
      this.setStatus("problem", "status.unreachable", {
        seconds: formatSeconds(this.intervalMs),
      });
    } finally {
      if (run === this.run) this.inFlightSince = null;
      this.dirty = true;
    }
    if (run === this.run) this.schedule(gap);
  }

  batch(body) {
    const events = body.events || [];
    // The first answer only says where "now" is: it was not asked for news.
    if (!events.length && this.cursor !== null) this.counters.empty += 1;
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

  /* The server answers a poll at once: one unanswered for long waits in the browser. */
  stalledMs(now) {
    const waited = this.inFlightSince === null ? 0 : now - this.inFlightSince;
    return waited > Stall.afterMs ? waited : 0;
  }
}
