// Tails one sandbox file through the agent's /files/read (Mesos's shape):
// asks the size (offset=-1), reads the last 64 KiB, then every second asks
// the size again and reads what was added. Offsets count bytes, so the
// data's UTF-8 length moves the offset, not its length in UTF-16 units.

import { readFile } from './api.js';
import { fmtBytes } from './format.js';

const TAIL = 64 * 1024;
const CHUNK = 64 * 1024;
const KEEP_CHARS = 512 * 1024; // what the <pre> keeps; older text is dropped
const POLL_MS = 1000;
const RETRY_MS = 2000;

const encoder = new TextEncoder();

// How far a read of `asked` bytes that brought `got` bytes of UTF-8 moves
// the offset. The agent's JSON string carries valid UTF-8 only: it leaves
// out a character cut by the read's end, and bytes that are not UTF-8. When
// up to 3 bytes are missing, the bytes just past the data are asked again
// alone: empty, they were a cut character (read it whole next time); not
// empty, the data already held them and bytes were left out before.
async function advance(base, path, offset, asked, got) {
  if (asked - got === 0 || asked - got > 3) return asked;
  const probe = await readFile(base, path, offset + got, asked - got);
  return probe.data ? asked : got;
}

export class LogTail {
  // pre: the <pre> to fill; status: an element for "n bytes" and errors.
  constructor(pre, status, { base, path }) {
    this.pre = pre;
    this.status = status;
    this.base = base;
    this.path = path;
    this.offset = null; // next byte to read; null until the size is known
    this.text = pre.appendChild(document.createTextNode(''));
    this.stopped = false;
    this.ended = false; // the task is terminal: stop once the file is read to its end
    this.timer = 0;
    this.loop();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  // Called when the task reaches a terminal state.
  taskEnded() {
    this.ended = true;
  }

  async loop() {
    if (this.stopped) return;
    let wait = POLL_MS;
    try {
      for (;;) {
        const size = +(await readFile(this.base, this.path, -1)).offset || 0;
        if (this.offset === null) {
          this.offset = Math.max(0, size - TAIL);
          if (this.offset > 0) this.append(`[… ${fmtBytes(this.offset)} earlier not shown]\n`);
        }
        if (size < this.offset) {
          this.append('\n[… the file was truncated]\n');
          this.offset = size;
        }
        if (size <= this.offset) {
          this.status.textContent = fmtBytes(size) + (this.ended ? ', complete' : '');
          this.status.classList.remove('error');
          if (this.ended) return;
          break;
        }
        const want = Math.min(CHUNK, size - this.offset);
        const r = await readFile(this.base, this.path, this.offset, want);
        if (this.stopped) return;
        const data = r.data || '';
        if (data) this.append(data);
        const step = await advance(this.base, this.path, this.offset, want, encoder.encode(data).length);
        this.offset += step;
        this.status.textContent = fmtBytes(this.offset);
        this.status.classList.remove('error');
        // step 0: the file ends in a cut character (or in bytes that are not UTF-8).
        if (step === 0 && this.ended) {
          this.status.textContent = fmtBytes(size) + ', complete';
          return;
        }
        if (this.offset >= size || step === 0) break;
      }
    } catch (e) {
      this.status.textContent = e.status === 404 ? 'not there (yet): ' + e.message : String(e.message || e);
      this.status.classList.add('error');
      wait = RETRY_MS;
    }
    if (!this.stopped) this.timer = setTimeout(() => this.loop(), wait);
  }

  append(data) {
    const pre = this.pre;
    const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    this.text.appendData(data);
    if (this.text.length > KEEP_CHARS) this.text.deleteData(0, this.text.length - KEEP_CHARS / 2);
    if (atBottom) pre.scrollTop = pre.scrollHeight;
  }
}
