/* One column of the chat tab: an answer growing as its tokens arrive through one transport,
 * and what this page measured of it. Every time is taken from the moment Send was pressed
 * (performance.now(), shared by the three columns) to what the page shows, so it holds the
 * network, the model's own delay and each transport's waiting alike. */

import { formatCount, formatLatency, significant } from "./helpers.js";
import { I18N } from "./i18n.js";

export const JSON_HEADERS = { "Content-Type": "application/json" };

/* The lab's JSON error, {"error": "<sentence>"}; "" when the body is something else (e.g. a
 * proxy's page): then the status alone says it. */
export async function errorSentence(response) {
  try {
    const body = await response.json();
    return (body && typeof body.error === "string" && body.error) || "";
  } catch (error) {
    return "";
  }
}

export class ChatColumn {
  constructor(element) {
    this.element = element;
    this.answer = element.querySelector("[data-answer]");
    this.statusElement = element.querySelector("[data-status]");
    this.cells = {};
    for (const cell of element.querySelectorAll("[data-c]")) this.cells[cell.dataset.c] = cell;
    // Each question is an attempt: whatever still arrives for an earlier one is dropped.
    this.attempt = 0;
    this.ended = true;
    this.onChange = () => {};
    this.setStatus("idle", "chat.status.idle");
  }

  get running() {
    return !this.ended;
  }

  /* True while `attempt` is the question this column shows and it has not ended. */
  current(attempt) {
    return attempt === this.attempt && !this.ended;
  }

  /* A new question: everything shown starts again. Returns the attempt's number. */
  begin(sentAt) {
    this.attempt += 1;
    this.sentAt = sentAt;
    this.ended = false;
    this.tokens = 0;
    this.requests = 0;
    this.firstTokenAt = null;
    this.lastTokenAt = null;
    this.doneMs = null;
    // One text node that grows: appending to it is cheap at any token rate.
    this.text = document.createTextNode("");
    this.answer.replaceChildren(this.text);
    this.answer.scrollTop = 0;
    this.setStatus("sending", "chat.status.sending");
    this.render();
    this.onChange();
    return this.attempt;
  }

  setStatus(state, key, params) {
    this.statusElement.dataset.state = state;
    this.element.dataset.state = state;
    I18N.put(this.statusElement, key, params);
  }

  /* Counted when sent, so that a request still waiting for a connection counts too. */
  request() {
    this.requests += 1;
    this.render();
  }

  token(token) {
    if (!token || typeof token.text !== "string" || token.index < this.tokens) return;
    const now = performance.now();
    if (this.firstTokenAt === null) this.firstTokenAt = now;
    this.lastTokenAt = now;
    this.tokens = token.index + 1;
    // Follow the growing end, unless someone scrolled up to read.
    const box = this.answer;
    const following = box.scrollHeight - box.scrollTop - box.clientHeight < 4;
    this.text.appendData(token.text);
    if (following) box.scrollTop = box.scrollHeight;
  }

  /* The answer ended: "done", "stopped", or a "problem" that `key` names. */
  finish(state, key, params) {
    if (this.ended) return;
    this.ended = true;
    if (state === "done") this.doneMs = performance.now() - this.sentAt;
    this.setStatus(state, key, params || { n: this.tokens });
    this.render();
    this.onChange();
  }

  /* The server's own sentence, whatever the status: a refusal is never silent. */
  async refused(response, attempt) {
    const error = await errorSentence(response);
    if (!this.current(attempt)) return;
    this.finish("problem", "chat.status.refused", { status: response.status, error });
  }

  unreachable() {
    this.finish("problem", "chat.status.unreachable");
  }

  /* Tokens per second from the first token shown to the latest (null before two arrivals). */
  tokensPerSecond() {
    const seconds = (this.lastTokenAt - this.firstTokenAt) / 1000;
    return this.tokens > 1 && seconds > 0 ? (this.tokens - 1) / seconds : null;
  }

  render() {
    const firstTokenMs = this.firstTokenAt === null ? null : this.firstTokenAt - this.sentAt;
    const rate = this.tokensPerSecond();
    this.show("firstToken", firstTokenMs, formatLatency(firstTokenMs));
    this.show("rate", rate, rate === null ? "–" : significant(rate));
    this.show("done", this.doneMs, formatLatency(this.doneMs));
    this.show("requests", this.requests, formatCount(this.requests));
    this.element.dataset.tokens = String(this.tokens);
  }

  show(name, value, text) {
    const cell = this.cells[name];
    if (value === null || value === undefined) delete cell.dataset.value;
    else cell.dataset.value = String(value);
    cell.textContent = text;
  }
}
