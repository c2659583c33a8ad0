// One object-store interface, local and remote: a remote's tree is walked
// straight from the remote through the async tree source (no local store,
// no clone: only a scratch directory for the remote's pack-index cache), and
// lists what the workspace that pushed it holds; every read through
// ObjectReader is verified, on a remote (after its re-reads) and locally.

import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeChunkList, decodeCommit } from '../src/core/encoding.js';
import { CorruptObjectError, NotFoundError } from '../src/core/errors.js';
import type { ObjectId } from '../src/core/id.js';
import { ReaderTrees, walkFilesAsync } from '../src/graph/reader-trees.js';
import { storeTrees, walkFiles } from '../src/graph/trees.js';
import type { ObjectReader } from '../src/objects/reader.js';
import { LocalStore } from '../src/objects/store.js';
import { DirBackend } from '../src/storage/dir.js';
import { RemoteStore } from '../src/sync/remote-store.js';
import { flipByte, objectFile } from '../e2e/repos.js';
import { lodeOk, makeTempDir, pseudoRandomBytes, removeDir, sha256, writeFile } from './helpers/cli.js';

const dirs: string[] = [];
const temp = (label: string) => {
  const d = makeTempDir(`lode-object-reader-${label}`);
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) removeDir(d);
});

// Small files (one chunk each: their file ID is the SHA-256 of their bytes)
// over four levels of directories, several directories on one level.
const SMALL: Record<string, string> = {
  'data/a.txt': 'alpha\n',
  'data/sub/b.csv': 'id,v\n1,2\n',
  'data/sub/deep/c.txt': 'deep down\n',
  'data/z/y.txt': 'last\n',
};
for (let i = 0; i < 6; i++) SMALL[`data/d${i}/f${i}.txt`] = `file ${i}\n`;
const BIG = 'data/sub/big.bin'; // several chunks
const BIG_BYTES = pseudoRandomBytes(5 << 20, 7);
/** Levels of trees beneath the root commit's tree: root, data, data/*, data/sub/deep. */
const LEVELS = 4;

let work: string;
let remoteDir: string;
let tip: ObjectId;
let rootTree: ObjectId;

beforeAll(async () => {
  work = temp('work');
  remoteDir = path.join(temp('remote'), 'origin');
  await lodeOk(['init'], { cwd: work });
  for (const [rel, text] of Object.entries(SMALL)) writeFile(work, rel, text);
  writeFile(work, BIG, BIG_BYTES);
  await lodeOk(['add', 'data'], { cwd: work });
  await lodeOk(['commit', '-m', 'v1'], { cwd: work });
  await lodeOk(['remote', 'add', 'origin', remoteDir], { cwd: work });
  await lodeOk(['push'], { cwd: work });
  tip = fs.readFileSync(path.join(work, '.lode', 'refs', 'heads', 'main'), 'utf8').trim();
  rootTree = decodeCommit(fs.readFileSync(objectFile(work, tip)), tip).tree;
}, 180_000);

/** openRemote opens a directory remote with nothing local but a scratch index cache. */
async function openRemote(dir: string): Promise<RemoteStore> {
  const remote = new RemoteStore(new DirBackend(dir), temp('idx-cache'));
  await remote.refresh();
  return remote;
}

/** rootOf reads a commit through any ObjectReader and returns its tree. */
async function rootOf(reader: ObjectReader, commit: ObjectId): Promise<ObjectId> {
  return decodeCommit(await reader.get(commit, 'commit'), commit).tree;
}

