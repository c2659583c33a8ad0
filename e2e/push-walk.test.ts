// `lode push` reads only what changed since the last push (`walked` in
// --json), and still repairs a directory remote that lost a pack: the
// remote's current packs decide whether what an earlier push verified
// still holds.

import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { lodeJson, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, writeFile } from '../test/helpers/cli.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) removeDir(d);
});

describe('push walks what changed', () => {
  it('a no-op push reads no tree, a one-file change reads the trees above it, and a lost pack is still sent again', async () => {
    const base = makeTempDir('lode-e2e-pushwalk');
    dirs.push(base);
    const a = path.join(base, 'a');
    const share = path.join(base, 'share');
    fs.mkdirSync(a);
    const at = { cwd: a };
    await lodeOk(['init'], at);
    // Trees: the root, data, data/x, data/y.
    for (let i = 0; i < 4; i++) writeFile(a, `data/x/${i}.bin`, pseudoRandomBytes(1200 + i, 10 + i));
    for (let i = 0; i < 4; i++) writeFile(a, `data/y/${i}.bin`, pseudoRandomBytes(1300 + i, 20 + i));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v1'], at);
    await lodeOk(['remote', 'add', 'share', share], at);
    expect((await lodeJson(['push'], at)).pushed[0].walked).toEqual({ commits: 1, trees: 4 });
    const firstPack = fs.readdirSync(path.join(share, 'packs')).find((f) => f.endsWith('.pack'))!;

    expect((await lodeJson(['push'], at)).pushed[0]).toMatchObject({ upToDate: true, objects: 0, walked: { commits: 0, trees: 0 } });

    writeFile(a, 'data/y/3.bin', pseudoRandomBytes(500, 99));
    await lodeOk(['commit', '-a', '-m', 'v2'], at);
    // One file, and the trees root, data and data/y; data/x and v1 were verified by the first push.
    expect((await lodeJson(['push'], at)).pushed[0]).toMatchObject({ upToDate: false, objects: 1 + 3 + 1, walked: { commits: 1, trees: 3 } });
    expect((await lodeJson(['status', '--remote'], at)).state).toBe('upToDate');

    fs.rmSync(path.join(share, 'packs', firstPack));
    fs.rmSync(path.join(share, 'packs', firstPack.replace(/\.pack$/, '.idx')));
    const st = await lodeJson(['status', '--remote'], at);
    expect(st.state).toBe('incomplete');
    expect(st.toPush.objects).toBeGreaterThanOrEqual(7);
    const p = (await lodeJson(['push'], at)).pushed[0];
    expect(p).toMatchObject({ upToDate: false, repaired: true, walked: { commits: 2 } });
    expect(p.objects).toBeGreaterThanOrEqual(7);
    expect((await lodeJson(['fsck', '--remote'], at)).ok).toBe(true);
    expect((await lodeJson(['push'], at)).pushed[0]).toMatchObject({ upToDate: true, objects: 0, walked: { commits: 0, trees: 0 } });
  });
});
