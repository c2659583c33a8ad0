// Forged remotes for the torture suite, one per rule of issue 9 part 1, built
// with the raw encoders shared with e2e/forged-remote.test.ts
// (test/helpers/forge.js).

import { obj, rawChunkList, rawCommit, rawTree, writeRemote } from '../../test/helpers/forge.js';

export { ready } from '../../test/helpers/forge.js';

export const HOOK = Buffer.from('#!/bin/sh\necho pwned > "${TMPDIR:-/tmp}/lode-torture-pwned"\n');
export const CONFIG = Buffer.from('[remote "origin"]\nurl = /attacker\n');

/**
 * forgeReservedName writes a remote whose main commit tracks the whole
 * workspace (`dataset ` with the empty path) and whose tree holds data/a.txt
 * plus an entry `name` (at the root, or under data/sub when `nested`): a
 * directory with what an attacker plants there (hooks/post-checkout for git,
 * config.local and refs/heads/main for lode).
 */
export function forgeReservedName(dir, name, nested = false) {
  const a = obj(Buffer.from('honest data\n'));
  const hook = obj(HOOK);
  const config = obj(CONFIG);
  const ref = obj(Buffer.from(`${'0'.repeat(64)}\n`));
  const hooks = rawTree([{ name: 'post-checkout', kind: 'blob', id: hook.id, size: hook.bytes.length, exec: true }]);
  const refsHeads = rawTree([{ name: 'main', kind: 'blob', id: ref.id, size: ref.bytes.length }]);
  const refs = rawTree([{ name: 'heads', kind: 'tree', id: refsHeads.id, size: ref.bytes.length }]);
  const payload = rawTree([
    { name: 'hooks', kind: 'tree', id: hooks.id, size: hook.bytes.length },
    { name: 'config.local', kind: 'blob', id: config.id, size: config.bytes.length },
    { name: 'refs', kind: 'tree', id: refs.id, size: ref.bytes.length },
  ]);
  const objects = [a, hook, config, ref, hooks, refsHeads, refs, payload];
  const evil = { name, kind: 'tree', id: payload.id, size: 100, files: 3 };
  const aEntry = { name: 'a.txt', kind: 'blob', id: a.id, size: a.bytes.length };
  let root;
  if (nested) {
    const holder = rawTree([evil]);
    const data = rawTree([aEntry, { name: 'sub', kind: 'tree', id: holder.id, size: 100, files: 3 }]);
    root = rawTree([{ name: 'data', kind: 'tree', id: data.id, size: 112, files: 4 }]);
    objects.push(holder, data, root);
  } else {
    const data = rawTree([aEntry]);
    root = rawTree([{ name: 'data', kind: 'tree', id: data.id, size: a.bytes.length }, evil]);
    objects.push(data, root);
  }
  const commit = rawCommit(root.id, ['']);
  objects.push(commit);
  writeRemote(dir, objects, { main: commit.id });
  return { commit: commit.id };
}

const honestFile = obj(Buffer.from('honest data\n'));
const honestData = rawTree([{ name: 'a.txt', kind: 'blob', id: honestFile.id, size: honestFile.bytes.length }]);
const honestEntries = [{ name: 'data', kind: 'tree', id: honestData.id, size: honestFile.bytes.length }];

/** forgeDataset writes a remote whose commit has an extra `dataset <line>`. */
export function forgeDataset(dir, line) {
  const root = rawTree(honestEntries);
  const commit = rawCommit(root.id, ['data', line].sort());
  writeRemote(dir, [honestFile, honestData, root, commit], { main: commit.id });
  return { commit: commit.id };
}

/** forgePackIndex writes an honest remote whose pack index entry for the file is rewritten by `how`. */
export function forgePackIndex(dir, how) {
  const root = rawTree(honestEntries);
  const commit = rawCommit(root.id, ['data']);
  const entryOf = (e) => (e.id !== honestFile.id ? e : how === 'past-end' ? { ...e, offset: e.offset + 1000 } : { ...e, length: 0xffffffff });
  return writeRemote(dir, [honestFile, honestData, root, commit], { main: commit.id }, entryOf);
}

/** forgeHugeChunk writes a remote whose file's chunk list declares a 3 GiB chunk whose bytes are 11. */
export function forgeHugeChunk(dir) {
  const chunk = obj(Buffer.from('eleven byte'));
  const list = rawChunkList([
    { id: chunk.id, size: 3 * 2 ** 30 },
    { id: chunk.id, size: 11 },
  ]);
  const data = rawTree([{ name: 'big.bin', kind: 'chunked', id: list.id, size: 3 * 2 ** 30 + 11 }]);
  const root = rawTree([{ name: 'data', kind: 'tree', id: data.id, size: 3 * 2 ** 30 + 11 }]);
  const commit = rawCommit(root.id, ['data']);
  writeRemote(dir, [chunk, list, data, root, commit], { main: commit.id });
  return { list: list.id };
}
