import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendContract } from './backend-contract.js';
import { MemoryBackend } from '../src/storage/memory.js';
import { DirBackend } from '../src/storage/dir.js';
import { RetryBackend } from '../src/storage/retry.js';
import { FaultyBackend } from '../src/storage/faulty.js';
import { openBackend } from '../src/storage/registry.js';
import { hostTag, ownerTag } from '../src/storage/owner.js';
import { spawnSync } from 'node:child_process';

backendContract('memory', async () => new MemoryBackend());

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-dir-backend-'));
backendContract('directory', async () => new DirBackend(dir), async () => fs.rmSync(dir, { recursive: true, force: true }));

// The retry wrapper keeps the contract: over a directory as the registry opens
// it, and over a store failing 15% of calls in every retryable way (never
// flipping bytes: only content checks above the backend can see those).
const retryDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-retry-dir-'));
backendContract('directory through openBackend (retry wrapper)', async () => openBackend(retryDir, {}), async () => fs.rmSync(retryDir, { recursive: true, force: true }));
backendContract(
  'memory with 15% retryable faults, through the retry wrapper',
  async () => new RetryBackend(new FaultyBackend(new MemoryBackend(), [{ kind: ['reset', 'lost-answer', 'error500', 'slowdown', 'short'], probability: 0.15 }], { seed: 9 }), { baseDelayMs: 1, maxDelayMs: 5, throttleDelayMs: 5 }),
);

describe('DirBackend specifics', () => {
  it('writes nothing outside its root and leaves no temp or lock files', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-dir-only-'));
    const b = new DirBackend(path.join(root, 'remote'));
    await b.save('a/b', Buffer.from('x'));
    const { etag } = await b.save('refs/main', Buffer.from('1'), { ifNoneMatch: true });
    await b.save('refs/main', Buffer.from('2'), { ifMatch: etag });
    expect(fs.readdirSync(root)).toEqual(['remote']);
    expect(fs.readdirSync(path.join(root, 'remote', '.tmp'))).toEqual([]);
    expect(fs.readdirSync(path.join(root, 'remote', 'refs'))).toEqual(['main']);
    fs.rmSync(root, { recursive: true, force: true });
  });

  // A push killed while it held a ref's key lock (kill -9) left `<ref>.lock`
  // behind, and every later push failed for 30 s with "stays locked".
  it('breaks a key lock whose owner on this host is dead, and keeps one whose owner runs', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-dir-lock-'));
    const b = new DirBackend(root);
    const { etag } = await b.save('refs/main', Buffer.from('1'), { ifNoneMatch: true });
    const lock = path.join(root, 'refs', 'main.lock');
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const deadPid = Number(child.stdout);
    expect(deadPid).toBeGreaterThan(0);
    fs.writeFileSync(lock, `${deadPid}.0.${hostTag()}`);
    const second = await b.save('refs/main', Buffer.from('2'), { ifMatch: etag });
    expect(fs.readFileSync(path.join(root, 'refs', 'main'), 'utf8')).toBe('2');
    expect(fs.existsSync(lock)).toBe(false);
    expect(fs.readdirSync(path.join(root, '.tmp'))).toEqual([]);

    fs.writeFileSync(lock, ownerTag()); // this test's own process: alive
    await expect(b.save('refs/main', Buffer.from('3'), { ifMatch: second.etag })).rejects.toThrow(/stays locked by another writer/);
    expect(fs.readFileSync(path.join(root, 'refs', 'main'), 'utf8')).toBe('2');
    expect(fs.readFileSync(lock, 'utf8')).toBe(ownerTag());
    fs.rmSync(root, { recursive: true, force: true });
  }, 60_000);
});
