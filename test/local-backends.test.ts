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
});
