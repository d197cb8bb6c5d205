/* Shared by the short-polling panel and the server strip, so both call a request stuck at
 * the same moment. */
export const STALLED_AFTER_MS = 3000;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function backoffMs(failures) {
  // 0.5 s, 1 s, 2 s, 4 s, then 5 s; a little jitter so a whole class does not retry in step.
  const base = Math.min(5000, 500 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (1 + Math.random() * 0.2));
}

export function utf8Length(text) {
  let bytes = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4; // a surrogate pair is one 4-byte character
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

export function formatCount(n) {
  return Math.round(n).toLocaleString("en-US");
}

export function formatBytes(n) {
  if (n < 1000) return `${Math.round(n)} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = n;
  let unit = -1;
  do {
    value /= 1000;
    unit += 1;
  } while (value >= 1000 && unit < units.length - 1);
  return `${value >= 100 ? value.toFixed(0) : value.toFixed(1)} ${units[unit]}`;
}

/* Whole milliseconds: Date.now() ticks in milliseconds, so tenths would be noise. */
export function formatLatency(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (Math.abs(ms) >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms > -1 && ms < 1) return "<1 ms";
  return `${Math.round(ms)} ms`;
}

export function formatSeconds(ms) {
  const s = ms / 1000;
  return Number.isInteger(s) ? String(s) : s.toFixed(s < 1 ? 2 : 1);
}

/* The run of the server a cursor belongs to, so that a restarted server can say so. */
export function epochParam(epoch) {
  return epoch ? `&epoch=${encodeURIComponent(epoch)}` : "";
}

export function decodeJson(buffer) {
  try {
    return JSON.parse(new TextDecoder().decode(buffer));
  } catch (error) {
    return null;
  }
}
