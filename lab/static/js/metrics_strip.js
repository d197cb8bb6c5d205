import { Access } from "./access.js";
import { Controls } from "./controls.js";
import { formatBytes, formatCount, sleep, STALLED_AFTER_MS } from "./helpers.js";
import { I18N } from "./i18n.js";

const METRICS_EVERY_MS = 1000;

export class MetricsStrip {
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
