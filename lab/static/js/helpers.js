/* How long a request the server answers at once may stay unanswered before the page calls
 * it stuck: shared by the panels and the server strip, so all call it at the same moment.
 * A simulated network's round trip is added at start-up (main.js). */
export const Stall = { afterMs: 3000 };

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

/* Whole milliseconds: Date.now() ticks in milliseconds, so tenths would be noise. From a
 * second on, seconds: "1.06 s" is as exact to the eye as "1056 ms", and one character
 * shorter, which a narrow panel on a projector needs. */
export function formatLatency(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return "–";
  if (Math.abs(ms) >= 10000) return `${(ms / 1000).toFixed(1)} s`;
  if (Math.abs(ms) >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms > -1 && ms < 1) return "<1 ms";
  return `${Math.round(ms)} ms`;
}

/* A rate that reads right from one request a minute to thousands a second: per minute
 * when slow, so a 5 s poller shows 12/min, not 0.0/s. Returns an i18n key and its value.
 * `shownKey`, the unit shown until now, is kept near the switch-over (0.4 to 0.6 a
 * second), so a rate that wobbles there does not flip between units. */
export function rateText(perSecond, shownKey) {
  if (perSecond === 0) return { key: "rate.perSecond", value: "0" };
  const perMinute =
    perSecond < 0.4 || (perSecond < 0.6 && shownKey === "rate.perMinute");
  if (perMinute) return { key: "rate.perMinute", value: significant(perSecond * 60) };
  return { key: "rate.perSecond", value: significant(perSecond) };
}

/* Two significant digits below 10, whole numbers above: 0.25, 1.5, 12, 1,234. */
export function significant(value) {
  if (value >= 10) return formatCount(value);
  if (value >= 1) return String(Number(value.toFixed(1)));
  return String(Number(value.toPrecision(2)));
}

export function formatShare(share) {
  if (share > 0 && share < 0.005) return "<1%";
  return `${Math.round(share * 100)}%`;
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
