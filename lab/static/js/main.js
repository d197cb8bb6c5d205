/* The classroom page: the same events through short polling, long polling and SSE.
 *
 * Everything the page keeps is bounded: 50 rows per list, fixed chart buckets, a capped
 * map of recent event types. Counters are plain integers that only the transports and the
 * reset button move. Each transport recovers by itself from a drop (POST /drop) and from a
 * server restart.
 */

import { Access } from "./access.js";
import { Controls } from "./controls.js";
import { ExtraStreams } from "./extra_streams.js";
import { Stall } from "./helpers.js";
import { I18N } from "./i18n.js";
import { niceScale } from "./latency_chart.js";
import { LongPolling } from "./long_polling.js";
import { MetricsStrip } from "./metrics_strip.js";
import { Types } from "./panel.js";
import { ServerSentEvents } from "./server_sent_events.js";
import { ShortPolling } from "./short_polling.js";
import { TheoryText } from "./theory_text.js";

const t = I18N.t;
const STALLED_AFTER_MS = Stall.afterMs;

const shortPolling = new ShortPolling(document.getElementById("panel-short"));
const longPolling = new LongPolling(document.getElementById("panel-long"));
const sse = new ServerSentEvents(document.getElementById("panel-sse"));
const panels = [shortPolling, longPolling, sse];
const strip = new MetricsStrip();

let lastChartDraw = 0;
let takenSince = null;

function frame() {
  const nowMs = Date.now();
  const nowS = nowMs / 1000;
  const now = performance.now();
  // Rows and counters when something arrived; everything (60 s averages, charts, pending
  // SSE checks) four times a second, since those move with time alone.
  const due = nowMs - lastChartDraw > 250;
  // Streams that hold every connection the browser allows leave none for any request.
  const streamsHeld = (sse.holdsConnection() ? 1 : 0) + ExtraStreams.openCount();
  if (streamsHeld < ExtraStreams.connectionLimit) takenSince = null;
  else if (takenSince === null) takenSince = now;
  // Only a limit that exists can be the reason a request waits.
  const atLimit = ExtraStreams.active && ExtraStreams.connectionLimit !== Infinity;
  for (const panel of panels) {
    if (panel.dirty || due) panel.render(nowS);
    panel.showStall(now, atLimit, takenSince);
  }
  strip.render(now, atLimit, takenSince);
  if (ExtraStreams.active) {
    ExtraStreams.render({
      sse: sse.connection(now, takenSince),
      long: longPolling.connection(now, takenSince),
      short: shortPolling.connection(now, takenSince),
      strip: strip.connection(now, takenSince),
    });
  }
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

/* Charts, averages, counters and lists start again: e.g. after the 7-streams demo, whose
 * stalled requests would weigh on the 60 s averages and the shared scale for a minute. */
function resetPage() {
  for (const panel of panels) panel.reset();
  ExtraStreams.reset();
  lastChartDraw = 0;
  Controls.suggestReset(false);
  Controls.result("result.reset");
}

/* The server's settings, with every /metrics answer. */
function settingsFromServer(body) {
  Controls.showSource(body.source);
  const simulatedMs = (body.network && body.network.simulated_rtt_ms) || 0;
  // Behind a simulated network every answer is late by its round trip; only a wait beyond
  // that is a stuck request.
  Stall.afterMs = STALLED_AFTER_MS + simulatedMs;
  const badge = document.getElementById("network");
  const protocol = ExtraStreams.multiplexedProtocol;
  if (simulatedMs > 0 && protocol) {
    I18N.put(badge, "network.simulatedMultiplexed", { ms: simulatedMs, protocol });
  } else if (simulatedMs > 0) I18N.put(badge, "network.simulated", { ms: simulatedMs });
  else if (protocol) I18N.put(badge, "network.multiplexed", { protocol });
  badge.hidden = !(simulatedMs > 0 || protocol);
  TheoryText.update({
    rate: body.source.rate,
    arrivals: body.source.arrivals,
    paused: body.source.paused,
    rttMs: strip.roundTripMs === null ? simulatedMs : strip.roundTripMs,
  });
}

Types.onType = (type) => sse.listen(type);
ExtraStreams.onChange = () => Controls.streamsButton();
ExtraStreams.onClosed = () => {
  Controls.suggestReset(true);
  Controls.result("result.streamsClosed");
};
strip.onSnapshot = settingsFromServer;
Access.readToken();
TheoryText.init({ short: shortPolling, long: longPolling, sse });
Controls.init(shortPolling, {
  interval: (ms) => TheoryText.update({ intervalMs: ms }),
  reset: resetPage,
});
I18N.onChange(() => {
  for (const panel of panels) panel.retranslate();
  TheoryText.render(true);
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
window.lab = {
  panels: { short: shortPolling, long: longPolling, sse },
  strip,
  ExtraStreams,
  TheoryText,
};
