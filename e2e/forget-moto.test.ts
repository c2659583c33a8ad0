// The end-to-end erasure test, on a bucket in moto shared by two
// workspaces: a CSV and a Parquet file present in 20 versions (12 on main, 7
// on a side branch, and the merge of the two). Some versions change other
// rows, the customer's rows vanish from one file on main and come back on the
// side branch only. One customer's rows are erased with `lode forget --rows
// --push`; then:
//
//   - all 20 versions still check out, and each differs from what it held
//     before only by the erased rows (the CSV compared as text with the
//     customer's lines dropped here; the Parquet file read back with
//     hyparquet and compared row by row against the original rows filtered
//     here, under the same schema);
//   - the erased values are found in no byte of the local .lode, nor of any
//     object of the bucket (listed and read with the S3 SDK directly), each
//     pack read with its compressed objects decompressed
//     (test/helpers/packs.js, written from docs/formats.md); the bucket is
//     checked to hold compressed objects, so that scan is not vacuous, and the
//     Parquet file is written UNCOMPRESSED, so its values show in its bytes;
//   - the erasure record reaches the second workspace on fetch, which drops
//     the cached objects that held the erased rows and follows old IDs;
//   - then a file is erased from history with `lode forget PATH`, then
//     `lode push` and `lode gc --remote --erase`: a lode.lock pin committed
//     to git before it still resolves (`lode checkout` at the old git commit
//     follows the map, with a one-line note).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lodeJson, lodeOk, makeTempDir, readFile, removeDir, runLode, writeFile, type RunOptions, type RunResult } from '../test/helpers/cli.js';
import { createBucket, MOTO_CREDENTIALS, startMoto, type TestServer } from '../test/helpers/s3-servers.js';
import { compressedEntries, expandBucket, INDEX_ENTRY, INDEX_HEADER, readExpanded } from '../test/helpers/packs.js';

const BUCKET = 'erase-moto';
const ERASED_ID = 4711;
const ERASED_NAME = 'Zed Moto-Erasable';
const ERASED_MAIL = 'zed.moto-erasable@example.com';
const SECRET = 'AKIA-MOTO-LEAKED-TOKEN-0042';
const needles = [ERASED_NAME, ERASED_MAIL].map((s) => Buffer.from(s));

let base: string;
let moto: TestServer;
beforeAll(async () => {
  base = makeTempDir('lode-e2e-forget-moto');
  moto = await startMoto();
  await createBucket(moto.endpoint, BUCKET);
}, 120_000);
afterAll(async () => {
  await moto?.stop();
  if (base) removeDir(base);
});

/** customersCsv: version `v` of the CSV; `rev` changes some other rows; the customer's rows when `withCustomer`. */
function customersCsv(v: number, rev: number, withCustomer: boolean): string {
  const rows = ['customer_id,name,email,balance'];
  for (let i = 1; i <= 80 + 4 * v; i++) {
    const balance = i % 7 === rev % 7 ? `${i * 3 + rev}.50` : `${i}.00`;
    rows.push(`${i},"Person ${i}, ${'x'.repeat(i % 13)}",p${i}@example.com,${balance}`);
    if (withCustomer && i % 19 === 0) rows.push(`${ERASED_ID},"${ERASED_NAME}",${ERASED_MAIL},${i}.${v}`);
  }
  return `${rows.join('\r\n')}\r\n`;
}

/** ordersParquet: version `v` of the Parquet table (uncompressed, so raw bytes show the values). */
function ordersParquet(v: number, withCustomer: boolean): Uint8Array {
  const id: number[] = [];
  const mail: (string | null)[] = [];
  const amount: (number | null)[] = [];
  for (let i = 1; i <= 400 + 25 * v; i++) {
    id.push(i);
    mail.push(i % 11 === 0 ? null : `p${i}.v${v}@example.com`);
    amount.push(i % 5 === 0 ? null : i * 1.5 + v);
    if (withCustomer && i % 16 === 0) {
      id.push(ERASED_ID);
      mail.push(ERASED_MAIL);
      amount.push(1000 + i);
    }
  }
  return new Uint8Array(
    parquetWriteBuffer({
      codec: 'UNCOMPRESSED',
      columnData: [
        { name: 'customer_id', data: Int32Array.from(id), type: 'INT32' },
        { name: 'email', data: mail, type: 'STRING' },
        { name: 'amount', data: amount, type: 'DOUBLE' },
      ],
    }),
  );
}

