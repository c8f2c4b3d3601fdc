// Shared plumbing of the Node benchmarks that run once per WASM thread count (wasm-bench, encoder-bench): their
// arguments, and re-running the entry in one child process per thread count (a WASM backend's thread pool is fixed
// when it starts, and a fresh process keeps the 1-thread figures free of the 2-thread run's warm caches).
export interface ThreadedArgs {
  budgetMs: number;
  filters: string[];
  /** null: run the 1- and 2-thread children; 1 or 2: run the cases here with that many threads. */
  threads: 1 | 2 | null;
}

/** `--budget-ms N`, `--filter SUBSTR,...`, `--threads 1|2`; errors name the benchmark (`name`). */
export function parseThreadedArgs(name: string, args: readonly string[]): ThreadedArgs {
  const o: ThreadedArgs = { budgetMs: 2500, filters: [], threads: null };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--budget-ms') o.budgetMs = Number(args[++i]);
    else if (a === '--filter') o.filters = (args[++i] ?? '').split(',').map((f) => f.trim()).filter((f) => f.length > 0);
    else if (a === '--threads') {
      const t = Number(args[++i]);
      if (t !== 1 && t !== 2) throw new Error(`${name}: --threads must be 1 or 2, got ${args[i]}`);
      o.threads = t;
    } else throw new Error(`${name}: unknown argument ${a} (expected --budget-ms N, --filter SUBSTR,..., --threads 1|2)`);
  }
  if (!(o.budgetMs > 0)) throw new Error(`${name}: --budget-ms must be a positive number`);
  return o;
}

/**
 * Runs `entry` (a path from the repository root) in a child process per thread count, forwarding its result lines
 * (stdout) and progress (stderr). Resolves 0 when every child exited 0.
 */
export async function runThreadChildren(entry: string, o: ThreadedArgs, log: (msg: string) => void): Promise<number> {
  const { spawn } = (await import(/* @vite-ignore */ 'node:child_process')) as typeof import('node:child_process');
  const { fileURLToPath } = (await import(/* @vite-ignore */ 'node:url')) as typeof import('node:url');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  let status = 0;
  for (const threads of [1, 2] as const) {
    const args = ['scripts/node-run.mjs', entry, '--threads', String(threads), '--budget-ms', String(o.budgetMs)];
    if (o.filters.length > 0) args.push('--filter', o.filters.join(','));
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => process.stdout.write(d));
      child.on('close', (c) => resolve(c ?? 1));
      child.on('error', (e) => {
        log(`could not start the ${threads}-thread child: ${e.message}`);
        resolve(1);
      });
    });
    if (code !== 0) {
      log(`the ${threads}-thread child exited with code ${code}`);
      status = 1;
    }
  }
  return status;
}
