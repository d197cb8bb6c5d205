/* A small latency chart on a canvas: the last 60 s.
 *
 * Each event is a dot at the moment it arrived (from a fixed ring of the latest points), and
 * half-second buckets keep count, sum, min and max, so the spread and the averages still
 * cover the whole minute when more events arrive than the ring holds. Memory stays the
 * same whether one event or ten thousand arrive per second. All charts share one vertical
 * scale so the transports compare at a glance.
 */

const CHART_WINDOW_S = 60;
const CHART_BUCKET_S = 0.5;
const CHART_BUCKETS = Math.round(CHART_WINDOW_S / CHART_BUCKET_S);
const CHART_POINTS = 1500;

export class LatencyChart {
  constructor(canvas, colour) {
    this.canvas = canvas;
    this.colour = colour;
    this.index = new Float64Array(CHART_BUCKETS).fill(-1);
    this.count = new Uint32Array(CHART_BUCKETS);
    this.sum = new Float64Array(CHART_BUCKETS);
    this.min = new Float64Array(CHART_BUCKETS);
    this.max = new Float64Array(CHART_BUCKETS);
    this.pointTime = new Float64Array(CHART_POINTS).fill(-Infinity);
    this.pointMs = new Float64Array(CHART_POINTS);
    this.nextPoint = 0;
  }

  static bucketOf(seconds) {
    return Math.floor(seconds / CHART_BUCKET_S);
  }

  add(latencyMs, nowS) {
    const bucket = LatencyChart.bucketOf(nowS);
    const slot = bucket % CHART_BUCKETS;
    if (this.index[slot] !== bucket) {
      this.index[slot] = bucket;
      this.count[slot] = 0;
      this.sum[slot] = 0;
      this.min[slot] = Infinity;
      this.max[slot] = -Infinity;
    }
    this.count[slot] += 1;
    this.sum[slot] += latencyMs;
    if (latencyMs < this.min[slot]) this.min[slot] = latencyMs;
    if (latencyMs > this.max[slot]) this.max[slot] = latencyMs;
    this.pointTime[this.nextPoint] = nowS;
    this.pointMs[this.nextPoint] = latencyMs;
    this.nextPoint = (this.nextPoint + 1) % CHART_POINTS;
  }

  /* Calls visit(bucketIndex, slot) for each bucket inside the window ending at nowS. */
  forEachVisible(nowS, visit) {
    const newest = LatencyChart.bucketOf(nowS);
    const oldest = newest - CHART_BUCKETS + 1;
    for (let slot = 0; slot < CHART_BUCKETS; slot += 1) {
      const bucket = this.index[slot];
      if (bucket >= oldest && bucket <= newest && this.count[slot] > 0) visit(bucket, slot);
    }
  }

  /* Mean and largest latency over the window, or null when nothing arrived. */
  summary(nowS) {
    let count = 0;
    let sum = 0;
    let max = -Infinity;
    this.forEachVisible(nowS, (bucket, slot) => {
      count += this.count[slot];
      sum += this.sum[slot];
      if (this.max[slot] > max) max = this.max[slot];
    });
    return count ? { mean: sum / count, max } : null;
  }

  clear() {
    this.index.fill(-1);
    this.pointTime.fill(-Infinity);
  }

