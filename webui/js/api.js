// HTTP helpers: the master's endpoints are same-origin; an agent's are
// fetched from the agent directly (it answers GETs with
// Access-Control-Allow-Origin: *).

export class HttpError extends Error {
  constructor(url, status, body) {
    super(`${url} answered ${status}${body ? ': ' + body.slice(0, 200) : ''}`);
    this.status = status;
  }
}

// GET url -> {text, ms}; throws HttpError on a non-2xx answer and Error when
// nothing answers within timeoutMs.
export async function getText(url, timeoutMs = 10000) {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const t0 = performance.now();
  try {
    const res = await fetch(url, { signal: abort.signal, cache: 'no-store' });
    const text = await res.text();
    if (!res.ok) throw new HttpError(url, res.status, text);
    return { text, ms: performance.now() - t0 };
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e.name === 'AbortError') throw new Error(`${url}: no answer within ${timeoutMs / 1000} s`);
    throw new Error(`${url}: ${e.message || e} (not reachable)`);
  } finally {
    clearTimeout(timer);
  }
}

export async function getJson(url, timeoutMs) {
  const { text } = await getText(url, timeoutMs);
  return JSON.parse(text);
}

// An agent's HTTP base URL from its /master/state entry: the ip of its pid
// ("slave(1)@10.0.0.5:5051") with its port, else its hostname.
export function agentBase(slave) {
  if (!slave) return null;
  let host = slave.hostname;
  let port = slave.port;
  const at = typeof slave.pid === 'string' ? slave.pid.lastIndexOf('@') : -1;
  if (at >= 0) {
    const addr = slave.pid.slice(at + 1);
    const colon = addr.lastIndexOf(':');
    const ip = colon > 0 ? addr.slice(0, colon) : addr;
    if (ip && ip !== '0.0.0.0' && ip !== '[::]') host = ip;
    if (!port && colon > 0) port = Number(addr.slice(colon + 1));
  }
  if (!host) return null;
  if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
  return `http://${host}:${port || 5051}`;
}

// Mesos's /files/read: {data, offset}. offset -1 answers the file's size.
export async function readFile(base, path, offset, length) {
  const q = new URLSearchParams({ path, offset: String(offset) });
  if (length !== undefined) q.set('length', String(length));
  return getJson(`${base}/files/read?${q}`, 5000);
}

// Runs fn over items with at most `limit` calls in flight.
export async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
