/* The chat answer over SSE: POST /chat answers with a stream of `event: token` frames and a
 * final `data: [DONE]`, as language-model services do. EventSource can only GET, so the page
 * reads the body with fetch and a stream reader, through the same parser rules as the
 * server's (sse_parser.js). Stop aborts the request: the browser closes the connection and
 * the server notices at its socket that nobody reads any more. */

import { ChatColumn, JSON_HEADERS } from "./chat_column.js";
import { SSEParser } from "./sse_parser.js";

const DONE = "[DONE]";

export class StreamedAnswer extends ChatColumn {
  constructor(element) {
    super(element);
    this.controller = null;
  }

  async send(question, sentAt) {
    const attempt = this.begin(sentAt);
    const controller = new AbortController();
    this.controller = controller;
    this.request();
    let response;
    try {
      response = await fetch("chat", {
        method: "POST",
        headers: JSON_HEADERS,
        body: JSON.stringify(question),
        cache: "no-store",
        signal: controller.signal,
      });
    } catch (error) {
      if (this.current(attempt)) this.unreachable();
      return;
    }
    if (!response.ok) {
      this.refused(response, attempt);
      return;
    }
    if (!this.current(attempt)) return;
    this.setStatus("live", "chat.status.sse");
    const reader = response.body.getReader();
    const parser = new SSEParser();
    let done = false;
    try {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) break;
        // After [DONE] the rest is read to its end rather than cut: a connection closed
        // before the server finishes its response would be counted as an abort.
        if (done || !this.current(attempt)) continue;
        for (const event of parser.decode(chunk.value)) {
          if (event.data === DONE) done = true;
          else if (event.event === "token") this.token(parseToken(event.data));
        }
        this.render();
        if (done) this.finish("done", "chat.status.done");
      }
    } catch (error) {
      // Stop's abort ends the read here; anything else cut the stream.
      if (this.current(attempt)) this.finish("problem", "chat.status.cut");
      return;
    }
    if (!done && this.current(attempt)) this.finish("problem", "chat.status.cut");
  }

  stop() {
    if (!this.running) return;
    this.finish("stopped", "chat.status.stopped");
    if (this.controller) this.controller.abort();
  }
}

function parseToken(data) {
  try {
    return JSON.parse(data);
  } catch (error) {
    return null;
  }
}
