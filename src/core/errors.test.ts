import * as fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import * as source from './errors.js';

// Errors cross a real worker thread, which runs compiled JavaScript: this uses the build (`npx tsc -p .` first).
const built = new URL('../../dist/core/errors.js', import.meta.url);
const haveBuild = fs.existsSync(fileURLToPath(built));

/** One error of each kind, by the class name and constructor arguments, built alike on both threads. */
const KINDS: [string, unknown[]][] = [
  ['LodeError', ['INTERNAL', 'base', { hint: 'base hint' }]],
  ['UsageError', ['bad flag', { hint: 'try --help' }]],
  ['NotARepoError', ['/some/dir']],
  ['NotFoundError', ['no such path: a/b', { hint: 'check the path' }]],
  ['MissingContentError', ['content of x is missing']],
  ['UnknownRevisionError', ['v9']],
  ['CorruptObjectError', ['object abc is damaged', { objectId: 'abc', path: '/cache/ab/c' }]],
  ['LockedError', ['the repository is locked', true, 'remove .lode/lock']],
  ['ConflictError', ['would overwrite', ['a.csv', 'b/c.csv'], 'commit first']],
  ['RefConflictError', ['branch main moved', { hint: 'pull first' }]],
  ['ConfigError', ['bad config', { hint: 'fix .lode/config' }]],
  ['InvalidNameError', ['name has ..']],
  ['FileChangedError', ['data/x.csv', 'changed']],
  ['RemoteError', ['503 from remote', true, { hint: 'try again' }]],
];

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const m = await import(workerData.url);
  const out = [];
  for (const [name, args] of workerData.kinds) {
    try { throw new m[name](...args); } catch (e) { out.push(m.errorToJSON(e)); }
  }
  try { require('node:fs').readFileSync('/nonexistent/lode-test'); } catch (e) { out.push(m.errorToJSON(e)); }
  try { null.x; } catch (e) { out.push(m.errorToJSON(e)); }
  out.push(m.errorToJSON(new m.UsageError('outer', { cause: new m.NotFoundError('inner', { hint: 'inner hint' }) })));
  parentPort.postMessage(out);
})();
`;

/** fields: an error's own enumerable fields, which is what its class and constructor set. */
function fields(e: Error): Record<string, unknown> {
  return { ...e };
}

describe.skipIf(!haveBuild)('errors crossing a worker thread', () => {
  it('arrive as the same class with the same message, code, hint and fields', async () => {
    const m = (await import(built.href)) as typeof source;
    const classes = m as unknown as Record<string, new (...args: unknown[]) => Error>;
    const worker = new Worker(WORKER, { eval: true, workerData: { url: built.href, kinds: KINDS } });
    const wire = await new Promise<source.SerializedError[]>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(wire).toHaveLength(KINDS.length + 3);

    for (const [k, [name, args]] of KINDS.entries()) {
      const here = new classes[name](...args);
      const back = m.errorFromJSON(wire[k]);
      expect(back.constructor, name).toBe(classes[name]);
      expect(back).toBeInstanceOf(m.LodeError);
      expect(back.message).toBe(here.message);
      expect(fields(back), name).toEqual(fields(here));
      // The stack is the worker's, where it was thrown.
      expect(back.stack).toContain(`${name}: ${here.message}`);
    }

    // An operating-system error keeps its class, code and errno fields, so the CLI still reports it as I/O.
    const io = m.errorFromJSON(wire[KINDS.length]) as NodeJS.ErrnoException;
    expect(io.constructor).toBe(Error);
    expect(io).not.toBeInstanceOf(m.LodeError);
    expect(io).toMatchObject({ code: 'ENOENT', syscall: 'open', path: '/nonexistent/lode-test' });
    expect(io.message).toContain('ENOENT');

    // A built-in error keeps its class.
    const te = m.errorFromJSON(wire[KINDS.length + 1]);
    expect(te).toBeInstanceOf(TypeError);

    // A cause comes along, rebuilt the same way.
    const outer = m.errorFromJSON(wire[KINDS.length + 2]);
    expect(outer).toBeInstanceOf(m.UsageError);
    expect(outer.cause).toBeInstanceOf(m.NotFoundError);
    expect(outer.cause).toMatchObject({ code: 'NOT_FOUND', hint: 'inner hint', message: 'inner' });
  });
});

describe('errorToJSON / errorFromJSON', () => {
  it('round-trip through JSON text too, and make an Error of anything thrown', () => {
    const e = new source.ConflictError('would overwrite', ['a'], 'commit first');
    const back = source.errorFromJSON(JSON.parse(JSON.stringify(source.errorToJSON(e))) as source.SerializedError);
    expect(back).toBeInstanceOf(source.ConflictError);
    expect({ ...back }).toEqual({ ...e });
    const odd = source.errorFromJSON(source.errorToJSON('just a string'));
    expect(odd).toBeInstanceOf(Error);
    expect(odd.message).toBe('just a string');
  });

  it('rebuild an unregistered LodeError subclass as a LodeError with its name, code and hint', () => {
    class LocalOnly extends source.LodeError {}
    const back = source.errorFromJSON(source.errorToJSON(new LocalOnly('CONFIG', 'odd', { hint: 'h' })));
    expect(back).toBeInstanceOf(source.LodeError);
    expect(back).toMatchObject({ name: 'LocalOnly', code: 'CONFIG', hint: 'h', message: 'odd' });
  });
});
