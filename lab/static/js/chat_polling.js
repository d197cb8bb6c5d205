/* The chat answer by polling a job: POST /chat/jobs starts the answer on the server, then
 * GET /chat/jobs/<id>?after=N asks for the tokens after the last one shown, either answered
 * at once every poll interval (short polling) or held by the server until there are new
 * tokens (long polling, `wait`). Stop deletes the job: a polled answer has no connection
 * whose closing the server could notice, only a silence it would wait 10 s to believe. */

import { ChatColumn, errorSentence, JSON_HEADERS } from "./chat_column.js";
import { formatSeconds } from "./helpers.js";

/* Below the server's 25 s ceiling and a proxy's usual 30 to 60 s idle timeout. */
export const LONG_POLL_WAIT_S = 20;

export class PolledAnswer extends ChatColumn {
  /* `held`: long polling (the server holds each request); otherwise short polling. */
  constructor(element, held) {
    super(element);
    this.held = held;
    this.intervalMs = 1000;
    this.job = null;
    this.controller = null;
    this.wake = null;
    this.rearm = null;
  }

  /* The page's poll interval (the #interval select), taken up by the wait under way. */
  setIntervalMs(ms) {
    this.intervalMs = ms;
    if (this.held || !this.running) return;
    if (this.rearm) this.rearm();
    if (this.job) this.pollingStatus();
  }

  pollingStatus() {
    if (this.held) this.setStatus("live", "chat.status.long", { wait: LONG_POLL_WAIT_S });
    else {
      this.setStatus("live", "chat.status.short", { seconds: formatSeconds(this.intervalMs) });
    }
  }

  async send(question, sentAt) {
    const attempt = this.begin(sentAt);
    this.job = null;
    this.request();
    let response;
    let body = null;
    try {
      response = await fetch("chat/jobs", {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify(question),
        cache: "no-store",
      });
      if (response.status === 201) body = await response.json();
    } catch (error) {
      if (this.current(attempt)) this.unreachable();
      return;
    }
    if (response.status !== 201) {
      this.refused(response, attempt);
      return;
    }
    // Stopped (or asked again) while the POST was under way: its job exists now, and would
    // generate for 10 s more with nobody asking.
    if (!this.current(attempt)) {
      this.deleteJob(body.id, attempt);
      return;
    }
    this.job = body.id;
    this.pollingStatus();
    await this.poll(attempt, sentAt);
  }

  async poll(attempt, sentAt) {
    let after = null;
    let lastStart = sentAt; // short polling asks one interval after Send, then every interval
    while (this.current(attempt)) {
      if (!this.held) {
        await this.nextPoll(lastStart);
        if (!this.current(attempt)) return;
        lastStart = performance.now();
      }
      const query = new URLSearchParams();
      if (after !== null) query.set("after", String(after));
      if (this.held) query.set("wait", String(LONG_POLL_WAIT_S));
      const controller = new AbortController();
      this.controller = controller;
      this.request();
      let response;
      let body = null;
      try {
        response = await fetch(`${this.jobUrl(this.job)}?${query}`, {
          cache: "no-store",
          signal: controller.signal,
        });
        if (response.status === 200) body = await response.json();
      } catch (error) {
        if (this.current(attempt)) this.unreachable();
        return;
      }
      if (!this.current(attempt)) return;
      if (!body) {
        this.refused(response, attempt);
        return;
      }
      for (const token of body.tokens || []) this.token(token);
      if (Number.isInteger(body.last)) after = body.last;
      this.render();
      if (body.done) this.finish("done", "chat.status.done");
      else if (body.aborted) this.finish("problem", "chat.status.aborted");
    }
  }

  /* Until one poll interval after the last poll started, or Stop. The interval may change
   * meanwhile (setIntervalMs re-arms the timer). */
  nextPoll(lastStart) {
    return new Promise((resolve) => {
      let timer = null;
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        this.rearm = null;
        resolve();
      };
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(done, Math.max(0, lastStart + this.intervalMs - performance.now()));
      };
      this.wake = done;
      this.rearm = arm;
      arm();
    });
  }

  jobUrl(id) {
    return `chat/jobs/${encodeURIComponent(id)}`;
  }

  stop() {
    if (!this.running) return;
    this.finish("stopped", "chat.status.stopped");
    if (this.controller) this.controller.abort();
    if (this.wake) this.wake();
    if (this.job) this.deleteJob(this.job, this.attempt);
  }

  /* DELETE /chat/jobs/<id>: the server stops generating at once (counted aborted). */
  async deleteJob(id, attempt) {
    // Counted in the column that shows this answer; a newer question has its own count.
    if (attempt === this.attempt) this.request();
    let response;
    try {
      response = await fetch(this.jobUrl(id), { method: "DELETE", cache: "no-store" });
    } catch (error) {
      return; // unreachable: the server aborts the job itself after 10 s of silence
    }
    if (response.status === 204 || attempt !== this.attempt) return;
    const error = await errorSentence(response);
    if (attempt === this.attempt) {
      this.setStatus("problem", "chat.status.deleteRefused", { status: response.status, error });
    }
  }
}
