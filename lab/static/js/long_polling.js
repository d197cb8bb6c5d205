import { backoffMs, decodeJson, epochParam, formatSeconds, sleep, Stall } from "./helpers.js";
import { News } from "./news.js";
import { Panel, Types } from "./panel.js";
import { LONGPOLL_TIMEOUT_S } from "./theory.js";

/* Long polling: GET /longpoll?since=N, held by the server; ask again as soon as it answers. */
export class LongPolling extends Panel {
  constructor(element) {
    super("long", element);
    this.cursor = null;
    this.timeoutParam = `&timeout=${LONGPOLL_TIMEOUT_S}`;
    this.inFlightSince = null;
    this.controller = null;
  }

  /* Ends the held request: the browser closes its connection. */
  pause() {
    super.pause();
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.inFlightSince = null;
  }

  resume() {
    super.resume();
    this.cursor = null; // asks /source where "now" is
    this.start();
  }

  /* A held long poll is answered the moment there is news. One still unanswered long after
   * this page has seen newer events elsewhere never reached the server. */
  stalledMs(now) {
    if (this.inFlightSince === null) return 0;
    const waited = Math.min(News.pendingMs(this.cursor, now), now - this.inFlightSince);
    return waited > Stall.afterMs ? waited : 0;
  }

  liveStatus() {
    this.setStatus("live", "status.liveLong");
  }

  /* Where "now" is, without waiting: /source tells the newest id (not a long-poll request). */
  async findCursor(run) {
    for (let failures = 1; run === this.run; failures += 1) {
      try {
        const response = await fetch("source", { cache: "no-store" });
        const body = await response.json();
        if (response.ok && Number.isInteger(body.last_id)) {
          this.epoch = body.epoch || null;
          return body.last_id;
        }
      } catch (error) {
        /* retried below */
      }
      if (run !== this.run) break;
      const delay = backoffMs(failures);
      this.reconnecting();
      this.setStatus("problem", "status.unreachable", { seconds: formatSeconds(delay) });
      await sleep(delay);
    }
    return null;
  }

  /* One loop per run: a pause ends it, and resume() starts the next. */
  async start() {
    const run = this.run;
    let failures = 0;
    while (run === this.run) {
      if (this.cursor === null) {
        const cursor = await this.findCursor(run);
        if (run !== this.run) return;
        this.cursor = cursor;
        this.lastId = this.cursor;
        if (this.awaitingFirstAfterRestart) this.setStatus("restarting", "status.restarting");
        else if (this.resumeFrom !== null) this.setStatus("reconnecting", "status.reconnecting");
        else this.liveStatus();
      }
      this.counters.requests += 1;
      this.dirty = true;
      const controller = new AbortController();
      this.controller = controller;
      // A held request normally ends within the timeout; past it by far, the connection is
      // dead (a sleeping laptop, a vanished network) and only a new request can tell.
      const guard = setTimeout(() => controller.abort(), (LONGPOLL_TIMEOUT_S + 15) * 1000);
      let response;
      let buffer;
      this.inFlightSince = performance.now();
      try {
        const epoch = epochParam(this.epoch);
        response = await fetch(`longpoll?since=${this.cursor}${epoch}${this.timeoutParam}`, {
          cache: "no-store",
          signal: controller.signal,
        });
        buffer = await response.arrayBuffer();
      } catch (error) {
        clearTimeout(guard);
        if (run !== this.run) return; // paused: the abort was ours
        this.inFlightSince = null;
        failures += 1;
        const delay = backoffMs(failures);
        this.reconnecting();
        this.setStatus("problem", "status.unreachable", { seconds: formatSeconds(delay) });
        await sleep(delay);
        continue;
      }
      clearTimeout(guard);
      if (run !== this.run) return;
      this.inFlightSince = null;
      this.counters.bytes += buffer.byteLength;
      const body = decodeJson(buffer);
      if (response.status === 200 && body) {
        failures = 0;
        this.batch(body);
      } else if (response.status === 204) {
        failures = 0;
        this.counters.empty += 1;
        if (this.resumeFrom !== null) this.markResumed();
        else if (this.status.state === "problem") this.liveStatus();
      } else if (response.status === 503 && body && /drop/.test(body.error || "")) {
        // POST /drop ended our held request on purpose: simply ask again, at once.
        this.reconnecting("status.dropped");
      } else if (response.status === 400 && body && /timeout/.test(body.error || "")) {
        // This server allows shorter waits (--longpoll-max-timeout): use its default.
        this.timeoutParam = "";
      } else if (response.status === 400) {
        this.cursor = null;
        this.serverRestarted();
      } else {
        failures += 1;
        const retryAfter = Number(response.headers.get("Retry-After"));
        const delay = retryAfter > 0 ? retryAfter * 1000 : backoffMs(failures);
        this.reconnecting();
        this.setStatus("problem", "status.refused", { reason: response.status });
        await sleep(delay);
      }
      this.dirty = true;
    }
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
    if (!events.length && this.resumeFrom !== null) this.markResumed();
    for (const event of events) {
      Types.seen(event.id, event.type);
      this.receive(event);
    }
    if (this.status.state === "problem" || this.status.state === "starting") this.liveStatus();
    this.cursor = body.last_id;
  }
}
