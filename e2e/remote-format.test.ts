// The remote's `config` object: written by the first push (format version and
// chunking parameters), read by every sync. A remote in a format this lode
// does not know is refused (exit 10) before anything is read or written; a
// clone chunks like its remote; a push with other chunking says so.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, writeFile } from '../test/helpers/cli.js';
import { pushedToShare } from './repos.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

const CHUNKING = { min: 65536, avg: 262144, max: 1048576 };

async function pushed(prefix: string, config: Record<string, number> = {}) {
  const base = makeTempDir(`lode-e2e-${prefix}`);
  dirs.push(base);
  const { a, share } = await pushedToShare(base, { 'data/small.txt': 'hello\n', 'data/big.bin': pseudoRandomBytes(2 << 20, 7) }, config);
  return { base, a, share };
}

describe('the remote config object', () => {
  it('the first push writes it: format 1 and the pusher\'s chunking; a clone adopts that chunking', async () => {
    const { base, share } = await pushed('remote-format-write', { 'chunking.min': CHUNKING.min, 'chunking.avg': CHUNKING.avg, 'chunking.max': CHUNKING.max });
    expect(JSON.parse(fs.readFileSync(path.join(share, 'config'), 'utf8'))).toEqual({ format: 1, chunking: CHUNKING });
    const b = path.join(base, 'bob');
    await lodeOk(['clone', share, b], { cwd: base });
    const cfg = await lodeJson(['config', '--list'], { cwd: b });
    const value = (key: string) => (cfg.entries as { key: string; value: unknown }[]).find((e) => e.key === key)?.value;
    expect([value('chunking.min'), value('chunking.avg'), value('chunking.max')]).toEqual([CHUNKING.min, CHUNKING.avg, CHUNKING.max]);
  });

  it('a push from a repository that chunks differently completes and says so once', async () => {
    const { base, share } = await pushed('remote-format-mismatch');
    const c = path.join(base, 'carol');
    fs.mkdirSync(c);
    await lodeOk(['init'], { cwd: c });
    await lodeOk(['config', 'chunking.min', String(CHUNKING.min)], { cwd: c });
    await lodeOk(['config', 'chunking.avg', String(CHUNKING.avg)], { cwd: c });
    await lodeOk(['config', 'chunking.max', String(CHUNKING.max)], { cwd: c });
    writeFile(c, 'data/other.bin', pseudoRandomBytes(1 << 20, 8));
    await lodeOk(['add', 'data'], { cwd: c });
    await lodeOk(['commit', '-m', 'carol'], { cwd: c });
    await lodeOk(['remote', 'add', 'share', share], { cwd: c });
    const r = await lodeOk(['push', 'share', 'main', '--force'], { cwd: c });
    expect(r.stdout).toMatch(/^note: share chunks large files with min\/avg\/max 262144\/1048576\/4194304 bytes, this repository with 65536\/262144\/1048576/m);
    const j = await lodeJson(['push', 'share', 'main'], { cwd: c });
    expect(j.pushed[0].chunkingMismatch).toEqual({ remote: { min: 262144, avg: 1048576, max: 4194304 }, local: CHUNKING });
    // The remote's record is not changed by a later push.
    expect(JSON.parse(fs.readFileSync(path.join(share, 'config'), 'utf8')).chunking).toEqual({ min: 262144, avg: 1048576, max: 4194304 });
  });

  it('a push of a commit with a record (provenance) raises the remote to format 2; plain commits leave it at 1', async () => {
    const { a, share } = await pushed('remote-format-record');
    expect(JSON.parse(fs.readFileSync(path.join(share, 'config'), 'utf8')).format).toBe(1);
    writeFile(a, 'data/vendor.csv', 'id,x\n1,2\n');
    await lodeOk(['add', 'data'], { cwd: a });
    await lodeOk(['commit', '-m', 'vendor drop', '--source', 'https://vendor.example/drop-7', '--note', 'as delivered'], { cwd: a });
    await lodeOk(['push'], { cwd: a });
    expect(JSON.parse(fs.readFileSync(path.join(share, 'config'), 'utf8'))).toEqual({ format: 2, chunking: { min: 262144, avg: 1048576, max: 4194304 } });
  });

  it('a remote in a newer format is refused by clone, fetch, pull, push and gc --remote: exit 10, nothing written', async () => {
    const { base, a, share } = await pushed('remote-format-newer');
    fs.writeFileSync(path.join(share, 'config'), JSON.stringify({ format: 5, chunking: { min: 262144, avg: 1048576, max: 4194304 }, future: true }));
    const before = fs.readdirSync(path.join(share, 'packs')).sort();
    writeFile(a, 'data/small.txt', 'changed\n');
    await lodeOk(['commit', '-a', '-m', 'v2'], { cwd: a });
    for (const args of [['push'], ['fetch'], ['pull'], ['gc', '--remote'], ['status', '--remote']]) {
      const err = expectLodeError(await runLode(args, { cwd: a }), 10);
      expect(err, args.join(' ')).toMatch(/^error: dir .*share is in remote format 5, and this lode knows only format 4: it was written by a newer lode$/m);
      expect(err).toMatch(/^hint: +upgrade lode/m);
    }
    expect(fs.readdirSync(path.join(share, 'packs')).sort()).toEqual(before);
    expectLodeError(await runLode(['clone', share, 'bob'], { cwd: base }), 10);
    expect(fs.existsSync(path.join(base, 'bob'))).toBe(false);
  });

  it('a damaged config object is corrupt data (exit 5), not a crash', async () => {
    const { a, share } = await pushed('remote-format-damaged');
    fs.writeFileSync(path.join(share, 'config'), '{"format": 1, "chunking": ');
    const err = expectLodeError(await runLode(['fetch'], { cwd: a }), 5);
    expect(err).toMatch(/^error: the config object of dir .*share is damaged: not JSON$/m);
  });
});

