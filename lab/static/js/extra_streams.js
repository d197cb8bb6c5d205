import { I18N } from "./i18n.js";
import { News } from "./news.js";

const EXTRA_STREAMS = 7;
/* Chromium's limit of HTTP/1.1 connections to one host (Firefox and Safari use 6 too). */
const CONNECTIONS_PER_HOST = 6;
/* What the browser reports it spoke to load this page ("h2", "http/1.1"; "" when it does
 * not say), so that the page describes the connections it has rather than assuming them:
 * behind a proxy that speaks HTTP/2 (`lab demo --via nginx:http2`) the limit above does
 * not apply, as every request and stream shares one connection. */
const NAVIGATION = performance.getEntriesByType("navigation")[0];
const PROTOCOL = (NAVIGATION && NAVIGATION.nextHopProtocol) || "";
const PROTOCOL_NAMES = { h2: "HTTP/2", h3: "HTTP/3" };
/* The page's own users of a connection, in the order the drawer names them. */
const REQUESTERS = ["sse", "long", "short", "strip"];

export const ExtraStreams = {
  streams: [],
  // Set at start-up to refresh the controls' toggle button, which imports this module: a
  // callback rather than an import keeps the two free of a cycle.
  onChange: () => {},
  onClosed: () => {},

  get active() {
    return this.streams.length > 0;
  },

  /* "HTTP/2" or "HTTP/3" when one connection carries all of the page's requests; else null. */
  multiplexedProtocol: PROTOCOL_NAMES[PROTOCOL] || null,

  /* Open requests and streams the browser lets this page have at once, to this server. */
  get connectionLimit() {
    return this.multiplexedProtocol ? Infinity : CONNECTIONS_PER_HOST;
  },

  open() {
    if (this.active) return;
    for (let n = 1; n <= EXTRA_STREAMS; n += 1) {
      const stream = { n, state: "connecting", events: 0, source: new EventSource("sse") };
      const count = (message) => {
        stream.events += 1;
        const [id, epoch] = message.lastEventId.split("@");
        News.seen(Number(id), epoch);
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
    document.body.classList.add("streams-open");
    const drawer = document.getElementById("streams");
    const protocol = this.multiplexedProtocol;
    const explain = (element, key) =>
      protocol ? I18N.put(element, `${key}Multiplexed`, { protocol }) : I18N.put(element, key);
    explain(drawer.querySelector(".explain-long"), "streams.explain");
    explain(drawer.querySelector(".explain-short"), "streams.explainShort");
    drawer.hidden = false;
    this.build();
    this.onChange();
  },

  close() {
    for (const stream of this.streams) stream.source.close();
    this.streams = [];
    document.body.classList.remove("streams-open");
    document.getElementById("streams").hidden = true;
    document.getElementById("stream-list").replaceChildren();
    this.shownTally = null;
    this.onChange();
    this.onClosed();
  },

  /* The events counted by the open streams start again (the page's reset). */
  reset() {
    for (const stream of this.streams) stream.events = 0;
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
  },

  openCount() {
    return this.streams.filter((stream) => stream.state === "open").length;
  },

  /* `connections`: what each of the page's own requesters does now ("holding" a
   * connection, "waiting" for one, or "idle"), e.g. { sse: "holding", long: "waiting" }. */
  render(connections) {
    const open = this.openCount();
    const waiting = this.streams.filter((stream) => stream.state === "connecting").length;
    const sseHeld = connections.sse === "holding";
    const streamsHeld = (sseHeld ? 1 : 0) + open;
    const holding = REQUESTERS.filter((who) => who !== "sse" && connections[who] === "holding");
    const waiters = REQUESTERS.filter((who) => connections[who] === "waiting");
    // A stream waits only while every connection is in use: the page's requests then hold
    // exactly what the streams leave, whichever of them it is.
    const protocol = this.multiplexedProtocol;
    const forRequests =
      waiting && !protocol ? Math.max(0, CONNECTIONS_PER_HOST - streamsHeld) : holding.length;
    const inUse = streamsHeld + forRequests;
    const tally = `${open}/${waiting}/${sseHeld}/${holding}/${forRequests}/${waiters}/${I18N.lang}`;
    if (this.shownTally !== tally) {
      this.shownTally = tally;
      I18N.put(document.getElementById("streams-summary"), "streams.summary", {
        open,
        waiting,
        total: EXTRA_STREAMS,
      });
      const named = (who) => who.map((name) => I18N.t(`streams.who.${name}`));
      const users = [
        ...(sseHeld ? named(["sse"]) : []),
        ...(open ? [I18N.t("streams.who.extra", { n: open })] : []),
      ];
      if (forRequests && forRequests === holding.length) users.push(...named(holding));
      else if (forRequests) users.push(I18N.t("streams.who.requests", { n: forRequests }));
      const used = document.getElementById("streams-in-use");
      // Connections, not requests: over HTTP/2 everything in use shares one.
      used.dataset.count = String(protocol ? 1 : inUse);
      used.dataset.streams = String(streamsHeld);
      used.dataset.requests = String(forRequests);
      if (protocol) {
        I18N.put(used, "streams.inUseMultiplexed", { list: users.join(" + "), protocol });
      } else {
        I18N.put(used, "streams.inUse", {
          list: users.join(" + "),
          n: inUse,
          limit: CONNECTIONS_PER_HOST,
        });
      }
      const queued = document.getElementById("streams-waiting");
      queued.dataset.who = [...waiters, ...(waiting ? ["extra"] : [])].join(",");
      const queue = [
        ...(waiting ? [I18N.t("streams.who.extra", { n: waiting })] : []),
        ...named(waiters),
      ];
      // Over HTTP/2 nothing queues for a connection: whatever waits, waits for its answer.
      const queueKey = protocol ? "streams.waitingForAnswer" : "streams.waitingFor";
      if (queue.length) I18N.put(queued, queueKey, { list: queue.join(", ") });
      else I18N.put(queued, "streams.nothingWaits");
    }
    for (const stream of this.streams) {
      const shown = `${stream.state}/${stream.events}/${I18N.lang}`;
      if (stream.shown === shown) continue;
      stream.shown = shown;
      const [name, state, events] = stream.item.children;
      stream.item.dataset.state = stream.state;
      name.textContent = String(stream.n);
      I18N.put(state, `streams.${stream.state}`);
      const count = stream.events === 1 ? "streams.event" : "streams.events";
      if (stream.state === "open") I18N.put(events, count, { n: stream.events });
      else events.textContent = "";
    }
  },
};
