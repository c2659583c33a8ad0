import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CorruptObjectError } from '../core/errors.js';
import { createStoreDirs, LocalStore } from '../objects/store.js';
import { Linker } from './link.js';

let dir: string;
let store: LocalStore;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-link-'));
  createStoreDirs(path.join(dir, '.lode'));
  store = new LocalStore(path.join(dir, '.lode'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** install puts `bytes` into the cache as a blob through installFile, as a fetch does. */
function install(bytes: Buffer, verified: boolean): string {
  const id = createHash('sha256').update(bytes).digest('hex');
  const tmp = path.join(store.tmpDir, `t-${id.slice(0, 8)}`);
  fs.writeFileSync(tmp, bytes, { mode: 0o444 });
  store.installFile(tmp, id, verified);
  return id;
}

describe('Linker copy', () => {
  it('a file installed from checked bytes by this store is copied whole, writable, without a second hash', () => {
    const bytes = randomBytes(300_000);
    const id = install(bytes, true);
    expect(store.installedVerified(id)).toBe(true);
    const linker = new Linker(store, ['copy']);
    const dest = path.join(dir, 'ws', 'a.bin');
    linker.finish(linker.prepare({ kind: 'blob', id, size: bytes.length }, dest, false));
    expect(fs.readFileSync(dest).equals(bytes)).toBe(true);
    expect(fs.statSync(dest).mode & 0o777).toBe(0o644);
  });

  it('any other cache file is verified as it is copied: damage is refused', () => {
    const bytes = randomBytes(300_000);
    const id = install(bytes, false);
    expect(store.installedVerified(id)).toBe(false);
    const file = store.filePath(id);
    fs.chmodSync(file, 0o644);
    const damaged = Buffer.from(bytes);
    damaged[1000] ^= 1;
    fs.writeFileSync(file, damaged);
    const linker = new Linker(store, ['copy']);
    expect(() => linker.prepare({ kind: 'blob', id, size: bytes.length }, path.join(dir, 'ws', 'b.bin'), false)).toThrow(CorruptObjectError);
  });
});
