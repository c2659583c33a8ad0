// Interrupted erasure: `lode forget --rows ... --push` killed with SIGKILL at
// a random moment (a seeded delay within the erasure's measured duration),
// 5 trials here; `node bench/torture/run.js --only erase` runs 20 (the
// issue's figure). After each kill: either nothing changed or the record is
// written, the same forget again completes the erasure, every version is
// still there and holds its old text minus the erased rows, `lode fsck`
// (local and remote) is clean, no byte of .lode or the remote holds the
// erased values. The checks live in bench/torture/erase.js.
//
// The seed is printed; LODE_TEST_SEED=N reproduces a run.

import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM without types (bench/torture runs outside the build)
import { runEraseScenario } from '../bench/torture/erase.js';
// @ts-expect-error plain ESM without types
import { rng } from '../bench/torture/common.js';
import { makeTempDir, removeDir } from '../test/helpers/cli.js';

let base: string;
beforeAll(() => {
  base = makeTempDir('lode-e2e-forget-kill');
});
afterAll(() => {
  if (base) removeDir(base);
});

describe('lode forget killed at random points', () => {
  it('either nothing changed or a re-run completes; every version stays; fsck clean', async () => {
    const seed = Number(process.env.LODE_TEST_SEED ?? Date.now() % 1_000_000);
    console.log(`forget-kill: seed ${seed} (LODE_TEST_SEED=${seed} reproduces)`);
    const [tally] = await runEraseScenario({ root: path.join(base, 'erase'), trials: 5, rows: 12_000, rand: rng(seed), logDir: path.join(base, 'logs'), jobs: 2 });
    console.log(`forget-kill: ${JSON.stringify(tally.outcomes)}`);
    const violations = tally.details.filter((d: { outcome: string }) => d.outcome.startsWith('violation'));
    expect(violations, `seed ${seed}`).toEqual([]);
    expect(tally.trials).toBe(5);
  }, 600_000);
});
