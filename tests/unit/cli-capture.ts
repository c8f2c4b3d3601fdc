// Runs the CLI in-process (src/cli/main.ts) with console and stderr captured, for the CLI contract tests.
import { vi } from 'vitest';
import { main } from '../../src/cli/main.ts';

export interface CliRun {
  code: number;
  /** The last stdout line parsed as JSON (the CLI's summary object), null when nothing was printed. */
  last: Record<string, unknown> | null;
  /** Everything written to stderr and console.error, joined by newlines. */
  err: string;
}

/** Runs `main(args)`; returns its exit code, the last stdout line parsed, and stderr. */
export async function runCli(args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void err.push(a.join(' ')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (err.push(String(s)), true));
  try {
    const code = await main(args);
    const lastLine = out.at(-1);
    return { code, last: lastLine ? (JSON.parse(lastLine) as Record<string, unknown>) : null, err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
    write.mockRestore();
  }
}