/** The CSV oracle: drop every line whose first field is the erased customer's ID. */
function csvWithout(text: string): string {
  return text
    .split(/(?<=\n)/)
    .filter((l) => !l.startsWith(`${ERASED_ID},`))
    .join('');
}
const csvErasedRows = (text: string) => text.split('\n').filter((l) => l.startsWith(`${ERASED_ID},`)).length;

const ab = (b: Uint8Array) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
const rowsOf = (b: Uint8Array) => parquetReadObjects({ file: ab(b) });

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}
const holds = (b: Buffer, ns: Buffer[]) => ns.some((n) => b.includes(n));
/** leaks lists the files below `dir` holding any of `ns`, byte for byte (a pack with its compressed objects decompressed). */
const leaks = (dir: string, ns = needles) => filesUnder(dir).filter((f) => holds(readExpanded(f), ns));

/** rawBucketObjects lists and reads every object of the bucket with the S3 SDK itself (no lode code), as stored. */
async function rawBucketObjects(): Promise<Map<string, Buffer>> {
  const { S3Client, ListObjectsV2Command, GetObjectCommand } = await import('@aws-sdk/client-s3');
  const s3 = new S3Client({ endpoint: moto.endpoint, forcePathStyle: true, region: 'us-east-1', credentials: MOTO_CREDENTIALS });
  const out = new Map<string, Buffer>();
  try {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }));
        out.set(o.Key!, Buffer.from(await got.Body!.transformToByteArray()));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    s3.destroy();
  }
  return out;
}
/** bucketObjects is rawBucketObjects with each pack expanded (its compressed objects decompressed, test/helpers/packs.js). */
const bucketObjects = async () => expandBucket(await rawBucketObjects());
/** compressedObjects counts the objects stored compressed (codec 1 or 3 in an index of version 2, docs/formats.md) in the bucket's packs. */
function compressedObjects(objects: Map<string, Buffer>): number {
  let n = 0;
  for (const [k, idx] of objects) {
    if (!k.endsWith('.idx') || idx.subarray(0, 5).toString('latin1') !== 'LODX\x02') continue;
    expect(idx.length, k).toBe(INDEX_HEADER + INDEX_ENTRY * idx.readUInt32BE(37) + 8);
    n += compressedEntries(idx).length;
  }
  return n;
}
const bucketLeaks = async (ns = needles) => [...(await bucketObjects())].filter(([, b]) => holds(b, ns)).map(([k]) => k);

/** runGit runs the real git in `cwd` with a private HOME. */
function runGit(cwd: string, home: string, args: string[]): Promise<RunResult> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GIT_')) env[k] = v;
  Object.assign(env, { HOME: home, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' });
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-c', 'init.defaultBranch=main', '-c', 'advice.detachedHead=false', ...args], { cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (x: Buffer) => out.push(x));
    child.stderr.on('data', (x: Buffer) => err.push(x));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') }));
  });
}

/** One version as committed: its commit, CSV text, Parquet bytes and whether it held the secret file. */
interface Version {
  label: string;
  commit: string;
  csv: string;
  parquet: Uint8Array;
  secret: boolean;
}

