// The helper thread of the 2-thread runtime: one worker (Node worker_threads, or a classic Worker from a Blob URL in
// the browser) that instantiates the same kernel module on the same shared memory and then loops: wait for a job
// (Atomics.wait on a control word), take chunks of it until none is left, publish completion (Atomics.store +
// notify). Ops are synchronous: the calling thread publishes a job, takes chunks of it too, then waits for the
// helper's acknowledgement. Chunks are claimed from a shared counter (Atomics.add), so a helper that starts late
// (asleep, or descheduled on a busy machine) simply takes fewer of them. Every kernel computes each unit of work
// (row, column, (batch, head) pair, element) independently of the others, so the result does not depend on who
// ran which chunk.
//
// A job the helper has not claimed by the time the calling thread has run all its chunks is withdrawn (CTRL_STATE):
// on a busy machine the helper may be runnable but not running, and the caller does not wait for it then.
//
// Control block (Int32Array over a SharedArrayBuffer), see CTRL_*; arguments in a Float64Array (pointers and
// f32/f64 scalars are exact in float64), followed by the per-unit byte offsets. FN < 0 asks the helper to exit.
// A chunk [s, e) of a job with `total` units runs the kernel on the job's arguments with: args[START] = s,
// args[END] = e, args[COUNT] = e - s (each where the index is >= 0) and args[OFF_k] += s * offsetBytes[k].

export const CTRL_JOB = 0;
export const CTRL_DONE = 1;
export const CTRL_FN = 2;
export const CTRL_NARGS = 3;
export const CTRL_ERROR = 4;
export const CTRL_NEXT = 5;
export const CTRL_TOTAL = 6;
export const CTRL_CHUNK = 7;
export const CTRL_START = 8;
export const CTRL_END = 9;
export const CTRL_COUNT = 10;
export const CTRL_NOFF = 11;
export const CTRL_OFF = 12;
export const MAX_OFFSETS = 4;
/**
 * Who runs the published job: its tag (seq & TAG_MASK) while unclaimed, tag | CLAIMED once the helper took it, 0 once
 * the calling thread withdrew it (it ran every chunk before the helper woke up: it does not wait for a thread that
 * is not scheduled; the helper, when it wakes, sees the withdrawal and leaves the job alone).
 */
export const CTRL_STATE = CTRL_OFF + MAX_OFFSETS;
export const CTRL_WORDS = CTRL_STATE + 1;
export const TAG_MASK = 0x3fffffff;
export const CLAIMED = 0x40000000;
export const MAX_ARGS = 32;
/** Float64 slots of the argument block: the arguments, then one byte offset per unit for each offset argument. */
export const ARG_SLOTS = MAX_ARGS + MAX_OFFSETS;

/** What the helper receives once. */
export interface HelperInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  args: SharedArrayBuffer;
  names: readonly string[];
  /** How long the helper busy-polls for the next job before sleeping in Atomics.wait. */
  spinMs: number;
}

