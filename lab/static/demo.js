/* The classroom page: the same events through short polling, long polling and SSE.
 *
 * Everything the page keeps is bounded: 50 rows per list, fixed chart buckets, a capped
 * map of recent event types. Counters are plain integers that only the transports move.
 * Each transport recovers by itself from a drop (POST /drop) and from a server restart.
 */
"use strict";

const COLOURS = { short: "#1f77b4", long: "#ff7f0e", sse: "#2ca02c" };
const MAX_ROWS = 50;
const LONGPOLL_TIMEOUT_S = 20;
const METRICS_EVERY_MS = 1000;
const STALLED_AFTER_MS = 3000;
const EXTRA_STREAMS = 7;
const MAX_SSE_TYPES = 32;
const MAX_SHOWN_CHARS = 120;
const t = I18N.t;

/* ---------- small helpers ---------- */

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function backoffMs(failures) {
  // 0.5 s, 1 s, 2 s, 4 s, then 5 s; a little jitter so a whole class does not retry in step.
  const base = Math.min(5000, 500 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (1 + Math.random() * 0.2));
}

function utf8Length(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair is one 4-byte character
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

function formatCount(n) {
  return Math.round(n).toLocaleString("en-US");
}

function formatBytes(n) {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = n;
  let unit = -1;
  do {
    value /= 1000;
    unit += 1;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/* Whole milliseconds: Date.now() ticks in milliseconds, so tenths would be noise. */
function formatLatency(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (Math.abs(ms) >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms > -1 && ms < 1) return "<1 ms";
  return `${Math.round(ms)} ms`;
}

function formatSeconds(ms) {
  const s = ms / 1000;
  return Number.isInteger(s) ? String(s) : s.toFixed(s < 1 ? 2 : 1);
}

/* The run of the server a cursor belongs to, so that a restarted server can say so. */
function epochParam(epoch) {
  return epoch ? `&epoch=${encodeURIComponent(epoch)}` : "";
}

function decodeJson(buffer) {
  try {
    return JSON.parse(new TextDecoder().decode(buffer));
  } catch (error) {
    return null;
  }
}

/* ---------- who may change the server ---------- */

const Access = {
  token: null,
  canChange: false,

  readToken() {
    // The teacher's address carries the token in its fragment (#token=...), which the
    // browser never sends to any server: it reaches no log and no Referer header.
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    let token = fragment.get("token");
    if (token) {
      // Keep it for reloads of this tab, and take it out of the address bar: the page is
      // projected, and the class should not be able to read the teacher's token off the wall.
      try {
        sessionStorage.setItem("lab-token", token);
      } catch (error) {
        /* no storage: the token lasts until the page reloads */
      }
      fragment.delete("token");
      const rest = fragment.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
    } else {
      try {
        token = sessionStorage.getItem("lab-token");
      } catch (error) {
        token = null;
      }
    }
    this.token = token;
  },

  headers() {
    const headers = { "Content-Type": "application/json" };
    if (this.token) headers["X-Lab-Token"] = this.token;
    return headers;
  },

  /* Asks GET /access whether our token (if any) lets us change the server: a question that
   * changes nothing and is never refused. */
  async probe() {
    for (let failures = 1; ; failures += 1) {
      try {
        const headers = this.token ? { "X-Lab-Token": this.token } : {};
        const response = await fetch("access", { headers, cache: "no-store" });
        const body = await response.json();
        if (body.can_change) this.set(true, "access.teacher");
        else if (body.because === "wrong token") this.set(false, "access.badToken");
        else this.set(false, "access.readonly");
        return;
      } catch (error) {
        await sleep(backoffMs(failures));
      }
    }
  },

  set(canChange, key) {
    this.canChange = canChange;
    const checking = key === "access.checking";
    const badge = document.getElementById("access");
    badge.dataset.state = checking ? "checking" : canChange ? "teacher" : "readonly";
    I18N.put(badge, key);
    for (const element of document.querySelectorAll("[data-server]")) {
      element.disabled = !canChange;
    }
    document.getElementById("readonly-note").hidden = canChange || checking;
  },
};

/* Event types seen by the polling panels (which receive every type), so the SSE panel,
 * which only hears the types it listens for, can tell "another type" from "missed". */
const Types = {
  recent: new Map(),
  limit: 5000,

  seen(id, type) {
    if (!this.recent.has(id)) {
      this.recent.set(id, type);
      if (this.recent.size > this.limit) this.recent.delete(this.recent.keys().next().value);
    }
    if (sse) sse.listen(type);
  },

  clear() {
    this.recent.clear();
  },
};

/* ---------- the three panels ---------- */

class Panel {
  constructor(key, element) {
    this.key = key;
    this.element = element;
    this.counters = { requests: 0, empty: 0, bytes: 0, events: 0, missed: 0, repeated: 0 };
    this.lastId = null;
    this.latencyLast = null;
    this.awaitingFirstAfterRestart = false;
    this.resumeFrom = null; // set while reconnecting: the id we resume after
    this.chart = new LatencyChart(element.querySelector("[data-chart]"), COLOURS[key]);
    this.list = element.querySelector("[data-events]");
    this.statusElement = element.querySelector("[data-status]");
    this.cells = {};
    for (const cell of element.querySelectorAll("[data-c]")) this.cells[cell.dataset.c] = cell;
    this.pendingRows = [];
    this.dirty = true;
    element.dataset.restarts = "0";
    element.dataset.resumes = "0";
    this.setStatus("starting", "status.starting");
  }

  setStatus(state, key, params) {
    this.status = { state, key, params };
    this.statusElement.dataset.state = state;
    I18N.put(this.statusElement, key, params);
  }

  liveStatus() {
    this.setStatus("live", "status.live");
  }

  bump(name) {
    this.element.dataset[name] = String(Number(this.element.dataset[name]) + 1);
  }

  /* One event from the server, in the order the transport delivered it. */
  receive(event) {
    const id = event.id;
    if (this.lastId !== null && id <= this.lastId) {
      this.counters.repeated += 1;
      this.notice("problem", "row.repeated", { id });
      this.dirty = true;
      return;
    }
    if (this.lastId !== null && id > this.lastId + 1) this.jump(this.lastId + 1, id - 1);
    this.lastId = id;
    this.counters.events += 1;
    const now = Date.now();
    const latency = typeof event.ts === "number" ? now - event.ts * 1000 : null;
    this.latencyLast = latency;
    if (latency !== null) this.chart.add(latency, now / 1000);
    if (this.awaitingFirstAfterRestart) {
      this.awaitingFirstAfterRestart = false;
      this.notice("restart", "row.restarted", { id });
      this.setStatus("restarted", "status.restarted", { id });
    } else if (this.resumeFrom !== null) {
      this.markResumed();
    }
    this.addRow({ kind: "event", id, latency, type: event.type, data: event.data });
  }

  /* Ids from..to were skipped without a server notice. */
  jump(from, to) {
    this.counters.missed += to - from + 1;
    this.notice("problem", "row.missed", { from, to });
  }

  /* The server said its history lost events (a "gap"): shown, not counted as missed. */
  gap(from, to) {
    if (to >= from) this.notice("gap", "row.gap", { from, to, n: to - from + 1 });
    this.lastId = to;
  }

  reconnecting(key) {
    if (this.resumeFrom === null && !this.awaitingFirstAfterRestart) this.resumeFrom = this.lastId;
    this.setStatus("reconnecting", key || "status.reconnecting");
  }

  markResumed() {
    const id = this.resumeFrom;
    this.resumeFrom = null;
    if (id === null) {
      this.liveStatus();
      return;
    }
    this.bump("resumes");
    this.notice("resumed", "row.resumed", { id });
    this.setStatus("resumed", "status.resumed", { id });
  }

  /* The server no longer knows our cursor: its ids began again. Start over, live. */
  serverRestarted() {
    this.bump("restarts");
    this.lastId = null;
    this.resumeFrom = null;
    this.awaitingFirstAfterRestart = true;
    Types.clear();
    this.setStatus("restarting", "status.restarting");
  }

  notice(kind, key, params) {
    this.addRow({ kind: "notice", notice: kind, key, params });
  }

  addRow(row) {
    this.pendingRows.push(row);
    if (this.pendingRows.length > MAX_ROWS) this.pendingRows.shift();
    this.dirty = true;
  }

  renderRow(row) {
    const item = document.createElement("li");
    if (row.kind === "notice") {
      item.className = `notice notice-${row.notice}`;
      item.dataset.notice = row.notice;
      I18N.put(item, row.key, row.params);
      return item;
    }
    item.dataset.id = String(row.id);
    const id = document.createElement("span");
    id.className = "id";
    id.textContent = `#${row.id}`;
    const latency = document.createElement("span");
    latency.className = "lat";
    latency.textContent = formatLatency(row.latency);
    const what = document.createElement("span");
    what.className = "what";
    if (row.type === "tick") {
      what.textContent = "tick";
    } else {
      let text = typeof row.data === "string" ? row.data : JSON.stringify(row.data);
      if (text.length > MAX_SHOWN_CHARS) text = `${text.slice(0, MAX_SHOWN_CHARS)}…`;
      what.textContent = row.type === "message" ? `“${text}”` : `${row.type}: ${text}`;
      what.classList.add("message");
    }
    item.append(id, latency, what);
    return item;
  }

  render(nowS) {
    if (this.pendingRows.length) {
      const fragment = document.createDocumentFragment();
      for (let i = this.pendingRows.length - 1; i >= 0; i -= 1) {
        fragment.append(this.renderRow(this.pendingRows[i]));
      }
      this.pendingRows.length = 0;
      this.list.prepend(fragment);
      while (this.list.children.length > MAX_ROWS) this.list.lastElementChild.remove();
    }
    for (const [name, value] of Object.entries(this.counters)) {
      const cell = this.cells[name];
      if (!cell || cell.dataset.fixed !== undefined) continue;
      cell.dataset.value = String(value);
      cell.textContent = name === "bytes" ? formatBytes(value) : formatCount(value);
      if (name === "bytes") cell.title = `${formatCount(value)} B`;
    }
    for (const name of ["missed", "repeated"]) {
      this.cells[name].parentElement.classList.toggle("bad", this.counters[name] > 0);
    }
    this.cells.latency.textContent = formatLatency(this.latencyLast);
    const summary = this.chart.summary(nowS);
    this.cells.latencyAvg.textContent = summary ? formatLatency(summary.mean) : "–";
    this.dirty = false;
  }

  retranslate() {
    if (this.status) I18N.put(this.statusElement, this.status.key, this.status.params);
  }
}

/* Short polling: GET /poll?since=N every interval (start to start, never overlapping). */
class ShortPolling extends Panel {
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

/* Long polling: GET /longpoll?since=N, held by the server; ask again as soon as it answers. */
class LongPolling extends Panel {
  constructor(element) {
    super("long", element);
    this.cursor = null;
    this.timeoutParam = `&timeout=${LONGPOLL_TIMEOUT_S}`;
  }

  liveStatus() {
    this.setStatus("live", "status.liveLong");
  }

  /* Where "now" is, without waiting: /source tells the newest id (not a long-poll request). */
  async findCursor() {
    for (let failures = 1; ; failures += 1) {
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
      const delay = backoffMs(failures);
      this.reconnecting();
      this.setStatus("problem", "status.unreachable", { seconds: formatSeconds(delay) });
      await sleep(delay);
    }
  }

  async start() {
    let failures = 0;
    for (;;) {
      if (this.cursor === null) {
        this.cursor = await this.findCursor();
        this.lastId = this.cursor;
        if (this.awaitingFirstAfterRestart) this.setStatus("restarting", "status.restarting");
        else if (this.resumeFrom !== null) this.setStatus("reconnecting", "status.reconnecting");
        else this.liveStatus();
      }
      this.counters.requests += 1;
      this.dirty = true;
      const controller = new AbortController();
      // A held request normally ends within the timeout; past it by far, the connection is
      // dead (a sleeping laptop, a vanished network) and only a new request can tell.
      const guard = setTimeout(() => controller.abort(), (LONGPOLL_TIMEOUT_S + 15) * 1000);
      let response;
      let buffer;
      try {
        const epoch = epochParam(this.epoch);
        response = await fetch(`longpoll?since=${this.cursor}${epoch}${this.timeoutParam}`, {
          cache: "no-store",
          signal: controller.signal,
        });
        buffer = await response.arrayBuffer();
      } catch (error) {
        clearTimeout(guard);
        failures += 1;
        const delay = backoffMs(failures);
        this.reconnecting();
        this.setStatus("problem", "status.unreachable", { seconds: formatSeconds(delay) });
        await sleep(delay);
        continue;
      }
      clearTimeout(guard);
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

/* SSE: the browser's EventSource. It reconnects by itself (sending Last-Event-ID) unless the
 * server refuses the stream; then the page opens a new one and says why. */
class ServerSentEvents extends Panel {
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
    if (newest === null || newest === undefined) {
      this.setStatus("problem", "status.unreachable", {
        seconds: formatSeconds(backoffMs(this.failures)),
      });
      await sleep(backoffMs(this.failures));
      this.refused({ close() {} });
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

  event(message) {
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
   * panels see every type, so wait a moment for them before calling it missed. */
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

/* ---------- the server's own counters ---------- */

class MetricsStrip {
  constructor() {
    this.cells = {};
    for (const cell of document.querySelectorAll(".strip [data-transport]")) {
      this.cells[cell.dataset.transport] = cell;
    }
    this.state = document.getElementById("strip-state");
    this.previous = null;
    this.pid = null;
    this.offsets = [];
    this.lastAnswer = performance.now();
    this.inFlight = false;
    this.stateKey = null;
    this.stateParams = null;
  }

  async start() {
    for (;;) {
      const started = performance.now();
      await this.refresh();
      await sleep(Math.max(0, METRICS_EVERY_MS - (performance.now() - started)));
    }
  }

  async refresh() {
    this.inFlight = true;
    const sent = Date.now();
    try {
      const response = await fetch("metrics", { cache: "no-store" });
      const body = await response.json();
      const received = Date.now();
      this.lastAnswer = performance.now();
      if (this.stateKey !== "strip.restarted") this.setState(null);
      this.clock(body.time * 1000 - (sent + received) / 2, received - sent);
      this.show(body);
      Controls.showSource(body.source);
    } catch (error) {
      this.setState("strip.unreachable");
    } finally {
      this.inFlight = false;
    }
  }

  setState(key, params) {
    this.stateKey = key;
    this.stateParams = params;
    if (key) I18N.put(this.state, key, params);
    else {
      delete this.state.dataset.i18n;
      this.state.textContent = "";
    }
  }

  /* Clock offset estimate: keep the sample with the shortest round trip of the last 10. */
  clock(offsetMs, roundTripMs) {
    this.offsets.push([roundTripMs, offsetMs]);
    if (this.offsets.length > 10) this.offsets.shift();
    const best = this.offsets.reduce((a, b) => (b[0] < a[0] ? b : a));
    const element = document.getElementById("clock-offset");
    // offset = server clock − this clock: below zero, this computer is ahead.
    const ms = Math.round(best[1]);
    if (Math.abs(ms) > Math.max(20, best[0])) {
      I18N.put(element, ms < 0 ? "note.offsetAhead" : "note.offsetBehind", { ms: Math.abs(ms) });
    } else {
      delete element.dataset.i18n;
      element.textContent = "";
    }
  }

  show(body) {
    const pid = body.process && body.process.pid;
    if (this.pid !== null && pid !== this.pid) {
      this.previous = null;
      this.setState("strip.restarted", { time: new Date().toLocaleTimeString() });
      // A new process may have a new token: find out whether the controls still work.
      Access.probe();
    }
    this.pid = pid;
    const previous = this.previous;
    const seconds = previous ? body.time - previous.time : 0;
    for (const [name, cell] of Object.entries(this.cells)) {
      const now = body.transports[name];
      if (!now) continue;
      const before = previous && previous.transports[name];
      cell.querySelector('[data-m="requests"]').textContent = formatCount(now.requests);
      cell.querySelector('[data-m="open"]').textContent = formatCount(now.open);
      cell.querySelector('[data-m="bytes_out"]').textContent = formatBytes(now.bytes_out);
      const requestsRate = cell.querySelector('[data-m="requests_rate"]');
      const bytesRate = cell.querySelector('[data-m="bytes_rate"]');
      if (before && seconds > 0) {
        const perSecond = (now.requests - before.requests) / seconds;
        I18N.put(requestsRate, "strip.perSecond", { value: perSecond.toFixed(1) });
        I18N.put(bytesRate, "strip.perSecond", {
          value: formatBytes((now.bytes_out - before.bytes_out) / seconds),
        });
      }
    }
    if (previous && seconds > 0) {
      const cpu = ((body.process.cpu_s - previous.process.cpu_s) / seconds) * 100;
      document.getElementById("m-cpu").textContent = `${cpu.toFixed(0)} %`;
    }
    document.getElementById("m-rss").textContent = formatBytes(body.process.rss_bytes);
    const source = body.source;
    const ticker = document.getElementById("m-source");
    if (source.paused || source.rate === 0) I18N.put(ticker, "strip.paused");
    else I18N.put(ticker, "strip.tickerRate", { rate: source.rate });
    this.previous = body;
  }

  render() {
    if (this.inFlight && performance.now() - this.lastAnswer > STALLED_AFTER_MS) {
      if (this.stateKey === null) this.setState("strip.waiting");
    }
  }
}

/* ---------- the demo of the browser's connection limit ---------- */

const ExtraStreams = {
  streams: [],

  get active() {
    return this.streams.length > 0;
  },

  open() {
    if (this.active) return;
    for (let n = 1; n <= EXTRA_STREAMS; n += 1) {
      const stream = { n, state: "connecting", events: 0, source: new EventSource("sse") };
      const count = () => {
        stream.events += 1;
      };
      stream.source.addEventListener("message", count);
      stream.source.addEventListener("tick", count);
      stream.source.onopen = () => {
        stream.state = "open";
      };
      stream.source.onerror = () => {
        stream.state = stream.source.readyState === EventSource.CLOSED ? "closed" : "connecting";
      };
      this.streams.push(stream);
    }
    document.getElementById("streams").hidden = false;
    this.build();
    Controls.streamsButton();
  },

  close() {
    for (const stream of this.streams) stream.source.close();
    this.streams = [];
    document.getElementById("streams").hidden = true;
    document.getElementById("stream-list").replaceChildren();
    Controls.streamsButton();
  },

  build() {
    const list = document.getElementById("stream-list");
    list.replaceChildren(
      ...this.streams.map((stream) => {
        const item = document.createElement("li");
        const name = document.createElement("b");
        const state = document.createElement("span");
        const events = document.createElement("small");
        item.append(name, state, events);
        stream.item = item;
        return item;
      }),
    );
    this.render();
  },

  render() {
    const open = this.streams.filter((stream) => stream.state === "open").length;
    const waiting = this.streams.filter((stream) => stream.state === "connecting").length;
    const summary = document.getElementById("streams-summary");
    if (summary.dataset.shown !== `${open}/${waiting}` || summary.dataset.lang !== I18N.lang) {
      summary.dataset.shown = `${open}/${waiting}`;
      summary.dataset.lang = I18N.lang;
      I18N.put(summary, "streams.summary", { open, waiting });
    }
    for (const stream of this.streams) {
      const shown = `${stream.state}/${stream.events}/${I18N.lang}`;
      if (stream.shown === shown) continue;
      stream.shown = shown;
      const [name, state, events] = stream.item.children;
      stream.item.dataset.state = stream.state;
      I18N.put(name, "streams.stream", { n: stream.n });
      I18N.put(state, `streams.${stream.state}`);
      if (stream.state === "open") I18N.put(events, "streams.events", { n: stream.events });
      else events.textContent = "";
    }
  },
};

/* ---------- controls ---------- */

const Controls = {
  source: null,
  resultTimer: null,

  init() {
    document.getElementById("rate-set").addEventListener("click", () => this.setRate());
    document.getElementById("rate").addEventListener("keydown", (event) => {
      if (event.key === "Enter") this.setRate();
    });
    document.getElementById("pause").addEventListener("click", () => this.togglePause());
    document.getElementById("payload").addEventListener("change", (event) => {
      const bytes = Number(event.target.value);
      this.change("PUT", "source", { payload_bytes: bytes }, () =>
        this.result("result.payload", { bytes: formatBytes(bytes) }));
    });
    document.getElementById("interval").addEventListener("change", (event) => {
      const ms = Number(event.target.value);
      shortPolling.setIntervalMs(ms);
      this.result("result.interval", { seconds: formatSeconds(ms) });
    });
    document.getElementById("publish-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.publish();
    });
    document.getElementById("drop").addEventListener("click", () => {
      this.change("POST", "drop", null, (body) => {
        this.result("result.dropped", { n: body.dropped });
        shortPolling.notice("gap", "row.dropNothing");
      });
    });
    document.getElementById("streams-toggle").addEventListener("click", () => {
      if (ExtraStreams.active) ExtraStreams.close();
      else ExtraStreams.open();
    });
    document.getElementById("streams-close").addEventListener("click", () => ExtraStreams.close());
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.addEventListener("click", () => I18N.setLanguage(button.dataset.lang));
    }
  },

  async change(method, path, body, done) {
    let response;
    let answer = null;
    try {
      response = await fetch(path, {
        method,
        headers: Access.headers(),
        body: body === null ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
      answer = await response.json().catch(() => null);
    } catch (error) {
      this.result("result.unreachable", null, true);
      return;
    }
    if (response.status === 401) Access.set(false, "access.readonly");
    if (response.status === 403) Access.set(false, "access.badToken");
    if (!response.ok) {
      this.result("result.error", { error: (answer && answer.error) || response.status }, true);
      return;
    }
    if (path === "source" && answer) this.showSource(answer, true);
    done(answer);
  },

  setRate() {
    const input = document.getElementById("rate");
    const rate = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(rate) || rate < 0) {
      this.result("result.badRate", null, true);
      return;
    }
    const body = { rate };
    if (rate > 0 && this.source && this.source.paused) body.paused = false;
    this.change("PUT", "source", body, () => this.result("result.rate", { rate }));
  },

  togglePause() {
    const paused = !(this.source && this.source.paused);
    this.change("PUT", "source", { paused }, () =>
      this.result(paused ? "result.paused" : "result.resumed"));
  },

  async publish() {
    const input = document.getElementById("message");
    const text = input.value.trim();
    if (!text) {
      this.result("result.emptyMessage", null, true);
      return;
    }
    this.change("POST", "publish", { data: text }, (event) => {
      input.value = "";
      this.result("result.published", { id: event.id });
    });
  },

  /* The ticker's settings as the server reports them; an input being edited is left alone. */
  showSource(source, force) {
    if (!source) return;
    this.source = source;
    const rate = document.getElementById("rate");
    if (force || document.activeElement !== rate) rate.value = String(source.rate);
    const payload = document.getElementById("payload");
    if (force || document.activeElement !== payload) {
      const value = String(source.payload_bytes);
      if (![...payload.options].some((option) => option.value === value)) {
        payload.append(new Option(formatBytes(source.payload_bytes), value));
      }
      payload.value = value;
    }
    const pause = document.getElementById("pause");
    const key = source.paused ? "ctl.resume" : "ctl.pause";
    if (pause.dataset.i18n !== key) I18N.put(pause, key);
    pause.setAttribute("aria-pressed", String(source.paused));
  },

  streamsButton() {
    I18N.put(
      document.getElementById("streams-toggle"),
      ExtraStreams.active ? "ctl.closeStreams" : "ctl.openStreams",
    );
  },

  result(key, params, isError) {
    const element = document.getElementById("control-result");
    element.classList.toggle("error", Boolean(isError));
    I18N.put(element, key, params);
    clearTimeout(this.resultTimer);
    this.resultTimer = setTimeout(() => {
      delete element.dataset.i18n;
      element.textContent = "";
    }, 10000);
  },
};

/* ---------- start ---------- */

const shortPolling = new ShortPolling(document.getElementById("panel-short"));
const longPolling = new LongPolling(document.getElementById("panel-long"));
const sse = new ServerSentEvents(document.getElementById("panel-sse"));
const panels = [shortPolling, longPolling, sse];
const strip = new MetricsStrip();

let lastChartDraw = 0;

function frame() {
  const nowMs = Date.now();
  const nowS = nowMs / 1000;
  // Rows and counters when something arrived; everything (60 s averages, charts, pending
  // SSE checks) four times a second, since those move with time alone.
  const due = nowMs - lastChartDraw > 250;
  for (const panel of panels) {
    if (panel.dirty || due) panel.render(nowS);
  }
  shortPolling.showStall();
  strip.render();
  if (ExtraStreams.active) ExtraStreams.render();
  if (due) {
    lastChartDraw = nowMs;
    let max = 0;
    for (const panel of panels) {
      const summary = panel.chart.summary(nowS);
      if (summary && summary.max > max) max = summary.max;
    }
    const scale = niceScale(max);
    for (const panel of panels) panel.chart.draw(nowS, scale, t);
  }
  requestAnimationFrame(frame);
}

Access.readToken();
Controls.init();
I18N.onChange(() => {
  for (const panel of panels) panel.retranslate();
  lastChartDraw = 0;
});
I18N.setLanguage(I18N.initialLanguage());
Access.set(false, "access.checking");
Access.probe();
shortPolling.start();
longPolling.start();
sse.start();
strip.start();
requestAnimationFrame(frame);

// For the curious (and the tests): the panels' state, read-only in spirit.
window.lab = { panels: { short: shortPolling, long: longPolling, sse }, strip, ExtraStreams };
