import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { backendContract } from './backend-contract.js';
import { MemoryBackend } from '../src/storage/memory.js';
import { DirBackend } from '../src/storage/dir.js';

backendContract('memory', async () => new MemoryBackend());

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-dir-backend-'));
backendContract('directory', async () => new DirBackend(dir), async () => fs.rmSync(dir, { recursive: true, force: true }));

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
