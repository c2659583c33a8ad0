/**
 * Argument parsers the program's global options share with the command
 * modules; cheap to import (`lode --help` loads it, not the repository).
 */
import { LodeError } from '../core/errors.js';

/** positiveInt parses the whole number given to `flag`, or throws a USAGE error. */
export function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new LodeError('USAGE', `${flag} takes a whole number, not ${JSON.stringify(v)}`);
  return n;
}
