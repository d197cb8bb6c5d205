import { Access } from "./access.js";
import { formatSeconds, utf8Length } from "./helpers.js";
import { Panel, Types } from "./panel.js";
import { websocketFrameHeader } from "./theory.js";

/* Reconnection delays: the first after a drop, and the longest after failures in a row. */
const RECONNECT_FIRST_MS = 1000;
const RECONNECT_MAX_MS = 8000;
/* RFC 6455: a client masks every frame it sends with a 4-byte key (after the header). */
const MASK_KEY_BYTES = 4;
/* Close codes the page names (RFC 6455, section 7.4.1). */
const NO_CLOSE_FRAME = 1006;
const DROPPED = 1012; // "service restart": what POST /drop sends

/* WebSocket: one request that upgrades the connection (GET /ws, answered 101), then frames
 * both ways on it. Each event is one JSON text frame; a frame the page sends publishes one.
 *
 * The browser's WebSocket is only the socket. When it closes it stays closed, and it knows
 * nothing of event ids. EventSource does all of the following by itself; here it is written
 * out, and the comments marked "EventSource:" say what the SSE panel gets for free:
 *   1. remember the last event id and the server run it belongs to;
 *   2. when the connection ends, wait a moment and connect again;
 *   3. ask to continue after that id, so that nothing published meanwhile is lost;
 *   4. when the server cannot continue from there, find out why and start again.
 */
export class WebSocketPanel extends Panel {
  constructor(element) {
    super("ws", element);
    this.socket = null;
    this.opened = false; // whether the current socket got through its handshake
    this.failures = 0; // handshakes in a row that did not open
    this.timer = null;
    this.counters.empty = null;
    this.cells.empty.dataset.fixed = "";
  }

  liveStatus() {
    this.setStatus("live", "status.liveWs");
  }

  start() {
    this.connect();
  }

  /* Step 3's address. EventSource sends its last id in a Last-Event-ID header by itself; a
   * page cannot set a WebSocket's headers, so the cursor (and the run it belongs to, the
   * epoch) go in the query string. Without a cursor the server starts from now. */
  url() {
    const url = new URL("ws", document.baseURI);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    if (this.lastId !== null && this.epoch) {
      url.searchParams.set("last_event_id", String(this.lastId));
      url.searchParams.set("epoch", this.epoch);
    }
    // Publishing over the socket off loopback needs the teacher's token (students have none).
    if (Access.token) url.searchParams.set("token", Access.token);
    return url.href;
  }

  connect() {
    const socket = new WebSocket(this.url());
    this.socket = socket;
    this.opened = false;
    // A socket replaced or closed by pause() may still report: only the current one counts.
    socket.onopen = () => {
      if (socket !== this.socket) return;
      this.opened = true;
      this.failures = 0;
      this.counters.requests += 1; // the upgrade request: one per connection
      this.dirty = true;
    };
    socket.onmessage = (message) => {
      if (socket === this.socket) this.frame(message.data);
    };
    // "error" always comes just before "close" and says nothing more: the close decides.
    socket.onclose = (close) => {
      if (socket === this.socket) this.closed(close);
    };
  }

  /* One text frame from the server: an event, or a notice (an object with no id). */
  frame(data) {
    const bytes = utf8Length(data);
    this.counters.bytes += bytes + websocketFrameHeader(bytes);
    this.dirty = true;
    let message;
    try {
      message = JSON.parse(data);
    } catch (error) {
      return;
    }
    if (message.notice !== undefined) {
      this.serverNotice(message);
      return;
    }
    // Step 1: Panel.receive() keeps the id (EventSource: its lastEventId).
    Types.seen(message.id, message.type);
    this.receive(message);
  }

  serverNotice(message) {
    if (message.notice === "open") {
      // Where this connection starts, and the server run's epoch (EventSource reads both
      // from each event's "id:" line).
      const sameRun = this.epoch === message.epoch;
      this.epoch = message.epoch;
      if (this.lastId === null && !this.awaitingFirstAfterRestart) {
        // A fresh start: the ids are checked for gaps from here on.
        this.lastId = message.last_id;
        this.liveStatus();
      } else if (this.resumeFrom !== null && sameRun) {
        this.markResumed();
      } else if (this.resumeFrom === null && !this.awaitingFirstAfterRestart) {
        this.liveStatus();
      }
    } else if (message.notice === "gap" && message.restarted) {
      // Step 4: our cursor belongs to an earlier run of the server, whose ids began again;
      // the server goes on from the new run's first event. (EventSource sends the old id
      // too, and the server answers the same way; it is the page that must see it.)
      this.notice("restart", "row.restartedWs", { id: this.lastId });
      this.serverRestarted();
    } else if (message.notice === "gap") {
      // The server's history no longer reaches back to our cursor: said, not hidden.
      this.gap(message.missed_after + 1, message.resumed_from - 1);
    }
    this.dirty = true;
  }

