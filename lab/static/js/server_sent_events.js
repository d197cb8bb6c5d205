import { backoffMs, formatSeconds, sleep, Stall, utf8Length } from "./helpers.js";
import { News } from "./news.js";
import { Panel, Types } from "./panel.js";

const MAX_SSE_TYPES = 32;

/* SSE: the browser's EventSource. It reconnects by itself (sending Last-Event-ID) unless the
 * server refuses the stream; then the page opens a new one and says why. */
export class ServerSentEvents extends Panel {
  constructor(element) {
    super("sse", element);
    this.types = new Set(["message", "tick"]);
    this.source = null;
    this.failures = 0;
    this.pendingJumps = [];
    this.onEvent = (message) => this.event(message);
    this.counters.empty = null;
    this.cells.empty.dataset.fixed = "";
  }

  liveStatus() {
    this.setStatus("live", "status.liveSse");
  }

  start() {
    this.open("sse");
  }

  /* Closing the EventSource ends its request: the browser closes the connection. */
  pause() {
    super.pause();
    if (this.source) this.source.close();
    this.source = null;
    this.pendingJumps = [];
  }

  resume() {
    super.resume();
    this.failures = 0;
    this.open("sse"); // live: no Last-Event-ID, so nothing published meanwhile is replayed
  }

  listen(type) {
    if (this.types.has(type) || type === "gap" || type === "close") return;
    if (this.types.size >= MAX_SSE_TYPES) return; // then shown as "not listened for"
    this.types.add(type);
    if (this.source) this.source.addEventListener(type, this.onEvent);
  }

  open(url) {
    const source = new EventSource(url);
    this.source = source;
    for (const type of this.types) source.addEventListener(type, this.onEvent);
    source.addEventListener("gap", (message) => this.serverNotice(message, "gap"));
    source.addEventListener("close", (message) => this.serverNotice(message, "close"));
    source.onopen = () => {
      this.counters.requests += 1;
      this.failures = 0;
      if (this.resumeFrom !== null) this.markResumed();
      else if (!this.awaitingFirstAfterRestart) this.liveStatus();
      this.dirty = true;
    };
    source.onerror = () => {
      if (source !== this.source) return;
      if (source.readyState === EventSource.CLOSED) {
        this.refused(source);
      } else {
        // The stream ended or could not connect; the browser retries on its own.
        this.reconnecting();
      }
      this.dirty = true;
    };
  }

  /* The browser gave up on this stream (the server answered with an error status). */
  async refused(source) {
    const run = this.run;
    source.close();
    this.source = null;
    this.failures += 1;
    this.setStatus("reconnecting", "status.reconnecting");
    await sleep(this.failures > 1 ? backoffMs(this.failures - 1) : 0);
    let newest = null;
    try {
      const response = await fetch("source", { cache: "no-store" });
      newest = (await response.json()).last_id;
    } catch (error) {
      /* the server is unreachable: try the stream again after a pause */
    }
    if (run !== this.run) return; // paused (or paused and resumed) meanwhile
    if (newest === null || newest === undefined) {
      this.setStatus("problem", "status.unreachable", {
        seconds: formatSeconds(backoffMs(this.failures)),
      });
      await sleep(backoffMs(this.failures));
      if (run === this.run) this.refused({ close() {} });
      return;
    }
    if (this.lastId !== null && this.lastId > newest) {
      // Our Last-Event-ID is ahead of the server's newest id: it restarted. Start live.
      this.notice("restart", "row.restartedSse", { id: this.lastId });
      this.serverRestarted();
      this.open("sse");
    } else if (this.lastId !== null) {
      // Refused for another reason (e.g. too many streams): resume where we were.
      this.reconnecting();
      this.open(`sse?last_event_id=${this.lastId}`);
    } else {
      this.open("sse");
    }
  }

  frameBytes(message, withId) {
    let frame = withId ? `id: ${message.lastEventId}\n` : "";
    if (message.type !== "message") frame += `event: ${message.type}\n`;
    frame += `data: ${message.data.split("\n").join("\ndata: ")}\n\n`;
    return utf8Length(frame);
  }

  /* A stream that is not open while this page has seen newer events elsewhere: it waits
   * to connect (the browser's retry, or a free connection). */
  stalledMs(now) {
    if (!this.source || this.source.readyState !== EventSource.CONNECTING) return 0;
    const waited = News.pendingMs(this.lastId, now);
    return waited > Stall.afterMs ? waited : 0;
  }

  holdsConnection() {
    return Boolean(this.source) && this.source.readyState === EventSource.OPEN;
  }

  event(message) {
    this.epoch = message.lastEventId.split("@")[1] || null;
    this.counters.bytes += this.frameBytes(message, true);
    let event;
    try {
      event = JSON.parse(message.data);
    } catch (error) {
      return;
    }
    this.receive(event);
  }

  serverNotice(message, kind) {
    this.counters.bytes += this.frameBytes(message, false);
    let body = {};
    try {
      body = JSON.parse(message.data);
    } catch (error) {
      /* keep the empty notice */
    }
    if (kind === "gap" && body.restarted) {
      // Our Last-Event-ID came from an earlier run of the server, whose ids began again.
      this.notice("restart", "row.restartedSse", { id: this.lastId });
      this.serverRestarted();
    } else if (kind === "gap") {
      this.gap(body.after + 1, body.resumed_from - 1);
    } else {
      this.notice("gap", "row.close", { reason: body.reason || "" });
    }
    this.dirty = true;
  }

  /* A skipped id may be an event of a type this stream was not listening for: the polling
   * panels see every type, so wait a moment for them before calling it lost. */
  jump(from, to) {
    this.pendingJumps.push({ from, to, at: performance.now(), listened: new Set(this.types) });
    if (this.pendingJumps.length > 100) {
      const oldest = this.pendingJumps.shift();
      super.jump(oldest.from, oldest.to);
    }
  }

  settleJumps() {
    const now = performance.now();
    this.pendingJumps = this.pendingJumps.filter((pending) => {
      const types = [];
      for (let id = pending.from; id <= pending.to && id - pending.from < 1000; id += 1) {
        types.push(Types.recent.get(id));
      }
      const known = pending.to - pending.from < 1000 && types.every((type) => type !== undefined);
      if (known && types.every((type) => !pending.listened.has(type))) {
        const type = [...new Set(types)].join(", ");
        this.notice("gap", "row.otherType", { from: pending.from, to: pending.to, type });
        return false;
      }
      if (known || now - pending.at > 5000) {
        super.jump(pending.from, pending.to);
        return false;
      }
      return true;
    });
    if (this.pendingJumps.length) this.dirty = true;
  }

  serverRestarted() {
    this.pendingJumps = [];
    super.serverRestarted();
  }

  render(nowS) {
    this.settleJumps();
    super.render(nowS);
  }
}
