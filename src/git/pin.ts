/**
 * The pin file (`lode.lock`): a small text file tracked by git that names
 * the lode commit the code expects, with one line per dataset so that
 * `git diff` shows which dataset moved and a merge sees one line per dataset.
 * Format (docs/git.md):
 *
 *   # comment lines
 *   lode-pin 1
 *   commit <64 hex>
 *   branch <name>          (absent when HEAD was detached)
 *   dataset <kind> <id> <files> <bytes> <path>
 */
import { LodeError } from '../core/errors.js';
import { isObjectId, type ObjectId } from '../core/id.js';
import { nameProblem } from '../core/paths.js';

export const PIN_FILE = 'lode.lock';

/** PinnedDataset is one tracked root as the pinned commit has it. */
export interface PinnedDataset {
  path: string;
  /** `tree` for a directory, `blob`/`chunked` for a single file. */
  kind: 'tree' | 'blob' | 'chunked';
  id: ObjectId;
  files: number;
  bytes: number;
}

/** Pin is the content of a pin file. */
export interface Pin {
  commit: ObjectId;
  branch: string | null;
  datasets: PinnedDataset[];
}

const HEADER = [
  '# lode.lock: the data this code expects. Written by lode; restore it with `lode checkout`.',
  '# Conflicts here are resolved with `lode merge` (see docs/git.md in the lode project).',
];

/** encodePin renders a pin as its canonical text. */
export function encodePin(pin: Pin): string {
  const lines = [...HEADER, 'lode-pin 1', `commit ${pin.commit}`];
  if (pin.branch) lines.push(`branch ${pin.branch}`);
  for (const d of [...pin.datasets].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    lines.push(`dataset ${d.kind} ${d.id} ${d.files} ${d.bytes} ${d.path}`);
  }
  return `${lines.join('\n')}\n`;
}

/** PinError is a pin file that cannot be read; the message names where it came from and the line. */
export class PinError extends LodeError {
  constructor(where: string, line: number, problem: string) {
    super('CORRUPT', `${where} is not a valid pin file (line ${line}: ${problem})`, {
      hint: 'it is written by lode: restore it with `git checkout -- lode.lock` (the next `lode commit` rewrites it too)',
    });
  }
}

/**
 * parsePin reads pin text strictly: every line must be a comment, blank, or
 * one of the known fields, and IDs must be full SHA-256 hex. Merge conflict
 * markers left by git are reported as such. `where` names the file for errors.
 */
export function parsePin(text: string, where: string): Pin {
  let version = false;
  let commit: ObjectId | undefined;
  let branch: string | null = null;
  const datasets: PinnedDataset[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const n = i + 1;
    if (line === '' || line.startsWith('#')) continue;
    if (/^(<<<<<<<|=======|>>>>>>>|\|\|\|\|\|\|\|)/.test(line)) {
      throw new LodeError('CONFLICT', `${where} has unresolved merge conflict markers (line ${n})`, {
        hint: 'run `lode merge <their lode commit>` to merge the data, then `lode commit`; lode rewrites the pin file',
      });
    }
    const sp = line.indexOf(' ');
    const field = sp < 0 ? line : line.slice(0, sp);
    const value = sp < 0 ? '' : line.slice(sp + 1);
    if (!version) {
      if (field !== 'lode-pin') throw new PinError(where, n, 'expected `lode-pin 1` first');
      if (value !== '1') throw new PinError(where, n, `unsupported version ${JSON.stringify(value)}; a newer lode wrote it`);
      version = true;
      continue;
    }
    switch (field) {
      case 'commit':
        if (commit) throw new PinError(where, n, 'two commit lines');
        if (!isObjectId(value)) throw new PinError(where, n, 'the commit is not a 64-digit hex ID');
        commit = value;
        break;
      case 'branch':
        if (branch !== null) throw new PinError(where, n, 'two branch lines');
        if (value === '' || /\s/.test(value)) throw new PinError(where, n, 'bad branch name');
        branch = value;
        break;
      case 'dataset': {
        const m = /^(tree|blob|chunked) ([0-9a-f]{64}) (\d+) (\d+) (.+)$/.exec(value);
        if (!m) throw new PinError(where, n, 'expected `dataset KIND ID FILES BYTES PATH`');
        const p = m[5];
        if (p.split('/').some((part) => nameProblem(part) !== undefined)) throw new PinError(where, n, `bad dataset path ${JSON.stringify(p)}`);
        datasets.push({ kind: m[1] as PinnedDataset['kind'], id: m[2], files: Number(m[3]), bytes: Number(m[4]), path: p });
        break;
      }
      default:
        throw new PinError(where, n, `unknown field ${JSON.stringify(field)}`);
    }
  }
  if (!version) throw new PinError(where, 1, 'no `lode-pin 1` line');
  if (!commit) throw new PinError(where, lines.length, 'no commit line');
  return { commit, branch, datasets };
}