// Plain JavaScript (runs as the worker's whole script; no bundler involved).
const SERVE = `"use strict";
function serve(m, post) {
  let fns;
  try {
    const inst = new WebAssembly.Instance(m.module, { env: { memory: m.memory } });
    fns = m.names.map((n) => inst.exports[n]);
  } catch (e) {
    post({ ok: false, error: String((e && e.message) || e) });
    return;
  }
  const ctrl = new Int32Array(m.ctrl);
  const args = new Float64Array(m.args);
  const spinMs = m.spinMs;
  let seen = Atomics.load(ctrl, ${CTRL_JOB});
  post({ ok: true });
  for (;;) {
    let t0 = performance.now();
    let i = 0;
    while (Atomics.load(ctrl, ${CTRL_JOB}) === seen) {
      if ((++i & 255) === 0 && performance.now() - t0 > spinMs) {
        Atomics.wait(ctrl, ${CTRL_JOB}, seen);
        t0 = performance.now();
      }
    }
    seen = Atomics.load(ctrl, ${CTRL_JOB});
    const fn = Atomics.load(ctrl, ${CTRL_FN});
    if (fn < 0) break;
    const tag = seen & ${TAG_MASK};
    // Withdrawn (the caller ran it all) or already replaced by a newer job (the loop sees that one next).
    if (Atomics.compareExchange(ctrl, ${CTRL_STATE}, tag, tag | ${CLAIMED}) !== tag) continue;
    try {
      const n = ctrl[${CTRL_NARGS}];
      const base = new Array(n);
      for (let j = 0; j < n; j++) base[j] = args[j];
      const total = ctrl[${CTRL_TOTAL}];
      const chunk = ctrl[${CTRL_CHUNK}];
      const si = ctrl[${CTRL_START}];
      const ei = ctrl[${CTRL_END}];
      const ci = ctrl[${CTRL_COUNT}];
      const noff = ctrl[${CTRL_NOFF}];
      const f = fns[fn];
      for (;;) {
        const s = Atomics.add(ctrl, ${CTRL_NEXT}, 1) * chunk;
        if (s >= total) break;
        const e = Math.min(total, s + chunk);
        const a = base.slice();
        if (si >= 0) a[si] = s;
        if (ei >= 0) a[ei] = e;
        if (ci >= 0) a[ci] = e - s;
        for (let k = 0; k < noff; k++) a[ctrl[${CTRL_OFF} + k]] += s * args[${MAX_ARGS} + k];
        f.apply(null, a);
      }
    } catch (e) {
      Atomics.store(ctrl, ${CTRL_ERROR}, 1);
    }
    Atomics.store(ctrl, ${CTRL_DONE}, seen);
    Atomics.notify(ctrl, ${CTRL_DONE});
  }
  Atomics.store(ctrl, ${CTRL_DONE}, seen);
  Atomics.notify(ctrl, ${CTRL_DONE});
}
`;

const NODE_BOOT = `${SERVE}
const { parentPort } = require('node:worker_threads');
parentPort.once('message', (m) => serve(m, (x) => parentPort.postMessage(x)));
`;

const BROWSER_BOOT = `${SERVE}
self.onmessage = (e) => {
  self.onmessage = null;
  serve(e.data, (x) => self.postMessage(x));
  self.close();
};
`;

export interface HelperHandle {
  /** Stops the thread (after asking it to leave its loop). */
  terminate(): void;
}

interface Ready {
  ok: boolean;
  error?: string;
}

export const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions === 'object' && typeof process.versions.node === 'string';

/** Starts the helper and resolves once it has instantiated the kernels on the shared memory. */
export async function startHelper(init: HelperInit, timeoutMs = 10_000): Promise<HelperHandle> {
  const withTimeout = <T>(p: Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the helper thread did not start within ${timeoutMs} ms`)), timeoutMs);
      p.then(
        (v) => {
          clearTimeout(t);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(t);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });

  if (isNode()) {
    const wtName = 'node:worker_threads';
    const wt = (await import(/* @vite-ignore */ wtName)) as typeof import('node:worker_threads');
    const w = new wt.Worker(NODE_BOOT, { eval: true, name: 'cpu-wasm-helper' });
    w.unref();
    const ready = new Promise<Ready>((resolve, reject) => {
      w.once('message', (m: Ready) => resolve(m));
      w.once('error', reject);
      w.once('exit', (code) => reject(new Error(`the helper thread exited with code ${code}`)));
    });
    w.postMessage(init);
    const r = await withTimeout(ready).catch((e: unknown) => {
      void w.terminate();
      throw e;
    });
    if (!r.ok) {
      void w.terminate();
      throw new Error(`the helper thread could not instantiate the kernels: ${r.error ?? '?'}`);
    }
    w.removeAllListeners('exit');
    w.removeAllListeners('error');
    w.on('error', () => {}); // a failure after start surfaces as a missing completion on the calling side
    return { terminate: () => void w.terminate() };
  }

  const url = URL.createObjectURL(new Blob([BROWSER_BOOT], { type: 'text/javascript' }));
  const w = new Worker(url, { name: 'cpu-wasm-helper' });
  try {
    const ready = new Promise<Ready>((resolve, reject) => {
      w.onmessage = (e: MessageEvent<Ready>) => resolve(e.data);
      w.onerror = (e: ErrorEvent) => reject(new Error(e.message || 'the helper worker failed to load'));
    });
    w.postMessage(init);
    const r = await withTimeout(ready);
    if (!r.ok) throw new Error(`the helper thread could not instantiate the kernels: ${r.error ?? '?'}`);
    w.onmessage = null;
    w.onerror = null;
    return { terminate: () => w.terminate() };
  } catch (e) {
    w.terminate();
    throw e;
  } finally {
    URL.revokeObjectURL(url);
  }
}
