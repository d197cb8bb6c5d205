import { I18N } from "./i18n.js";

const EXTRA_STREAMS = 7;

export const ExtraStreams = {
  streams: [],
  // Set at start-up to refresh the controls' toggle button, which imports this module: a
  // callback rather than an import keeps the two free of a cycle.
  onChange: () => {},

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
    this.onChange();
  },

  close() {
    for (const stream of this.streams) stream.source.close();
    this.streams = [];
    document.getElementById("streams").hidden = true;
    document.getElementById("stream-list").replaceChildren();
    this.onChange();
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
