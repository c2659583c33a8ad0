// Progress on a pipe (not a terminal): plain lines on stderr, as they would
// land in a CI log. LODE_PROGRESS_INTERVAL=0 asks for a line per event, so
// the tests see every step without depending on how fast the machine is.

import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { LODE_BIN, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, runLode, writeFile } from '../test/helpers/cli.js';

const MiB = 1024 * 1024;
const EVERY_EVENT = { LODE_PROGRESS_INTERVAL: '0' };
const dirs: string[] = [];
afterAll(() => dirs.forEach(removeDir));

function tempDir(name: string): string {
  const d = makeTempDir(name);
  dirs.push(d);
  return d;
}

/** progressLines: the stderr lines of one phase ("checking out: ..."), in order. */
const progressLines = (stderr: string, label: string) => stderr.split('\n').filter((l) => l.startsWith(`${label}: `));

/** bytesOf reads "12.0 MiB/24.0 MiB" from a progress line: [done, total] in MiB, or null. */
function bytesOf(line: string): [number, number] | null {
  const m = /([\d.]+) (B|KiB|MiB)\/([\d.]+) MiB/.exec(line);
  if (!m) return null;
  const done = Number(m[1]) / (m[2] === 'B' ? MiB : m[2] === 'KiB' ? 1024 : 1);
  return [done, Number(m[3])];
}

async function repoWithBigFile(name: string): Promise<string> {
  const dir = tempDir(name);
  await lodeOk(['init'], { cwd: dir });
  await lodeOk(['config', 'cache.type', 'copy'], { cwd: dir });
  writeFile(dir, 'data/big.bin', pseudoRandomBytes(24 * MiB, 7));
  await lodeOk(['add', 'data'], { cwd: dir });
  await lodeOk(['commit', '-m', 'big'], { cwd: dir });
  return dir;
}

describe('plain progress lines (stderr not a terminal)', () => {
  it('checking out one big file reports its bytes as they are written, not only at the end', async () => {
    const dir = await repoWithBigFile('progress-checkout');
    removeDir(`${dir}/data`);
    const r = await runLode(['checkout', '--', 'data/big.bin'], { cwd: dir, env: EVERY_EVENT });
    expect(r.code, r.stderr).toBe(0);
    const lines = progressLines(r.stderr, 'checking out');
    // A copy of 24 MiB in 4 MiB steps: lines in the middle of the one file, with no escape codes.
    const middle = lines.map(bytesOf).filter((b): b is [number, number] => b !== null && b[0] > 0 && b[0] < b[1]);
    expect(middle.length, r.stderr).toBeGreaterThanOrEqual(2);
    for (const [, total] of middle) expect(total).toBe(24);
    for (const l of lines) expect(l).toMatch(/^checking out: [0-9]/);
    expect(r.stderr).not.toMatch(/\x1b\[/);
  });

  it('with LODE_PROGRESS_INTERVAL longer than the checkout, it prints no progress line', async () => {
    const dir = await repoWithBigFile('progress-quiet');
    removeDir(`${dir}/data`);
    const r = await runLode(['checkout', '--', 'data/big.bin'], { cwd: dir, env: { LODE_PROGRESS_INTERVAL: '3600' } });
    expect(r.code, r.stderr).toBe(0);
    expect(progressLines(r.stderr, 'checking out')).toEqual([]);
  });

  it('a table diff reports rows and bytes read while it reads them', async () => {
    const dir = tempDir('progress-tables');
    await lodeOk(['init'], { cwd: dir });
    const rows = (n: number, edit: number) => {
      const out = ['id,label,value'];
      for (let i = 0; i < n; i++) out.push(`${i},${i % edit === 0 ? 'changed' : 'label' + (i % 7)},${(i * 0.37).toFixed(3)}`);
      return out.join('\n') + '\n';
    };
    writeFile(dir, 'data/t.csv', rows(200_000, 1_000_000_000));
    await lodeOk(['add', 'data'], { cwd: dir });
    await lodeOk(['commit', '-m', 'v1'], { cwd: dir });
    writeFile(dir, 'data/t.csv', rows(200_000, 1000));
    await lodeOk(['add', 'data'], { cwd: dir });
    await lodeOk(['commit', '-m', 'v2'], { cwd: dir });
    const r = await runLode(['diff', 'HEAD~1', 'HEAD', '--key', 'id'], { cwd: dir, env: EVERY_EVENT });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('data/t.csv');
    const lines = progressLines(r.stderr, 'diffing tables');
    // Lines while the one table is read: 0 of 1 tables done, rows counted, bytes short of the total.
    const reading = lines.filter((l) => l.startsWith('diffing tables: 0/1 table,') && / rows/.test(l));
    expect(reading.length, r.stderr).toBeGreaterThanOrEqual(2);
    const counts = reading.map((l) => Number(/([\d,]+) rows/.exec(l)![1].replace(/,/g, '')));
    expect(counts.some((n) => n > 0 && n < 400_000), r.stderr).toBe(true);
    expect([...counts].sort((a, b) => a - b)).toEqual(counts); // never goes back
  });

  it('the end of a clone shows its checkout, after the download', async () => {
    const src = await repoWithBigFile('progress-clone-src');
    const remote = tempDir('progress-clone-remote');
    await lodeOk(['remote', 'add', 'origin', remote], { cwd: src });
    await lodeOk(['push'], { cwd: src });
    const parent = tempDir('progress-clone-dst');
    const r = await runLode(['clone', remote, 'ws'], { cwd: parent, env: EVERY_EVENT });
    expect(r.code, r.stderr).toBe(0);
    const all = r.stderr.split('\n');
    const lastPull = all.map((l) => l.startsWith('pulling: ')).lastIndexOf(true);
    const checkout = all.findIndex((l) => l.startsWith('checking out: '));
    expect(lastPull, r.stderr).toBeGreaterThanOrEqual(0);
    expect(checkout, r.stderr).toBeGreaterThan(lastPull);
    expect(all[checkout]).toContain('/24.0 MiB');
  });
});

// A real terminal through util-linux `script` (a pty), 60 columns wide: the ink view.
const haveScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!haveScript)('ink progress on a 60-column terminal (script(1) pty)', () => {
  it('draws the checkout of a big file within the width, and keeps its summary', async () => {
    const dir = await repoWithBigFile('progress-tty');
    removeDir(`${dir}/data`);
    const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const cmd = `stty cols 60 rows 20; ${shq(process.execPath)} ${shq(LODE_BIN)} checkout -- data/big.bin`;
    const env: Record<string, string> = { ...(process.env as Record<string, string>), TERM: 'xterm-256color', NO_COLOR: '1' };
    delete env['CI'];
    delete env['CONTINUOUS_INTEGRATION'];
    const r = spawnSync('script', ['-qfec', cmd, '/dev/null'], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    // What the terminal shows: escape sequences out, lines split at CR and LF.
    const visible = r.stdout
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .split(/\r|\n/)
      .filter((l) => l.trim() !== '');
    expect(visible.some((l) => l.includes('checking out')), r.stdout).toBe(true);
    expect(visible.some((l) => /checking out: 1 file, 24\.0 MiB in/.test(l)), r.stdout).toBe(true);
    // The progress lines (the command's own result line, on the same pty, is not progress).
    for (const l of visible.filter((x) => x.includes('checking out'))) expect([...l].length, l).toBeLessThanOrEqual(60);
  });
});