describe('walking a remote tree with no local store', () => {
  it('lists the paths, kinds, IDs and sizes of the pushed workspace, one batch of reads per level', async () => {
    const remote = await openRemote(remoteDir);
    const head = await remote.ref('heads', 'main');
    expect(head?.id).toBe(tip);
    const tree = await rootOf(remote, head!.id);
    expect(tree).toBe(rootTree);
    const before = remote.stats.requests;
    const files = await walkFilesAsync(remote, tree);
    // Every tree of one level lies in one pack, close together: one ranged read per level
    // (a walk reading tree by tree would make 10 reads for the 10 trees here).
    expect(remote.stats.requests - before).toBeLessThanOrEqual(LEVELS);
    expect(remote.stats.rereads).toBe(0);

    // The oracle is the workspace that pushed: its paths, and for one-chunk files the SHA-256 of their bytes.
    const expected = [...Object.keys(SMALL), BIG].sort();
    expect(files.map((f) => f.path).sort()).toEqual(expected);
    for (const f of files) {
      if (f.path === BIG) {
        expect(f.kind).toBe('chunked');
        expect(f.size).toBe(BIG_BYTES.length);
      } else {
        expect(f.kind).toBe('blob');
        expect(f.id).toBe(sha256(Buffer.from(SMALL[f.path])));
        expect(f.size).toBe(Buffer.byteLength(SMALL[f.path]));
      }
    }
    // The same list as lode's own synchronous walk over the workspace's store, in the same order.
    const store = new LocalStore(path.join(work, '.lode'));
    expect(files).toEqual(walkFiles(storeTrees(store), rootTree));
    // And through the same interface over the local store.
    expect(await walkFilesAsync(store, await rootOf(store, tip))).toEqual(files);
  });

  it('reads file data from the remote too (blobs and chunks, verified)', async () => {
    const remote = await openRemote(remoteDir);
    const files = await walkFilesAsync(new ReaderTrees(remote), rootTree);
    const got = new Map<ObjectId, Buffer>();
    await remote.getMany(
      files.filter((f) => f.kind === 'blob').map((f) => f.id),
      (id, bytes) => void got.set(id, bytes),
    );
    for (const f of files) if (f.kind === 'blob') expect(got.get(f.id)?.toString()).toBe(SMALL[f.path]);
    const big = files.find((f) => f.path === BIG)!;
    const list = decodeChunkList(await remote.get(big.id, 'chunk list'), big.id);
    expect(list.chunks.length).toBeGreaterThan(1);
    const chunks = new Map<ObjectId, Buffer>();
    await remote.getMany(
      list.chunks.map((c) => c.id),
      (id, bytes) => void chunks.set(id, bytes),
    );
    expect(Buffer.concat(list.chunks.map((c) => chunks.get(c.id)!)).equals(BIG_BYTES)).toBe(true);
    expect(await remote.has(rootTree)).toBe(true);
    expect(await remote.has('0'.repeat(64))).toBe(false);
    await expect(remote.get('0'.repeat(64))).rejects.toThrow(NotFoundError);
  });
});

describe('every read through ObjectReader is verified', () => {
  /** A subtree of the pushed commit: data/sub. */
  async function subTree(reader: ObjectReader): Promise<ObjectId> {
    const trees = new ReaderTrees(reader);
    const data = (await trees.readTree(rootTree)).find((e) => e.name === 'data')!;
    return (await trees.readTree(data.id)).find((e) => e.name === 'sub')!.id;
  }

  it('a byte flipped in a remote pack is a CorruptObjectError after re-reads, for get, getMany and a walk', async () => {
    const copy = path.join(temp('damaged-remote'), 'origin');
    fs.cpSync(remoteDir, copy, { recursive: true });
    const sub = await subTree(await openRemote(copy));
    const loc = (await openRemote(copy)).location(sub)!;
    expect(loc).toBeDefined();
    flipByte(path.join(copy, 'packs', `${loc.packId}.pack`), loc.offset + (loc.length >> 1));

    const remote = await openRemote(copy);
    await expect(remote.get(sub, 'tree')).rejects.toThrow(CorruptObjectError);
    // Read three times before the damage is believed.
    expect(remote.stats.rereads).toBe(2);
    await expect(remote.getMany([sub], () => {})).rejects.toThrow(CorruptObjectError);
    await expect(walkFilesAsync(await openRemote(copy), rootTree)).rejects.toThrow(CorruptObjectError);
    // Objects elsewhere in the pack still read fine.
    expect((await remote.get(rootTree)).length).toBeGreaterThan(0);
  });

  it('a byte flipped in a local object is a CorruptObjectError, for get, getMany and a walk', async () => {
    const copy = temp('damaged-local');
    fs.cpSync(path.join(work, '.lode'), path.join(copy, '.lode'), { recursive: true });
    const store = new LocalStore(path.join(copy, '.lode'));
    const sub = await subTree(store);
    flipByte(objectFile(copy, sub), 3);
    await expect(store.get(sub, 'tree')).rejects.toThrow(CorruptObjectError);
    await expect(store.getMany([sub], () => {})).rejects.toThrow(CorruptObjectError);
    await expect(walkFilesAsync(store, rootTree)).rejects.toThrow(CorruptObjectError);
    expect(await store.has(sub)).toBe(true);
    await expect(store.get('0'.repeat(64))).rejects.toThrow(NotFoundError);
  });
});
