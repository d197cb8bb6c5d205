/* The simple theory of each transport, for the settings the page runs with.
 *
 * The same formulas as the lab's own model (lab/theory/), written again here because the
 * page has no build step and no Python: the browser tests check that both agree.
 */

export const LONGPOLL_TIMEOUT_S = 20;
/* Each gap between two short polls is the interval times a factor in [0.9, 1.1], as in the
 * load scenario: never in step with evenly spaced events for long. */
export const POLL_JITTER = 0.1;

/* Share of short polls that find nothing new, with x = rate × interval: e^(−x) for random
 * (Poisson) arrivals; for evenly spaced ones seen from a random phase, max(0, 1 − x). */
export function emptyPollShare(rate, intervalS, arrivals) {
  const x = rate * intervalS;
  return arrivals === "poisson" ? Math.exp(-x) : Math.max(0, 1 - x);
}

/* An event waits for the next poll, T/2 on average, and the answer then travels back. */
export function shortPolling({ rate, intervalS, arrivals, rttS }) {
  return {
    waitMs: (intervalS / 2) * 1000,
    latencyMs: ((intervalS + rttS) / 2) * 1000,
    emptyShare: rate > 0 ? emptyPollShare(rate, intervalS, arrivals) : 1,
  };
}

/* A cycle starts when the server answers: the client is away for a round trip, then the
 * request is held until an event comes or the timeout passes. Returns requests per second
 * for one client, the share of answers that are timeouts, and the share of time away. */
function longPollCycle(rate, timeoutS, rttS, arrivals) {
  if (arrivals === "poisson") {
    const stay = Math.exp(-rate * rttS);
    const cycle = rttS + (stay * -Math.expm1(-rate * timeoutS)) / rate;
    return { perSecond: 1 / cycle, timeouts: Math.exp(-rate * (rttS + timeoutS)), away: rttS / cycle };
  }
  const period = 1 / rate;
  if (period <= rttS) return { perSecond: 1 / rttS, timeouts: 0, away: 1 };
  const spare = period - rttS - timeoutS;
  const timeouts = spare <= 0 ? 0 : Math.ceil(spare / (timeoutS + rttS));
  return { perSecond: rate * (1 + timeouts), timeouts: timeouts / (1 + timeouts), away: 0 };
}

/* About one request per event (fewer when events outpace a round trip, more when timeouts
 * end empty); an event waits only for the one-way trip, and for the rest of a round trip
 * when it comes while the client is away. */
export function longPolling({ rate, timeoutS, arrivals, rttS }) {
  const { perSecond, timeouts, away } = longPollCycle(rate, timeoutS, rttS, arrivals);
  return {
    requestsPerEvent: perSecond / rate,
    timeoutShare: timeouts,
    latencyMs: (rttS / 2 + (away * rttS) / 2) * 1000,
  };
}

/* One request for the whole stream; each event is written as soon as it is published. */
export function serverSentEvents({ rttS }) {
  return { latencyMs: (rttS / 2) * 1000 };
}

/* A WebSocket frame's header (RFC 6455, section 5.2), as lab/theory/frames.py counts it:
 * 2 bytes for a payload under 126 bytes, 4 up to 65,535, 10 beyond. The server's frames
 * are not masked; a browser's add a 4-byte mask key. */
export function websocketFrameHeader(payloadBytes) {
  if (payloadBytes < 126) return 2;
  return payloadBytes <= 0xffff ? 4 : 10;
}

/* One upgrade request opens the socket; then each event is one frame, written as soon as it
 * is published: the same one-way trip as SSE, with a smaller wrapper. */
export function webSocket({ rttS }) {
  return { latencyMs: (rttS / 2) * 1000 };
}