  /* Step 2. EventSource: it fires "error", waits the server's `retry:` time and
   * reconnects with Last-Event-ID, all by itself, unless the server answered an error. */
  closed(close) {
    this.socket = null;
    this.dirty = true;
    if (!this.opened) {
      this.handshakeFailed();
      return;
    }
    // A WebSocket says why it closed (EventSource cannot): a code, and the server's reason.
    if (close.code === NO_CLOSE_FRAME) this.notice("gap", "row.wsLost");
    else this.notice("gap", "row.wsClosed", { code: close.code, reason: close.reason || "–" });
    this.reconnecting(close.code === DROPPED ? "status.dropped" : "status.reconnecting");
    this.later(reconnectDelayMs(0));
  }

  /* The socket never opened: the server was unreachable, or it refused the upgrade. The
   * browser hides the answer's status from the page, so ask /source how things stand, as
   * the SSE panel does when EventSource gives up (server_sent_events.js, refused()). */
  async handshakeFailed() {
    const run = this.run;
    this.failures += 1;
    const delay = reconnectDelayMs(this.failures);
    let source = null;
    try {
      const response = await fetch("source", { cache: "no-store" });
      source = await response.json();
    } catch (error) {
      /* unreachable: said below */
    }
    if (run !== this.run) return; // paused meanwhile
    if (this.lastId !== null) this.reconnecting();
    if (!source || !Number.isInteger(source.last_id)) {
      // Keep the cursor: the same server may come back, and then nothing is lost.
      this.setStatus("problem", "status.unreachable", { seconds: formatSeconds(delay) });
    } else if (this.lastId !== null && source.epoch === this.epoch && this.lastId > source.last_id) {
      // A cursor ahead of the server's newest event is refused (400): start over, live.
      this.notice("restart", "row.restartedWs", { id: this.lastId });
      this.serverRestarted();
      this.later(0);
      return;
    } else {
      // Refused for another reason (the server's limit on open sockets, or a proxy that
      // does not pass the upgrade on): try again later from the same cursor. A new run's
      // epoch is fine too: the server itself says so when we connect (see serverNotice).
      this.setStatus("problem", "status.wsRefused", { seconds: formatSeconds(delay) });
    }
    this.later(delay);
  }

  later(delay) {
    const run = this.run;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (run === this.run) this.connect();
    }, delay);
  }

  /* The second direction, which SSE does not have: one frame in publishes one event for
   * everyone. Returns the frame's size, or null when the socket is not open. */
  send(data) {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return null;
    const text = JSON.stringify({ data });
    socket.send(text);
    const bytes = utf8Length(text);
    const header = websocketFrameHeader(bytes) + MASK_KEY_BYTES;
    this.notice("sent", "row.wsSent", { bytes, header });
    return { bytes, header };
  }

  /* The chat needs the browser's connections: close the socket until resume(). */
  pause() {
    super.pause();
    clearTimeout(this.timer);
    this.timer = null;
    const socket = this.socket;
    this.socket = null;
    if (socket) socket.close(1000, "paused while the chat is shown");
  }

  resume() {
    super.resume();
    this.failures = 0;
    this.connect(); // no cursor: live, as a new page would start
  }

  /* A WebSocket is not one of the 6 HTTP/1.1 connections per server that Chromium allows
   * requests and streams: it counts WebSockets apart. So the 7-streams demo leaves this
   * panel alone, and it never holds one of the 6. */
  holdsConnection() {
    return false;
  }
}

/* 1 s after a drop, then doubling with each failure up to 8 s. The jitter (±20%) keeps a
 * class of browsers, all dropped at once, from reconnecting in the same instant.
 * (EventSource: the server's `retry:` time, the same for every attempt.) */
function reconnectDelayMs(failures) {
  const base = Math.min(RECONNECT_MAX_MS, RECONNECT_FIRST_MS * 2 ** failures);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
