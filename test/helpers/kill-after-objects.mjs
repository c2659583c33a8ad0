// Preload (node --import) for crash tests: SIGKILLs the process right after
// its Nth file rename into, or Nth unlink from, a `.lode/objects/` folder
// (LODE_KILL_AFTER_PUT=N, LODE_KILL_AFTER_REMOVE=N). With LODE_KILL_LOG set,
// every counted call is appended there, so a test can tell how many there
// were in a run that was not killed. Patches node:fs as lode's modules see
// it (syncBuiltinESMExports); nothing else is changed.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const inObjects = (p) => typeof p === 'string' && /[/\\]\.lode[/\\]objects[/\\]/.test(p);
const log = process.env.LODE_KILL_LOG;
function counted(name, limit) {
  const orig = fs[name];
  let n = 0;
  fs[name] = function (...args) {
    const r = orig.apply(this, args);
    const p = name === 'renameSync' ? args[1] : args[0];
    if (inObjects(p)) {
      n++;
      if (log) fs.appendFileSync(log, `${name} ${n} ${p}\n`);
      if (limit > 0 && n >= limit) process.kill(process.pid, 'SIGKILL');
    }
    return r;
  };
}
counted('renameSync', Number(process.env.LODE_KILL_AFTER_PUT || 0));
counted('unlinkSync', Number(process.env.LODE_KILL_AFTER_REMOVE || 0));
syncBuiltinESMExports();
