// Temporary directories a test file creates and removes after its tests (leave nothing in the system's tmpdir).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempDirs {
  /** A new directory named `prefix` + random characters, under the system's tmpdir. */
  make(prefix: string): string;
  /** Removes every directory made so far. */
  removeAll(): void;
}

export function tempDirs(): TempDirs {
  const made: string[] = [];
  return {
    make(prefix) {
      const d = mkdtempSync(join(tmpdir(), prefix));
      made.push(d);
      return d;
    },
    removeAll() {
      for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}