describe('the local format file (.lode/format)', () => {
  it('init writes 2; a newer number stops every command with exit 10 and leaves the workspace as it was; a damaged one is exit 5', async () => {
    const { a } = await pushed('local-format');
    expect(fs.readFileSync(path.join(a, '.lode', 'format'), 'utf8')).toBe('2\n');
    writeFile(a, 'data/small.txt', 'changed\n');
    fs.writeFileSync(path.join(a, '.lode', 'format'), '3\n');
    const head = fs.readFileSync(path.join(a, '.lode', 'refs', 'heads', 'main'), 'utf8');
    for (const args of [['status'], ['commit', '-a', '-m', 'v2'], ['log'], ['push'], ['checkout', '--', 'data/small.txt']]) {
      const err = expectLodeError(await runLode(args, { cwd: a }), 10);
      expect(err, args.join(' ')).toMatch(/^error: .*\.lode is in local format 3, and this lode knows only format 2: it was written by a newer lode$/m);
      expect(err).toMatch(/^hint: +upgrade lode/m);
    }
    expect(fs.readFileSync(path.join(a, '.lode', 'refs', 'heads', 'main'), 'utf8')).toBe(head);
    expect(fs.readFileSync(path.join(a, 'data', 'small.txt'), 'utf8')).toBe('changed\n');
    fs.writeFileSync(path.join(a, '.lode', 'format'), 'two\n');
    expect(expectLodeError(await runLode(['status'], { cwd: a }), 5)).toMatch(/^error: .*format does not hold a format number$/m);
    // A workspace made before the file existed is format 1; its first index write raises it to 2.
    fs.rmSync(path.join(a, '.lode', 'format'));
    await lodeOk(['status'], { cwd: a });
    expect(fs.existsSync(path.join(a, '.lode', 'format'))).toBe(false);
    await lodeOk(['add', 'data'], { cwd: a });
    expect(fs.readFileSync(path.join(a, '.lode', 'format'), 'utf8')).toBe('2\n');
  });
});
