/* An incremental parser for `text/event-stream`, by the same rules as lab/sse.py's
 * SSEDecoder (the WHATWG "event stream interpretation"). A page needs it to read a stream
 * that EventSource cannot open: a POST, such as POST /chat, read with fetch and a stream
 * reader. Feed it the body's chunks as they come; it returns the events they complete.
 * tests/fixtures/sse_cases.json holds the cases both parsers are tested against. */

const ASCII_DIGITS = /^[0-9]+$/;

export class SSEParser {
  constructor() {
    /* The last event ID as of the last dispatch, and the stream's reconnection time. */
    this.lastEventId = "";
    this.retry = null;
    this.startStream();
  }

  startStream() {
    // TextDecoder drops one leading byte order mark, as "UTF-8 decode" does.
    this.utf8 = new TextDecoder("utf-8");
    this.skipLf = false; // the last chunk ended with CR; an LF right after belongs to it
    this.partial = "";
    this.data = [];
    this.eventType = "";
    this.blockRetry = null;
    this.idBuffer = this.lastEventId;
  }

  /* Parse a chunk of bytes (a Uint8Array); return the events it completed, in order. */
  decode(chunk) {
    return this.feed(this.utf8.decode(chunk, { stream: true }));
  }

  /* End of stream: an unfinished event is dropped, and a new stream may follow. */
  flush() {
    this.utf8.decode();
    this.startStream();
    return [];
  }

  feed(text) {
    if (this.skipLf) {
      this.skipLf = false;
      if (text.startsWith("\n")) text = text.slice(1);
    }
    const events = [];
    const lineBreak = /\r\n|\r|\n/g;
    let start = 0;
    let match;
    while ((match = lineBreak.exec(text)) !== null) {
      // A lone CR at the very end may be the first half of a CRLF split across chunks.
      const line = this.partial + text.slice(start, match.index);
      this.partial = "";
      const event = this.processLine(line);
      if (event) events.push(event);
      start = match.index + match[0].length;
    }
    const rest = text.slice(start);
    if (rest) this.partial += rest;
    else if (text.endsWith("\r")) this.skipLf = true;
    return events;
  }

  processLine(line) {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) return null;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventType = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\u0000")) this.idBuffer = value;
    else if (field === "retry" && ASCII_DIGITS.test(value)) {
      this.retry = this.blockRetry = Number(value);
    }
    return null;
  }

  dispatch() {
    this.lastEventId = this.idBuffer;
    const data = this.data;
    const eventType = this.eventType;
    const retry = this.blockRetry;
    this.data = [];
    this.eventType = "";
    this.blockRetry = null;
    if (data.length === 0) return null;
    return { data: data.join("\n"), event: eventType || "message", id: this.lastEventId, retry };
  }
}
