/* Each panel's theory, in numbers for the settings the page runs with now: the ticker's rate
 * and arrivals (from the server's /metrics), the polling interval (chosen on this page) and
 * the round trip to the server (measured by the strip). Rewritten only when a number
 * changes, and on a language switch. */

import { formatLatency, formatSeconds, formatShare, significant } from "./helpers.js";
import { I18N } from "./i18n.js";
import {
  LONGPOLL_TIMEOUT_S,
  longPolling,
  serverSentEvents,
  shortPolling,
  webSocket,
} from "./theory.js";

/* Below this, a one-way trip is lost in the page's own timing: not worth a "+". */
const NOTICEABLE_MS = 5;

export const TheoryText = {
  elements: {},
  shown: {},
  inputs: { rate: null, arrivals: null, paused: false, intervalMs: 1000, rttMs: 0 },

  init(panels) {
    for (const [key, panel] of Object.entries(panels)) {
      this.elements[key] = panel.element.querySelector("[data-theory]");
    }
  },

  /* Any of rate, arrivals, paused, intervalMs, rttMs; the others are kept. */
  update(changes) {
    Object.assign(this.inputs, changes);
    this.render();
  },

  render(force) {
    const { rate, arrivals, paused, intervalMs } = this.inputs;
    if (rate === null) return; // the server's settings are not known yet
    // Rounded, so that a round trip measured a little differently each second does not
    // rewrite the text every second.
    const rttMs = roundTrip(this.inputs.rttMs);
    const rttS = rttMs / 1000;
    const intervalS = intervalMs / 1000;
    const quiet = paused || rate === 0;
    const oneWay = formatLatency(rttMs / 2);
    const common = { rate: significant(rate), interval: formatSeconds(intervalMs), oneWay };

    const short = shortPolling({ rate, intervalS, arrivals, rttS });
    const shortParams = {
      ...common,
      wait: formatLatency(short.waitMs),
      empty: formatShare(short.emptyShare),
      plus:
        rttMs / 2 >= NOTICEABLE_MS
          ? I18N.t("theory.plusTrip", { oneWay, total: formatLatency(short.latencyMs) })
          : "",
    };
    let shortKey = "theory.short.random";
    if (quiet) shortKey = "theory.short.paused";
    else if (arrivals !== "poisson") {
      shortKey = short.emptyShare > 0 ? "theory.short.even" : "theory.short.evenFull";
    }
    this.put("short", shortKey, shortParams, force);

    if (quiet) {
      this.put("long", "theory.long.paused", { ...common, timeout: LONGPOLL_TIMEOUT_S }, force);
    } else {
      const long = longPolling({ rate, timeoutS: LONGPOLL_TIMEOUT_S, arrivals, rttS });
      let note = "";
      if (long.requestsPerEvent < 0.95) note = I18N.t("theory.long.batched");
      else if (long.timeoutShare >= 0.01) {
        note = I18N.t("theory.long.timeouts", { timeout: LONGPOLL_TIMEOUT_S });
      }
      this.put(
        "long",
        "theory.long",
        {
          ...common,
          requests: long.requestsPerEvent.toFixed(2),
          latency: formatLatency(long.latencyMs),
          note,
        },
        force,
      );
    }
    const sse = serverSentEvents({ rttS });
    this.put("sse", "theory.sse", { ...common, latency: formatLatency(sse.latencyMs) }, force);
    const ws = webSocket({ rttS });
    this.put("ws", "theory.ws", { ...common, latency: formatLatency(ws.latencyMs) }, force);
  },

  put(panel, key, params, force) {
    const element = this.elements[panel];
    const shown = `${I18N.lang}/${key}/${JSON.stringify(params)}`;
    if (!element || (this.shown[panel] === shown && !force)) return;
    this.shown[panel] = shown;
    I18N.put(element, key, params);
  },
};

function roundTrip(ms) {
  if (!(ms > 0)) return 0;
  if (ms < 20) return Math.round(ms);
  return Number(ms.toPrecision(2));
}
