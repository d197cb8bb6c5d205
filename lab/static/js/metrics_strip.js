import { Access } from "./access.js";
import { formatBytes, formatCount, rateText, sleep, Stall } from "./helpers.js";
import { I18N } from "./i18n.js";

const METRICS_EVERY_MS = 1000;
/* Rates are taken over the shortest recent window that holds at least 10 requests (5 s at
 * least, 60 s at most): a 1 s window would show a 5 s poller as 0 or 1 per second. */
const RATE_MIN_WINDOW_S = 5;
const RATE_MAX_WINDOW_S = 60;
const RATE_MIN_REQUESTS = 10;

export class MetricsStrip {
  constructor() {
    this.cells = {};
    for (const cell of document.querySelectorAll(".strip [data-transport]")) {
      this.cells[cell.dataset.transport] = cell;
    }
    this.state = document.getElementById("strip-state");
    this.history = [];
    this.pid = null;
    this.offsets = [];
    this.roundTripMs = null;
    this.inFlightSince = null;
    this.stateKey = null;
    this.stateParams = null;
    // Called with each /metrics answer (the controls and the theory read the settings).
    this.onSnapshot = () => {};
  }

  async start() {
    for (;;) {
      const started = performance.now();
      await this.refresh();
      await sleep(Math.max(0, METRICS_EVERY_MS - (performance.now() - started)));
    }
  }

  async refresh() {
    this.inFlightSince = performance.now();
    const sent = Date.now();
    try {
      const response = await fetch("metrics", { cache: "no-store" });
      const body = await response.json();
      const received = Date.now();
      if (this.stateKey !== "strip.restarted") this.setState(null);
      this.clock(body.time * 1000 - (sent + received) / 2, received - sent);
      this.show(body);
      this.onSnapshot(body);
    } catch (error) {
      this.setState("strip.unreachable");
    } finally {
      this.inFlightSince = null;
    }
  }

  setState(key, params) {
    if (this.stateKey === key && JSON.stringify(params) === JSON.stringify(this.stateParams)) return;
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
    this.roundTripMs = best[0];
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

  /* The snapshot to diff against for one transport's rates (null: too little history). */
  baseline(name, now) {
    let chosen = null;
    for (let i = this.history.length - 1; i >= 0; i -= 1) {
      const then = this.history[i];
      const span = now.time - then.time;
      if (span > RATE_MAX_WINDOW_S) break;
      if (span >= RATE_MIN_WINDOW_S) chosen = then;
      const made = now.transports[name].requests - then.transports[name].requests;
      if (chosen && made >= RATE_MIN_REQUESTS) break;
    }
    return chosen;
  }

  show(body) {
    const pid = body.process && body.process.pid;
    if (this.pid !== null && pid !== this.pid) {
      this.history = [];
      this.setState("strip.restarted", { time: new Date().toLocaleTimeString() });
      // A new process may have a new token: find out whether the controls still work.
      Access.probe();
    }
    this.pid = pid;
    for (const [name, cell] of Object.entries(this.cells)) {
      const now = body.transports[name];
      if (!now) continue;
      cell.querySelector('[data-m="requests"]').textContent = formatCount(now.requests);
      cell.querySelector('[data-m="open"]').textContent = formatCount(now.open);
      cell.querySelector('[data-m="bytes_out"]').textContent = formatBytes(now.bytes_out);
      const before = this.baseline(name, body);
      if (!before) continue;
      const seconds = body.time - before.time;
      const then = before.transports[name];
      const requestsRate = cell.querySelector('[data-m="requests_rate"]');
      const requests = rateText((now.requests - then.requests) / seconds, requestsRate.dataset.i18n);
      I18N.put(requestsRate, requests.key, { value: requests.value });
      requestsRate.dataset.perSecond = String((now.requests - then.requests) / seconds);
      I18N.put(cell.querySelector('[data-m="bytes_rate"]'), "rate.perSecond", {
        value: formatBytes((now.bytes_out - then.bytes_out) / seconds),
      });
    }
    const previous = this.history[this.history.length - 1];
    if (previous && body.time > previous.time) {
      const cpu = ((body.process.cpu_s - previous.process.cpu_s) / (body.time - previous.time)) * 100;
      document.getElementById("m-cpu").textContent = `${cpu.toFixed(0)} %`;
    }
    document.getElementById("m-rss").textContent = formatBytes(body.process.rss_bytes);
    const source = body.source;
    const ticker = document.getElementById("m-source");
    if (source.paused || source.rate === 0) I18N.put(ticker, "strip.paused");
    else I18N.put(ticker, "strip.tickerRate", { rate: source.rate });
    this.history.push(body);
    while (this.history.length && body.time - this.history[0].time > RATE_MAX_WINDOW_S + 2) {
      this.history.shift();
    }
  }

  /* How long this strip's /metrics request has been stuck in the browser (0: it is not). */
  stalledMs(now) {
    const waited = this.inFlightSince === null ? 0 : now - this.inFlightSince;
    return waited > Stall.afterMs ? waited : 0;
  }

  /* As a panel's (panel.js): streams holding every connection since `takenSince` leave
   * none for this strip's request. */
  waitingMs(now, takenSince) {
    if (takenSince !== null && this.inFlightSince !== null) {
      return Math.max(1, now - Math.max(this.inFlightSince, takenSince));
    }
    return this.stalledMs(now);
  }

  connection(now, takenSince) {
    if (this.waitingMs(now, takenSince) > 0) return "waiting";
    return this.inFlightSince === null ? "idle" : "holding";
  }

  render(now, atLimit, takenSince) {
    const waited = this.waitingMs(now, takenSince);
    if (waited > 0 && (this.stateKey === null || this.stateKey.startsWith("strip.waiting"))) {
      const seconds = Math.floor(waited / 1000);
      this.setState(atLimit ? "strip.waitingLimit" : "strip.waiting", { seconds });
    } else if (waited === 0 && this.stateKey && this.stateKey.startsWith("strip.waiting")) {
      this.setState(null);
    }
  }
}
