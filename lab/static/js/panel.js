import { formatBytes, formatCount, formatLatency, formatShare } from "./helpers.js";
import { I18N } from "./i18n.js";
import { LatencyChart } from "./latency_chart.js";
import { News } from "./news.js";

const COLOURS = { short: "#1f77b4", long: "#ff7f0e", sse: "#2ca02c", ws: "#9467bd" };
const MAX_ROWS = 50;
const MAX_SHOWN_CHARS = 120;

/* Event types seen by the panels that receive every type (polling, WebSocket), so the SSE
 * panel, which only hears the types it listens for, can tell "another type" from "lost". */
export const Types = {
  recent: new Map(),
  limit: 5000,
  // Set at start-up to the SSE panel's listen(): that panel builds on this module, so this
  // module cannot import it.
  onType: null,

  seen(id, type) {
    if (!this.recent.has(id)) {
      this.recent.set(id, type);
      if (this.recent.size > this.limit) this.recent.delete(this.recent.keys().next().value);
    }
    if (this.onType) this.onType(type);
  },

  clear() {
    this.recent.clear();
  },
};

export class Panel {
  constructor(key, element) {
    this.key = key;
    this.element = element;
    this.counters = { requests: 0, empty: 0, bytes: 0, events: 0, lost: 0, repeated: 0 };
    this.lastId = null;
    this.latencyLast = null;
    this.awaitingFirstAfterRestart = false;
    this.resumeFrom = null; // set while reconnecting: the id we resume after
    this.paused = false;
    // Bumped by pause(): a request still under way from before it sees that it is stale.
    this.run = 0;
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
    this.stallShown = null;
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
    News.seen(id, this.epoch);
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
    this.counters.lost += to - from + 1;
    this.notice("problem", "row.lost", { from, to });
  }

  /* The server said its history lost events (a "gap"): shown, not counted as lost. */
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
    News.reset();
    this.setStatus("restarting", "status.restarting");
  }

  /* The chat tab needs the browser's connections (6 per server over HTTP/1.1): this panel
   * lets go of its own and asks nothing until resume(). Each transport closes what it holds. */
  pause() {
    this.paused = true;
    this.run += 1;
    this.setStatus("paused", "status.paused");
  }

  /* Live again from now, as a new page would start. What was published meanwhile was never
   * asked for, so the id check starts again at the next event instead of calling the
   * skipped ids lost; a row says where the pause was. */
  resume() {
    this.paused = false;
    this.run += 1;
    if (this.lastId !== null) this.notice("paused", "row.paused", { id: this.lastId });
    this.lastId = null;
    this.resumeFrom = null;
    this.setStatus("starting", "status.starting");
  }

  /* How long this panel's request has been stuck in the browser (0: it is not). */
  stalledMs() {
    return 0;
  }

  holdsConnection() {
    return this.inFlightSince !== null && this.inFlightSince !== undefined;
  }

  /* How long this panel's request has waited for a connection (0: it has one, or none is
   * asked for). `takenSince`: since when streams have held every connection the browser
   * allows (null: they do not), so that a request in flight cannot have one. */
  waitingMs(now, takenSince) {
    if (takenSince !== null && this.inFlightSince !== null && this.inFlightSince !== undefined) {
      return Math.max(1, now - Math.max(this.inFlightSince, takenSince));
    }
    return this.stalledMs(now);
  }

  /* "holding" a connection to the server, "waiting" for one, or "idle". */
  connection(now, takenSince) {
    if (this.waitingMs(now, takenSince) > 0) return "waiting";
    return this.holdsConnection() ? "holding" : "idle";
  }

  /* Says so while this panel's request waits for a connection, and stops saying so after.
   * `atLimit`: the extra streams hold the browser's connections, so that is why. */
  showStall(now, atLimit, takenSince) {
    const waited = this.waitingMs(now, takenSince);
    const stalled = waited > 0;
    if (stalled) {
      const key = atLimit ? "status.stalledLimit" : "status.stalled";
      const seconds = Math.floor(waited / 1000);
      if (this.stallShown !== `${key}/${seconds}`) {
        this.statusElement.dataset.state = "stalled";
        I18N.put(this.statusElement, key, { seconds });
        this.stallShown = `${key}/${seconds}`;
      }
    } else if (this.stallShown) {
      // Caught up: "resumed from id N" belonged to an earlier reconnection, not to this wait.
      if (this.status.state === "resumed") this.liveStatus();
      else this.setStatus(this.status.state, this.status.key, this.status.params);
    }
    if (this.element.dataset.stalled !== String(stalled)) this.element.dataset.stalled = String(stalled);
  }

  /* Counters, chart, averages and list start again from now; the cursor is kept, so ids
   * are still checked for gaps across the reset. */
  reset() {
    for (const name of Object.keys(this.counters)) {
      if (this.counters[name] !== null) this.counters[name] = 0;
    }
    this.latencyLast = null;
    this.chart.clear();
    this.pendingRows.length = 0;
    this.list.replaceChildren();
    this.notice("reset", "row.reset", { time: new Date().toLocaleTimeString() });
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
      if (name === "bytes") cell.textContent = formatBytes(value);
      else if (name === "empty" && this.counters.requests > 0) {
        // The share, to set beside the theory's.
        cell.textContent = `${formatCount(value)} · ${formatShare(value / this.counters.requests)}`;
      } else cell.textContent = formatCount(value);
      if (name === "bytes") cell.title = `${formatCount(value)} B`;
    }
    for (const name of ["lost", "repeated"]) {
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
