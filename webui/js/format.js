// Number, size, time and task-state formatting shared by the views.

export const TASK_STATES = [
  'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED',
  'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST', 'TASK_DROPPED',
  'TASK_UNREACHABLE', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN',
];

const TERMINAL = new Set([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_ERROR', 'TASK_LOST',
  'TASK_DROPPED', 'TASK_GONE', 'TASK_GONE_BY_OPERATOR',
]);

export function isTerminal(state) {
  return TERMINAL.has(state);
}

// A CSS class per state family: pending, running, finished, failed.
export function stateClass(state) {
  switch (state) {
    case 'TASK_RUNNING': return 'st st-running';
    case 'TASK_FINISHED': return 'st st-finished';
    case 'TASK_STAGING': case 'TASK_STARTING': case 'TASK_KILLING': return 'st st-pending';
    case 'TASK_UNREACHABLE': case 'TASK_UNKNOWN': return 'st st-unknown';
    default: return 'st st-failed';
  }
}

export function shortState(state) {
  return String(state || '').replace(/^TASK_/, '');
}

function num(x) {
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

export function fmtCpus(x) {
  const v = num(x);
  return v === Math.round(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1).replace(/0$/, '');
}

// Mesos's mem and disk are MB.
export function fmtMB(x) {
  const v = num(x);
  if (v >= 1024 * 1024) return (v / 1024 / 1024).toFixed(1) + ' TB';
  if (v >= 1024) return (v / 1024).toFixed(1) + ' GB';
  return (v === Math.round(v) ? String(v) : v.toFixed(1)) + ' MB';
}

export function fmtPercent(used, total) {
  if (!(num(total) > 0)) return '';
  return Math.round((100 * num(used)) / num(total)) + '%';
}

// Seconds since the epoch (Mesos's timestamps) -> local date and time.
export function fmtTime(secs) {
  if (!(num(secs) > 0)) return '';
  const d = new Date(secs * 1000);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function fmtClock(ms) {
  return new Date(ms).toLocaleTimeString();
}

export function fmtBytes(n) {
  if (n >= 1 << 30) return (n / (1 << 30)).toFixed(1) + ' GiB';
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB';
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB';
  return n + ' B';
}
