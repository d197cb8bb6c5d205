/* The classroom page: the same events through short polling, long polling, SSE and a
 * WebSocket (the ticker view), and one chat answer through the first three (the chat view).
 *
 * Everything the page keeps is bounded: 50 rows per list, fixed chart buckets, a capped
 * map of recent event types. Counters are plain integers that only the transports and the
 * reset button move. Each transport recovers by itself from a drop (POST /drop) and from a
 * server restart.
 */

import { Access } from "./access.js";
import { ChatView } from "./chat.js";
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
import { WebSocketPanel } from "./websocket.js";

const t = I18N.t;
const STALLED_AFTER_MS = Stall.afterMs;

const shortPolling = new ShortPolling(document.getElementById("panel-short"));
const longPolling = new LongPolling(document.getElementById("panel-long"));
const sse = new ServerSentEvents(document.getElementById("panel-sse"));
const webSocket = new WebSocketPanel(document.getElementById("panel-ws"));
const panels = [shortPolling, longPolling, sse, webSocket];
const strip = new MetricsStrip();
const chat = new ChatView();

let lastChartDraw = 0;
let takenSince = null;

function frame() {
  const nowMs = Date.now();
  const nowS = nowMs / 1000;
  const now = performance.now();
  // Rows and counters when something arrived; everything (60 s averages, charts, pending
  // SSE checks) four times a second, since those move with time alone.
  const due = nowMs - lastChartDraw > 250;
  // Streams that hold every connection the browser allows leave none for any request. The
  // WebSocket is not among them: Chromium counts WebSockets apart from those 6.
  const streamsHeld = (sse.holdsConnection() ? 1 : 0) + ExtraStreams.openCount();
  if (streamsHeld < ExtraStreams.connectionLimit) takenSince = null;
  else if (takenSince === null) takenSince = now;
  // Only a limit that exists can be the reason a request waits.
  const atLimit = ExtraStreams.active && ExtraStreams.connectionLimit !== Infinity;
  strip.render(now, atLimit, takenSince);
  // The paused panels are hidden: nothing of theirs moves, and a hidden chart has no size.
  if (document.body.dataset.view === "chat") {
    requestAnimationFrame(frame);
    return;
  }
  for (const panel of panels) {
    if (panel.dirty || due) panel.render(nowS);
    panel.showStall(now, atLimit, takenSince);
  }
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

/* The ticker's four panels, or the chat's three columns. The browser opens at most 6
 * HTTP/1.1 connections to one server; the ticker's stream and held long poll keep 2 of them
 * for ever, the chat's stream and long poll want 2 more, and every poll and /metrics
 * request needs one while it lasts. So the chat view pauses the ticker's panels (their
 * connections close, the WebSocket's too, though it is not one of the 6: a paused panel
 * holds nothing) and the ticker view resumes them live, after stopping any answer. */
function showView(view) {
  if (document.body.dataset.view === view) return;
  document.body.dataset.view = view;
  for (const button of document.querySelectorAll("button[data-view]")) {
    button.setAttribute("aria-pressed", String(button.dataset.view === view));
  }
  if (view === "chat") {
    if (ExtraStreams.active) ExtraStreams.close();
    for (const panel of panels) panel.pause();
  } else {
    chat.stop();
    for (const panel of panels) panel.resume();
    lastChartDraw = 0;
  }
}

/* The server's settings, with every /metrics answer. */
function settingsFromServer(body) {
  chat.showServer(body.chat);
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
TheoryText.init({ short: shortPolling, long: longPolling, sse, ws: webSocket });
Controls.init(shortPolling, {
  interval: (ms) => {
    TheoryText.update({ intervalMs: ms });
    chat.setIntervalMs(ms);
  },
  reset: resetPage,
  sendFrame: (data) => webSocket.send(data),
});
chat.setIntervalMs(shortPolling.intervalMs);
for (const button of document.querySelectorAll("button[data-view]")) {
  button.addEventListener("click", () => showView(button.dataset.view));
}
I18N.onChange(() => {
  chat.retranslate();
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
webSocket.start();
strip.start();
requestAnimationFrame(frame);

// For the curious (and the tests): the panels' state, read-only in spirit.
window.lab = {
  panels: { short: shortPolling, long: longPolling, sse, ws: webSocket },
  strip,
  chat,
  showView,
  ExtraStreams,
  TheoryText,
};
