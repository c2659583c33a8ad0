// A ref on a directory remote must never reach the disk before what it
// names: after a power loss, a ref naming a pack the disk never got is a
// remote every clone fails on. Watched from outside with strace, as a user
// would check it: every pack and index a push renames into the remote is
// fsynced (by its final path), and so is the packs folder, before the rename
// that puts the ref in place; the ref's own file is fsynced before that
// rename and its folder after. Both push roads: small pushes through pack
// buffers (save), large ones through pack files written by workers (adopt).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { LODE_BIN, lodeOk, makeTempDir, pseudoRandomBytes, removeDir, writeFile } from './helpers/cli.js';

/** Why strace cannot watch a process here, or undefined when it can. */
function straceProblem(): string | undefined {
  const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', 'true'], { encoding: 'utf8' });
  if (r.error) return `strace is not installed (${(r.error as NodeJS.ErrnoException).code}); npm test installs it (scripts/test-prereqs.js)`;
  if (r.status !== 0) return `strace cannot trace here: ${r.stderr.trim().split('\n')[0]}`;
  return undefined;
}
const problem = straceProblem();
if (problem && /not installed/.test(problem)) throw new Error(problem);

interface Call {
  line: number;
  name: string;
  /** fsync: the path of the descriptor; rename: the destination. */
  target: string;
  source?: string;
}

/** calls reads an `strace -f -y` log of fsync and rename calls into their order. */
function calls(log: string): Call[] {
  const out: Call[] = [];
  log.split('\n').forEach((text, line) => {
    const fsync = /\b(fsync|fdatasync)\(\d+<([^>]*)>/.exec(text);
    if (fsync) out.push({ line, name: 'fsync', target: fsync[2] });
    const rename = /\brename(?:at2?)?\((?:[^,]*, )?"([^"]*)", (?:[^,]*, )?"([^"]*)"/.exec(text);
    // A rename cut by another thread's line ends `<unfinished ...>`; its result follows later.
    if (rename && (/ = 0$/.test(text.trim()) || text.trim().endsWith('<unfinished ...>'))) out.push({ line, name: 'rename', source: rename[1], target: rename[2] });
  });
  return out;
}

/** pushTraced pushes under strace and returns the fsync and rename calls, in order. */
async function pushTraced(ws: string, remoteName: string, logFile: string): Promise<Call[]> {
  const r = spawnSync('strace', ['-f', '-qq', '-y', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', '-o', logFile, process.execPath, LODE_BIN, 'push', remoteName], {
    cwd: ws,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', CI: '1' },
    timeout: 300_000,
  });
  expect(r.status, r.stderr).toBe(0);
  // Resumed calls (`<... fsync resumed>`) finish on a later line; the call line is where it started,
  // so "fsynced before the rename" is checked against the start: a flush waits for every fsync it starts.
  return calls(fs.readFileSync(logFile, 'utf8'));
}

/** expectDurableBeforeRef checks the order of one push's calls against the remote's files. */
function expectDurableBeforeRef(trace: Call[], remote: string, packsBefore: Set<string>): void {
  const refFile = path.join(remote, 'refs', 'heads', 'main');
  const refRename = trace.find((c) => c.name === 'rename' && c.target === refFile);
  expect(refRename, 'the push renamed the ref into place').toBeDefined();
  const before = trace.filter((c) => c.line < refRename!.line);
  const fsynced = new Set(before.filter((c) => c.name === 'fsync').map((c) => c.target));
  const newPacks = fs.readdirSync(path.join(remote, 'packs')).filter((f) => !packsBefore.has(f));
  expect(newPacks.some((f) => f.endsWith('.pack')), 'the push wrote a pack').toBe(true);
  for (const f of newPacks) {
    const file = path.join(remote, 'packs', f);
    // Renamed into place before the ref, and on the disk before the ref.
    expect(before.some((c) => c.name === 'rename' && c.target === file), `${f} renamed before the ref`).toBe(true);
    expect(fsynced.has(file), `${f} fsynced before the ref's rename`).toBe(true);
  }
  expect(fsynced.has(path.join(remote, 'packs')), 'the packs folder fsynced before the ref').toBe(true);
  expect(fsynced.has(refRename!.source!), "the ref's own file fsynced before its rename").toBe(true);
  const after = trace.filter((c) => c.line > refRename!.line && c.name === 'fsync').map((c) => c.target);
  expect(after).toContain(path.join(remote, 'refs', 'heads'));
}

describe.skipIf(problem !== undefined)(`directory remote durability${problem ? ` (skipped: ${problem})` : ''}`, () => {
  const root = makeTempDir('lode-dir-durable');
  afterAll(() => removeDir(root));

  it('a push fsyncs its packs and their folder before the ref, the ref before its rename, on both push roads', { timeout: 600_000 }, async () => {
    const ws = path.join(root, 'ws');
    const remote = path.join(root, 'remote');
    fs.mkdirSync(ws);
    writeFile(ws, 'data/big.bin', pseudoRandomBytes(3 << 20, 1));
    for (let i = 0; i < 5; i++) writeFile(ws, `data/s${i}.csv`, `id,v\n${i},${i * 7}\n`);
    await lodeOk(['init'], { cwd: ws });
    await lodeOk(['add', 'data'], { cwd: ws });
    await lodeOk(['commit', '-m', 'small'], { cwd: ws });
    await lodeOk(['remote', 'add', 'r', remote], { cwd: ws });
    // A small push: packs go through save().
    const first = await pushTraced(ws, 'r', path.join(root, 'trace-1'));
    expectDurableBeforeRef(first, remote, new Set());

    // A large push (over 64 MiB): pack files written by workers, moved in by adopt().
    const packsBefore = new Set(fs.readdirSync(path.join(remote, 'packs')));
    writeFile(ws, 'data/large.bin', pseudoRandomBytes(66 << 20, 2));
    await lodeOk(['add', 'data'], { cwd: ws });
    await lodeOk(['commit', '-m', 'large'], { cwd: ws });
    const second = await pushTraced(ws, 'r', path.join(root, 'trace-2'));
    expectDurableBeforeRef(second, remote, packsBefore);

    // And what was pushed reads back whole.
    const clone = path.join(root, 'clone');
    await lodeOk(['clone', remote, clone], { cwd: root });
    expect(fs.readFileSync(path.join(clone, 'data', 'large.bin')).equals(pseudoRandomBytes(66 << 20, 2))).toBe(true);
  });
});