describe('lode forget on moto: 20 versions of a CSV and a Parquet file, two workspaces', () => {
  it('erases one customer everywhere, every version still checks out; a file erased later leaves git pins resolvable', async () => {
    const env = { AWS_ACCESS_KEY_ID: MOTO_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: MOTO_CREDENTIALS.secretAccessKey, AWS_REGION: 'us-east-1' };
    const home = path.join(base, 'home');
    fs.mkdirSync(home, { recursive: true });
    const a: RunOptions = { cwd: path.join(base, 'a'), env: { ...env, HOME: home } };
    const b: RunOptions = { cwd: path.join(base, 'b'), env: { ...env, HOME: home } };
    fs.mkdirSync(a.cwd, { recursive: true });
    const git = async (...args: string[]) => {
      const r = await runGit(a.cwd, home, args);
      if (r.code !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
      return r.stdout.trim();
    };
    const remoteArgs = ['--endpoint', moto.endpoint, '--path-style'];
    await git('init', '-q');
    await lodeOk(['init'], a);
    // Small chunks: every version is several chunks, some shared between versions.
    fs.appendFileSync(path.join(a.cwd, '.lode', 'config'), '\n[chunking]\nmin = 1024\navg = 4096\nmax = 16384\n');

    const versions: Version[] = [];
    const gitPins: { sha: string; version: Version }[] = [];
    const commitVersion = async (label: string, csv: string, parquet: Uint8Array, secret: boolean): Promise<Version> => {
      writeFile(a.cwd, 'data/customers.csv', csv);
      writeFile(a.cwd, 'data/orders.parquet', parquet);
      if (secret) writeFile(a.cwd, 'data/secret/token.txt', `${SECRET}\n`);
      else fs.rmSync(path.join(a.cwd, 'data/secret'), { recursive: true, force: true });
      await lodeOk(['add', 'data'], a);
      const c = await lodeJson(['commit', '-m', label], a);
      const v = { label, commit: c.id as string, csv, parquet, secret };
      versions.push(v);
      return v;
    };
    const gitCommit = async (v: Version) => {
      await git('add', '-A');
      await git('commit', '-q', '-m', v.label);
      gitPins.push({ sha: await git('rev-parse', 'HEAD'), version: v });
    };

    // main m0..m11: m0..m5 hold the customer in both files (m4 and m5 change other rows only);
    // from m6 the CSV stays as m5's and the Parquet file changes, without the customer from m9.
    for (let v = 0; v < 12; v++) {
      const csv = v <= 5 ? customersCsv(Math.min(v, 4), v, true) : customersCsv(4, 5, true);
      const m = await commitVersion(`m${v}`, csv, ordersParquet(v, v < 9), v >= 2 && v <= 7);
      if (v === 3 || v === 8) await gitCommit(m);
    }
    const byLabel = (l: string) => versions.find((x) => x.label === l)!;
    // side s1..s7 from m5: only the CSV changes; the customer is gone in s1..s2 and comes back from s3 (on this branch only).
    await lodeOk(['checkout', '-b', 'side', byLabel('m5').commit], a);
    for (let s = 1; s <= 7; s++) await commitVersion(`s${s}`, customersCsv(4 + s, 10 + s, s >= 3), byLabel('m5').parquet, true);
    // The merge: side's CSV, main's Parquet file (each changed on one side only since m5).
    await lodeOk(['checkout', 'main'], a);
    const merged = await lodeJson(['merge', 'side', '--no-ff', '-m', 'merge side'], a);
    expect(merged.conflicts ?? []).toEqual([]);
    const mergeCommit = (await lodeJson(['log', '-n', '1'], a)).commits[0].id as string;
    // The merge result, as lode wrote it, is the version's "before" (checked against the oracle's expectation of a clean merge).
    expect(readFile(a.cwd, 'data/customers.csv').toString()).toBe(byLabel('s7').csv);
    expect(Buffer.from(readFile(a.cwd, 'data/orders.parquet')).equals(Buffer.from(byLabel('m11').parquet))).toBe(true);
    versions.push({ label: 'merge', commit: mergeCommit, csv: byLabel('s7').csv, parquet: byLabel('m11').parquet, secret: fs.existsSync(path.join(a.cwd, 'data/secret/token.txt')) });
    expect(versions).toHaveLength(20);
    expect(new Set(versions.map((v) => v.commit)).size).toBe(20);
    await gitCommit(versions[19]);

    await lodeOk(['remote', 'add', 'origin', `s3://${BUCKET}/data`, ...remoteArgs], a);
    await lodeOk(['push', 'origin', 'main'], a);
    await lodeOk(['push', 'origin', 'side'], a);
    // The CSV and the uncompressed Parquet file compress: the pushed packs hold brotli streams, so a raw byte scan would miss what they hold.
    expect(compressedObjects(await rawBucketObjects())).toBeGreaterThan(0);
    expect((await bucketLeaks()).length).toBeGreaterThan(0);

    // B: a second workspace with the data of a few old versions in its cache.
    await lodeOk(['clone', `s3://${BUCKET}/data`, b.cwd, ...remoteArgs], { cwd: base, env: a.env });
    await lodeOk(['fetch'], b);
    await lodeOk(['checkout', '-b', 'side', 'origin/side'], b);
    for (const l of ['m0', 's4', 'm8']) await lodeOk(['checkout', byLabel(l).commit], b);
    await lodeOk(['checkout', 'main'], b);
    const bLeaksBefore = leaks(path.join(b.cwd, '.lode'));
    expect(bLeaksBefore.length).toBeGreaterThan(0);

    // The erasure, with --push.
    const rule = ['--rows', 'data/*', '--key', `customer_id=${ERASED_ID}`];
    const r = await lodeJson(['forget', ...rule, '--push'], a);
    expect(r.matched).toBe(true);
    let expectedRows = 0;
    for (const v of versions) expectedRows += csvErasedRows(v.csv) + (await rowsOf(v.parquet)).filter((x) => x.customer_id === ERASED_ID).length;
    expect(r.counts.rows).toBe(expectedRows);
    expect(r.refsMoved).toEqual(expect.arrayContaining(['heads/main', 'heads/side']));
    expect(r.remote.packsDeleted).toBeGreaterThan(0);
    const map = new Map<string, string>(r.commits.map((x: { old: string; new: string }) => [x.old, x.new]));
    // m0 changes, so every commit gets a new ID.
    for (const v of versions) expect(map.get(v.commit)).toMatch(/^[0-9a-f]{64}$/);

    // All 20 versions check out, and differ from before only by the customer's rows.
    for (const v of versions) {
      await lodeOk(['checkout', map.get(v.commit)!], a);
      expect(readFile(a.cwd, 'data/customers.csv').toString(), v.label).toBe(csvWithout(v.csv));
      const now = new Uint8Array(readFile(a.cwd, 'data/orders.parquet'));
      const expected = (await rowsOf(v.parquet)).filter((x) => x.customer_id !== ERASED_ID);
      expect(await rowsOf(now), v.label).toEqual(expected);
      expect(parquetMetadata(ab(now)).schema).toEqual(parquetMetadata(ab(v.parquet)).schema);
      if (!(await rowsOf(v.parquet)).some((x) => x.customer_id === ERASED_ID)) expect(Buffer.from(now).equals(Buffer.from(v.parquet)), v.label).toBe(true);
      expect(fs.existsSync(path.join(a.cwd, 'data/secret/token.txt'))).toBe(v.secret);
    }
    await lodeOk(['checkout', 'main'], a);
    // The merge is still a merge of the rewritten side.
    const mergeNow = (await lodeJson(['log', '-n', '1', map.get(mergeCommit)!], a)).commits[0];
    expect(mergeNow.parents ?? mergeNow.parent).toEqual(expect.arrayContaining([map.get(byLabel('m11').commit), map.get(byLabel('s7').commit)]));

    // No byte of A's .lode, and no object of the bucket, holds an erased value.
    expect(leaks(path.join(a.cwd, '.lode'))).toEqual([]);
    const raw = await rawBucketObjects();
    // The repacked bucket still holds compressed objects (the erased values could hide in them).
    expect(compressedObjects(raw)).toBeGreaterThan(0);
    const objects = expandBucket(raw);
    expect([...objects].filter(([, x]) => holds(x, needles)).map(([k]) => k)).toEqual([]);
    const records = [...objects.keys()].filter((k) => k.startsWith('data/erasures/'));
    expect(records.length).toBe(1);
    // The record names no erased value. Its 64-hex object IDs are left out of the search: a random ID can hold the digits.
    // Not as a token of its own: inside a hex ID or the time's digits the four digits turn up by chance.
    for (const k of records) expect(objects.get(k)!.toString()).not.toMatch(new RegExp(`(^|[^0-9a-f])${ERASED_ID}([^0-9a-f]|$)`));

    // B fetches: the record travels, refs move, the cached objects that held the rows are gone.
    const fetched = await lodeJson(['fetch'], b);
    expect(fetched.erasures.records).toHaveLength(1);
    expect(fs.readdirSync(path.join(b.cwd, '.lode', 'erasures')).length).toBeGreaterThan(0);
    for (const f of bLeaksBefore) expect(fs.existsSync(f), f).toBe(false);
    expect(leaks(path.join(b.cwd, '.lode'))).toEqual([]);
    expect(readFile(b.cwd, 'data/customers.csv').toString()).toBe(csvWithout(byLabel('s7').csv));
    // B follows an old ID through the record it fetched.
    const old = await runLode(['log', '-n', '1', byLabel('s4').commit], b);
    expect(old.code).toBe(0);
    expect(old.stderr).toMatch(/^warning: note: commit [0-9a-f]+ was rewritten by erasure/m);
    expect(old.stdout).toContain(map.get(byLabel('s4').commit)!.slice(0, 12));
    await lodeOk(['checkout', map.get(byLabel('m2').commit)!], b);
    expect(readFile(b.cwd, 'data/customers.csv').toString()).toBe(csvWithout(byLabel('m2').csv));
    await lodeOk(['checkout', 'main'], b);

    const verified = await runLode(['forget', '--verify', ...rule, '--remote', 'origin'], a);
    expect(verified.code).toBe(0);
    for (const w of [a, b]) expect((await lodeJson(['fsck'], w)).ok).toBe(true);

    // Then erase a file (m2..m7 and the side branch held it): forget, push, gc --remote --erase.
    const secretNeedle = [Buffer.from(SECRET)];
    expect((await bucketLeaks(secretNeedle)).length).toBeGreaterThan(0);
    const f = await lodeJson(['forget', 'data/secret'], a);
    expect(f.counts.files).toBeGreaterThan(0);
    expect(leaks(path.join(a.cwd, '.lode'), secretNeedle)).toEqual([]);
    await lodeOk(['push', 'origin', 'main'], a);
    await lodeOk(['push', 'origin', 'side'], a);
    await lodeOk(['gc', '--remote', 'origin', '--erase'], a);
    expect(await bucketLeaks(secretNeedle)).toEqual([]);
    expect(await bucketLeaks()).toEqual([]);
    const fileMap = new Map<string, string>(f.commits.map((x: { old: string; new: string }) => [x.old, x.new]));

    // The erasures moved the pin in the work tree: the user commits it (and .lode/config, where the remote was added).
    expect(await git('status', '--porcelain')).toMatch(/M lode\.lock$/m);
    await git('commit', '-q', '-am', 'erasure');
    // An old git commit's lode.lock pins a commit of before both erasures: `lode checkout` follows both maps.
    for (const { sha, version } of gitPins) {
      await git('checkout', '-q', sha);
      const co = await runLode(['checkout'], a);
      expect(co.code, co.stderr).toBe(0);
      const noteLines = co.stderr.split('\n').filter((l) => /rewritten by erasure/.test(l));
      expect(noteLines.length, co.stderr).toBe(1);
      expect(noteLines[0]).toMatch(new RegExp(`^warning: note: lode commit ${version.commit.slice(0, 12)}, pinned by lode\\.lock, was rewritten by erasure [0-9a-f]{12}`));
      expect(readFile(a.cwd, 'data/customers.csv').toString()).toBe(csvWithout(version.csv));
      expect((await rowsOf(new Uint8Array(readFile(a.cwd, 'data/orders.parquet')))).length).toBe((await rowsOf(version.parquet)).filter((x) => x.customer_id !== ERASED_ID).length);
      expect(fs.existsSync(path.join(a.cwd, 'data/secret/token.txt'))).toBe(false);
      expect((await lodeJson(['log', '-n', '1'], a)).commits[0].id).toBe(fileMap.get(map.get(version.commit)!) ?? map.get(version.commit));
      // Following the map leaves the old git commit as it is.
      expect(await git('status', '--porcelain')).toBe('');
    }
    await git('checkout', '-q', 'main');
    await lodeOk(['checkout'], a);

    // B learns of the second erasure too.
    const fetched2 = await lodeJson(['fetch'], b);
    expect(fetched2.erasures.records).toHaveLength(1);
    expect(leaks(path.join(b.cwd, '.lode'), [...needles, ...secretNeedle])).toEqual([]);
    for (const w of [a, b]) expect((await lodeJson(['fsck'], w)).ok).toBe(true);
    expect((await runLode(['fsck', '--remote', 'origin', '--read-data'], a)).code).toBe(0);
  }, 900_000);
});
