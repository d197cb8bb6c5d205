import { Access } from "./access.js";
import { ExtraStreams } from "./extra_streams.js";
import { formatBytes, formatSeconds } from "./helpers.js";
import { I18N } from "./i18n.js";

export const Controls = {
  source: null,
  resultTimer: null,

  /* `on.interval(ms)`: the polling interval changed; `on.reset()`: the reset button;
   * `on.sendFrame(data)`: publish over the WebSocket panel's socket (null: it is not open). */
  init(shortPolling, on) {
    this.on = on;
    document.getElementById("rate-set").addEventListener("click", () => this.setRate());
    document.getElementById("rate").addEventListener("keydown", (event) => {
      if (event.key === "Enter") this.setRate();
    });
    document.getElementById("pause").addEventListener("click", () => this.togglePause());
    document.getElementById("payload").addEventListener("change", (event) => {
      const bytes = Number(event.target.value);
      this.change("PUT", "source", { payload_bytes: bytes }, () =>
        this.result("result.payload", { bytes: formatBytes(bytes) }));
    });
    document.getElementById("interval").addEventListener("change", (event) => {
      const ms = Number(event.target.value);
      shortPolling.setIntervalMs(ms);
      on.interval(ms);
      this.result("result.interval", { seconds: formatSeconds(ms) });
    });
    document.getElementById("reset").addEventListener("click", () => on.reset());
    // A reloaded page may show the interval chosen before (the browser restores forms).
    const chosen = Number(document.getElementById("interval").value);
    if (chosen > 0 && chosen !== shortPolling.intervalMs) {
      shortPolling.setIntervalMs(chosen);
      on.interval(chosen);
    }
    document.getElementById("publish-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.publish();
    });
    document.getElementById("drop").addEventListener("click", () => {
      this.change("POST", "drop", null, (body) => {
        this.result("result.dropped", { n: body.dropped });
        shortPolling.notice("gap", "row.dropNothing");
      });
    });
    document.getElementById("streams-toggle").addEventListener("click", () => {
      if (ExtraStreams.active) ExtraStreams.close();
      else ExtraStreams.open();
    });
    document.getElementById("streams-close").addEventListener("click", () => ExtraStreams.close());
    for (const button of document.querySelectorAll("[data-lang]")) {
      button.addEventListener("click", () => I18N.setLanguage(button.dataset.lang));
    }
  },

  async change(method, path, body, done) {
    let response;
    let answer = null;
    try {
      response = await fetch(path, {
        method,
        headers: Access.headers(),
        body: body === null ? undefined : JSON.stringify(body),
        cache: "no-store",
      });
      answer = await response.json().catch(() => null);
    } catch (error) {
      this.result("result.unreachable", null, true);
      return;
    }
    if (response.status === 401) Access.set(false, "access.readonly");
    if (response.status === 403) Access.set(false, "access.badToken");
    if (!response.ok) {
      this.result("result.error", { error: (answer && answer.error) || response.status }, true);
      return;
    }
    if (path === "source" && answer) this.showSource(answer, true);
    done(answer);
  },

  setRate() {
    const input = document.getElementById("rate");
    const rate = Number(input.value);
    if (input.value.trim() === "" || !Number.isFinite(rate) || rate < 0) {
      this.result("result.badRate", null, true);
      return;
    }
    const body = { rate };
    if (rate > 0 && this.source && this.source.paused) body.paused = false;
    this.change("PUT", "source", body, () => this.result("result.rate", { rate }));
  },

  togglePause() {
    const paused = !(this.source && this.source.paused);
    this.change("PUT", "source", { paused }, () =>
      this.result(paused ? "result.paused" : "result.resumed"));
  },

  async publish() {
    const input = document.getElementById("message");
    const text = input.value.trim();
    if (!text) {
      this.result("result.emptyMessage", null, true);
      return;
    }
    if (document.getElementById("publish-via").value === "ws") {
      // One frame on the open socket: no request, and no answer either (the event itself
      // comes back to every panel, this one's socket included).
      const sent = this.on.sendFrame(text);
      if (!sent) {
        this.result("result.wsNotOpen", null, true);
        return;
      }
      input.value = "";
      this.result("result.sentWs", { bytes: sent.bytes + sent.header });
      return;
    }
    this.change("POST", "publish", { data: text }, (event) => {
      input.value = "";
      this.result("result.published", { id: event.id });
    });
  },

  /* The ticker's settings as the server reports them; an input being edited is left alone. */
  showSource(source, force) {
    if (!source) return;
    this.source = source;
    const rate = document.getElementById("rate");
    if (force || document.activeElement !== rate) rate.value = String(source.rate);
    const payload = document.getElementById("payload");
    if (force || document.activeElement !== payload) {
      const value = String(source.payload_bytes);
      if (![...payload.options].some((option) => option.value === value)) {
        payload.append(new Option(formatBytes(source.payload_bytes), value));
      }
      payload.value = value;
    }
    const pause = document.getElementById("pause");
    const key = source.paused ? "ctl.resume" : "ctl.pause";
    if (pause.dataset.i18n !== key) I18N.put(pause, key);
    pause.setAttribute("aria-pressed", String(source.paused));
  },

  /* After the 7-streams demo the stalled requests' late events distort the charts and
   * averages for a minute: the reset button says it can clear them. */
  suggestReset(suggested) {
    document.getElementById("reset").classList.toggle("suggested", suggested);
  },

  streamsButton() {
    I18N.put(
      document.getElementById("streams-toggle"),
      ExtraStreams.active ? "ctl.closeStreams" : "ctl.openStreams",
    );
  },

  result(key, params, isError) {
    const element = document.getElementById("control-result");
    element.classList.toggle("error", Boolean(isError));
    I18N.put(element, key, params);
    clearTimeout(this.resultTimer);
    this.resultTimer = setTimeout(() => {
      delete element.dataset.i18n;
      element.textContent = "";
    }, 10000);
  },
};