  /* Keeps the canvas's pixel size equal to its displayed size; returns the 2D context. */
  context() {
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(this.canvas.clientWidth * ratio));
    const height = Math.max(1, Math.round(this.canvas.clientHeight * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    const context = this.canvas.getContext("2d");
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    return context;
  }

  draw(nowS, scaleMs, t) {
    const context = this.context();
    const width = this.canvas.clientWidth;
    const height = this.canvas.clientHeight;
    if (width < 10 || height < 10) return;
    // Never under 16 px, like every other label on the page.
    const font = Math.max(16, Math.min(18, Math.round(height / 8)));
    this.fontPx = font;
    context.font = `${font}px system-ui, sans-serif`;
    const left = context.measureText("10000 ms").width + 10;
    const right = 8;
    const top = font * 0.8;
    const bottom = font + 10;
    const plotW = width - left - right;
    const plotH = height - top - bottom;

    context.clearRect(0, 0, width, height);
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, width, height);

    // Grid and labels: 0, half and the full scale; −60 s, −30 s and now. A middle label
    // that would touch its neighbours (a low or narrow chart) is left out; its line stays.
    context.strokeStyle = "#c8c8c8";
    context.lineWidth = 1;
    context.fillStyle = "#333333";
    context.textBaseline = "middle";
    context.textAlign = "right";
    const roomForMiddle = plotH >= font * 2.4;
    for (const fraction of [0, 0.5, 1]) {
      const y = Math.round(top + plotH * (1 - fraction)) + 0.5;
      context.beginPath();
      context.moveTo(left, y);
      context.lineTo(left + plotW, y);
      context.stroke();
      if (fraction === 0.5 && !roomForMiddle) continue;
      context.fillText(`${formatMs(scaleMs * fraction)} ${t("chart.ms")}`, left - 6, y);
    }
    context.textBaseline = "alphabetic";
    const labelY = height - 4;
    const oldestLabel = t("chart.ago", { s: CHART_WINDOW_S });
    const middleLabel = t("chart.ago", { s: CHART_WINDOW_S / 2 });
    const nowLabel = t("chart.now");
    context.textAlign = "left";
    context.fillText(oldestLabel, left, labelY);
    const middleHalf = context.measureText(middleLabel).width / 2 + font / 2;
    if (
      left + context.measureText(oldestLabel).width + middleHalf <= left + plotW / 2 &&
      left + plotW / 2 + middleHalf <= left + plotW - context.measureText(nowLabel).width
    ) {
      context.textAlign = "center";
      context.fillText(middleLabel, left + plotW / 2, labelY);
    }
    context.textAlign = "right";
    context.fillText(nowLabel, left + plotW, labelY);

    const newest = LatencyChart.bucketOf(nowS);
    const xOfBucket = (bucket) =>
      left + plotW * (1 - (newest - bucket + 0.5) / CHART_BUCKETS);
    const xOfTime = (seconds) => left + plotW * (1 - (nowS - seconds) / CHART_WINDOW_S);
    const yOf = (ms) => top + plotH * (1 - Math.max(0, Math.min(ms, scaleMs)) / scaleMs);

    // The spread within each half second (min to max), faint; then every event as a dot.
    context.save();
    context.beginPath();
    context.rect(left, top - 4, plotW, plotH + 8);
    context.clip();
    context.strokeStyle = this.colour;
    context.globalAlpha = 0.25;
    context.lineWidth = 6;
    this.forEachVisible(nowS, (bucket, slot) => {
      if (this.count[slot] < 2) return;
      const x = xOfBucket(bucket);
      context.beginPath();
      context.moveTo(x, yOf(this.min[slot]) + 3);
      context.lineTo(x, yOf(this.max[slot]) - 3);
      context.stroke();
    });
    context.globalAlpha = 1;
    context.fillStyle = this.colour;
    const oldest = nowS - CHART_WINDOW_S;
    for (let i = 0; i < CHART_POINTS; i += 1) {
      const seconds = this.pointTime[i];
      if (seconds < oldest || seconds > nowS) continue;
      context.beginPath();
      context.arc(xOfTime(seconds), yOf(this.pointMs[i]), 3.5, 0, Math.PI * 2);
      context.fill();
    }
    context.restore();
    // Frame, drawn last so points at the edges stay inside it.
    context.strokeStyle = "#888888";
    context.lineWidth = 1;
    context.strokeRect(left + 0.5, top + 0.5, plotW - 1, plotH - 1);
  }
}

/* A round upper bound for the shared scale (1, 1.5, 2, 3, 5 or 7.5 times a power of ten,
 * at least 10 ms), so the dots use most of the height. */
export function niceScale(maxMs) {
  const target = Math.max(10, maxMs * 1.05);
  const power = 10 ** Math.floor(Math.log10(target));
  for (const step of [1, 1.5, 2, 3, 5, 7.5, 10]) {
    if (step * power >= target) return step * power;
  }
  return 10 * power;
}

function formatMs(ms) {
  if (ms >= 100 || ms === 0) return String(Math.round(ms));
  if (ms >= 10) return ms.toFixed(0);
  return ms.toFixed(1);
}
