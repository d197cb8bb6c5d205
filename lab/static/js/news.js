/* When this page first saw each recent event id, through any of its connections.
 *
 * A long poll is answered the moment there is news, so one that is still unanswered long
 * after another panel (or an extra stream) received newer events never reached the server:
 * it waits in the browser for a free connection.
 */

const KEPT = 2000;
const RESOLUTION_MS = 50; // at most one entry per 50 ms: bounded work at any event rate

export const News = {
  ids: [],
  times: [],
  epoch: null,

  seen(id, epoch) {
    if (epoch && this.epoch && epoch !== this.epoch) this.reset(); // a new server run
    if (epoch) this.epoch = epoch;
    const count = this.ids.length;
    if (count && id <= this.ids[count - 1]) return;
    const now = performance.now();
    if (count && now - this.times[count - 1] < RESOLUTION_MS) return;
    this.ids.push(id);
    this.times.push(now);
    if (this.ids.length > KEPT) {
      this.ids.shift();
      this.times.shift();
    }
  },

  reset() {
    this.ids = [];
    this.times = [];
    this.epoch = null;
  },

  /* How long ago this page first knew of an event after `id` (0: it knows of none). */
  pendingMs(id, now) {
    if (id === null || id === undefined) return 0;
    let first = -1;
    for (let i = this.ids.length - 1; i >= 0 && this.ids[i] > id; i -= 1) first = i;
    return first < 0 ? 0 : now - this.times[first];
  },
};
