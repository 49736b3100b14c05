// A time-series chart on a <canvas>: "used" as a filled area under "total"
// as a line, over the last `windowMs`. Redrawn whole on every sample (a few
// hundred points; cheaper than keeping SVG nodes).

const PAD = { left: 56, right: 10, top: 10, bottom: 20 };

// 1, 2, 2.5 or 5 times a power of ten, at least `raw`.
function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5]) if (m * p >= raw) return m * p;
  return 10 * p;
}

export function drawUsage(canvas, samples, { used, total, windowMs, format, now = Date.now() }) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 300;
  const hgt = canvas.clientHeight || 140;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(hgt * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(hgt * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);

  const style = getComputedStyle(canvas);
  const fg = style.getPropertyValue('--chart-fg').trim() || '#2a6fdb';
  const grid = style.getPropertyValue('--chart-grid').trim() || '#ddd';
  const text = style.getPropertyValue('--chart-text').trim() || '#666';

  const t0 = now - windowMs;
  const pts = samples.filter((s) => s.t >= t0 - 5000 && s.m[total] !== undefined);
  let top = 0;
  for (const s of pts) top = Math.max(top, +s.m[total] || 0, +s.m[used] || 0);
  if (top <= 0) top = 1;
  const step = niceStep((top * 1.05) / 4);
  const max = step * Math.ceil((top * 1.05) / step);

  const x = (t) => PAD.left + ((t - t0) / windowMs) * (w - PAD.left - PAD.right);
  const y = (v) => hgt - PAD.bottom - (v / max) * (hgt - PAD.top - PAD.bottom);

  // Grid: horizontal lines at round values, minute marks along the bottom.
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = text;
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (let v = 0; v <= max + step / 2; v += step) {
    const yy = Math.round(y(v)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(PAD.left, yy);
    ctx.lineTo(w - PAD.right, yy);
    ctx.stroke();
    ctx.fillText(format(v), PAD.left - 4, yy);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (let m = 0; m * 60000 <= windowMs; m++) {
    const xx = x(now - m * 60000);
    ctx.fillText(m === 0 ? 'now' : `-${m}m`, xx, hgt - PAD.bottom + 4);
  }

  if (pts.length === 0) return;
  ctx.save();
  ctx.beginPath();
  ctx.rect(PAD.left, 0, w - PAD.left - PAD.right, hgt);
  ctx.clip();
  // Used: filled area.
  ctx.beginPath();
  ctx.moveTo(x(pts[0].t), y(0));
  for (const s of pts) ctx.lineTo(x(s.t), y(+s.m[used] || 0));
  ctx.lineTo(x(pts[pts.length - 1].t), y(0));
  ctx.closePath();
  ctx.globalAlpha = 0.35;
  ctx.fillStyle = fg;
  ctx.fill();
  ctx.globalAlpha = 1;
  ctx.strokeStyle = fg;
  ctx.lineWidth = 1.5;
  ctx.beginPath();
  pts.forEach((s, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x(s.t), y(+s.m[used] || 0)));
  ctx.stroke();
  // Total: dashed line.
  ctx.setLineDash([4, 3]);
  ctx.strokeStyle = text;
  ctx.beginPath();
  pts.forEach((s, i) => (i ? ctx.lineTo : ctx.moveTo).call(ctx, x(s.t), y(+s.m[total] || 0)));
  ctx.stroke();
  ctx.restore();
}
