// Test helper: temp directories that a test file removes after its last test.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

/**
 * tempDirs registers cleanup for the calling test file (call it at the top
 * level) and returns `tmp`, which makes a fresh directory under os.tmpdir()
 * named `prefix` plus random characters; every one is removed after the file.
 */
export function tempDirs(): (prefix: string) => string {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  return (prefix) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}
