/* The classroom page: the same events through short polling, long polling and SSE.
 *
 * Everything the page keeps is bounded: 50 rows per list, fixed chart buckets, a capped
 * map of recent event types. Counters are plain integers that only the transports move.
 * Each transport recovers by itself from a drop (POST /drop) and from a server restart.
 */

import { Access } from "./access.js";
import { Controls } from "./controls.js";
import { ExtraStreams } from "./extra_streams.js";
import { I18N } from "./i18n.js";
import { niceScale } from "./latency_chart.js";
import { LongPolling } from "./long_polling.js";
import { MetricsStrip } from "./metrics_strip.js";
import { Types } from "./panel.js";
import { ServerSentEvents } from "./server_sent_events.js";
import { ShortPolling } from "./short_polling.js";

const t = I18N.t;

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

Types.onType = (type) => sse.listen(type);
ExtraStreams.onChange = () => Controls.streamsButton();
Access.readToken();
Controls.init(shortPolling);
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
