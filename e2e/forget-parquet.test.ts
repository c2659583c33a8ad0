// `lode forget --rows` on Parquet through the built binary: one customer's
// rows erased from a Parquet file present in 3 versions; every version still
// checks out and holds exactly the other rows (read back with hyparquet,
// against the original rows filtered here), under the same schema and codec;
// the erased value's bytes are found nowhere in .lode (the file is
// uncompressed, so a raw scan means something); --dry-run counts, --verify
// proves it; a Parquet file that cannot be rewritten faithfully is named and
// nothing changes.

import fs from 'node:fs';
import path from 'node:path';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectLodeError, lodeJson, lodeOk, makeTempDir, readFile, removeDir, runLode, writeFile, type RunOptions } from '../test/helpers/cli.js';

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-forget-parquet');
});
afterAll(() => {
  if (base) removeDir(base);
});

const ERASED_MAIL = 'zed.parquet-erasable@example.com';

/** version `v` of the table: 300+100v customers, customer 4711 (with the erased e-mail) every 12th. */
function table(v: number): Uint8Array {
  const id: number[] = [];
  const mail: (string | null)[] = [];
  const score: (number | null)[] = [];
  const active: boolean[] = [];
  for (let i = 1; i <= 300 + 100 * v; i++) {
    id.push(i);
    mail.push(i % 9 === 0 ? null : `p${i}.v${v}@example.com`);
    score.push(i % 4 === 0 ? null : i * 1.25 + v);
    active.push(i % 3 === 0);
    if (i % 12 === 0) {
      id.push(4711);
      mail.push(ERASED_MAIL);
      score.push(99.5);
      active.push(true);
    }
  }
  return new Uint8Array(
    parquetWriteBuffer({
      codec: 'UNCOMPRESSED',
      columnData: [
        { name: 'customer_id', data: Int32Array.from(id), type: 'INT32' },
        { name: 'email', data: mail, type: 'STRING' },
        { name: 'score', data: score, type: 'DOUBLE' },
        { name: 'active', data: active, type: 'BOOLEAN' },
      ],
    }),
  );
}

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
const leaks = (dir: string) => filesUnder(dir).filter((f) => fs.readFileSync(f).includes(Buffer.from(ERASED_MAIL)));

describe('lode forget --rows on Parquet', () => {
  it('erases one customer from every version; everything else stays', async () => {
    const at: RunOptions = { cwd: path.join(base, 'three') };
    fs.mkdirSync(at.cwd, { recursive: true });
    await lodeOk(['init'], at);
    // Small chunks: each version is a chunked file, so erasure must drop the old chunks too.
    fs.writeFileSync(path.join(at.cwd, '.lode', 'config'), '[chunking]\nmin = 1024\navg = 4096\nmax = 16384\n');
    const originals = [0, 1, 2].map(table);
    for (const [v, bytes] of originals.entries()) {
      writeFile(at.cwd, 'data/customers.parquet', bytes);
      await lodeOk(['add', 'data'], at);
      await lodeOk(['commit', '-m', `v${v}`], at);
    }
    expect(leaks(path.join(at.cwd, '.lode')).length).toBeGreaterThan(0);

    const dry = await lodeJson(['forget', '--dry-run', '--rows', '*.parquet', '--key', 'customer_id=4711'], at);
    const expectedRemoved = await Promise.all(originals.map(async (b) => (await rowsOf(b)).filter((r) => r.customer_id === 4711).length));
    expect(dry.counts.rows).toBe(expectedRemoved.reduce((a, b) => a + b, 0));
    expect(dry.counts.files).toBe(3);
    expect(leaks(path.join(at.cwd, '.lode')).length).toBeGreaterThan(0);

    const done = await lodeJson(['forget', '--rows', '*.parquet', '--key', 'customer_id=4711'], at);
    expect(done.counts.rows).toBe(dry.counts.rows);
    expect(leaks(path.join(at.cwd, '.lode'))).toEqual([]);

    const log = (await lodeJson(['log'], at)).commits as { id: string }[];
    expect(log.length).toBe(3);
    for (const [i, c] of [...log].reverse().entries()) {
      await lodeOk(['checkout', c.id], at);
      const now = new Uint8Array(readFile(at.cwd, 'data/customers.parquet'));
      const expected = (await rowsOf(originals[i])).filter((r) => r.customer_id !== 4711);
      expect(await rowsOf(now)).toEqual(expected);
      const [a, b] = [parquetMetadata(ab(originals[i])), parquetMetadata(ab(now))];
      expect(b.schema).toEqual(a.schema);
      for (const g of b.row_groups) for (const col of g.columns) expect(col.meta_data?.codec).toBe('UNCOMPRESSED');
    }
    await lodeOk(['checkout', 'main'], at);
    const verify = await runLode(['forget', '--verify', '--rows', '*.parquet', '--key', 'customer_id=4711'], at);
    expect(verify.code).toBe(0);
    expect((await lodeJson(['fsck'], at)).ok).toBe(true);
  }, 300_000);

  it('refuses a Parquet file it cannot rewrite faithfully, naming it; nothing changes', async () => {
    const at: RunOptions = { cwd: path.join(base, 'nested') };
    fs.mkdirSync(at.cwd, { recursive: true });
    await lodeOk(['init'], at);
    writeFile(at.cwd, 'data/n.parquet', new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'customer_id', data: [1, 4711], type: 'INT32' }, { name: 'j', data: [{ a: 1 }, { a: 2 }], type: 'JSON' }] })));
    await lodeOk(['add', 'data'], at);
    await lodeOk(['commit', '-m', 'v0'], at);
    const before = await lodeJson(['log'], at);
    const err = expectLodeError(await runLode(['forget', '--rows', '*.parquet', '--key', 'customer_id=4711'], at), 2);
    expect(err).toMatch(/^error: some Parquet files cannot be rewritten faithfully without the rows: data\/n\.parquet in commit [0-9a-f]{12}: column "j" is JSON/m);
    expect(await lodeJson(['log'], at)).toEqual(before);
  }, 120_000);
});
