/* The chat tab: one question sent at the same moment over short polling, long polling and
 * SSE, each answer growing in its own column with what the page measured of it, and the
 * server's own chat counters (from the strip's /metrics answers, so no extra request). */

import { PolledAnswer } from "./chat_polling.js";
import { StreamedAnswer } from "./chat_stream.js";
import { formatCount } from "./helpers.js";
import { I18N } from "./i18n.js";

/* Long enough to press Stop mid-answer and to see short polling's batches (6 s at the
 * model's default 20 tokens/s), short enough to fit a column on a laptop with little
 * scrolling. */
export const ANSWER_TOKENS = 120;
const DEFAULT_PROMPT = "chat.defaultPrompt";
const SERVER_COUNTERS = ["answers_started", "answers_finished", "answers_aborted", "generating"];

export class ChatView {
  constructor() {
    this.columns = {
      short: new PolledAnswer(document.getElementById("chat-short"), false),
      long: new PolledAnswer(document.getElementById("chat-long"), true),
      sse: new StreamedAnswer(document.getElementById("chat-sse")),
    };
    this.prompt = document.getElementById("chat-prompt");
    this.stopButton = document.getElementById("chat-stop");
    this.promptShown = null;
    for (const column of Object.values(this.columns)) {
      column.onChange = () => this.showRunning();
    }
    document.getElementById("chat-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.stopButton.addEventListener("click", () => this.stop());
  }

  get running() {
    return Object.values(this.columns).some((column) => column.running);
  }

  /* The question as the server reads it; a number left empty or out of range goes as typed,
   * so the server's sentence says what is wrong with it. */
  question() {
    const number = (id) => {
      const text = document.getElementById(id).value.trim();
      return text === "" ? null : Number(text);
    };
    return {
      prompt: this.prompt.value,
      max_tokens: ANSWER_TOKENS,
      tokens_per_s: number("chat-rate"),
      first_token_ms: number("chat-delay"),
    };
  }

  send() {
    this.stop();
    const question = this.question();
    const sentAt = performance.now();
    for (const column of Object.values(this.columns)) column.send(question, sentAt);
  }

  stop() {
    for (const column of Object.values(this.columns)) column.stop();
  }

  showRunning() {
    this.stopButton.disabled = !this.running;
  }

  /* Short polling asks at the page's poll interval, the ticker's setting. */
  setIntervalMs(ms) {
    this.columns.short.setIntervalMs(ms);
  }

  /* The default question in the page's language, unless someone typed their own. */
  retranslate() {
    const fresh = I18N.t(DEFAULT_PROMPT);
    if (this.promptShown === null || this.prompt.value === this.promptShown) {
      this.prompt.value = fresh;
      this.promptShown = fresh;
    }
  }

  /* The server's chat counters, for every client: from a /metrics answer. */
  showServer(chat) {
    if (!chat) return;
    for (const name of SERVER_COUNTERS) {
      const cell = document.querySelector(`.chat-strip [data-m="${name}"]`);
      cell.dataset.value = String(chat[name]);
      cell.textContent = formatCount(chat[name]);
    }
  }
}
