/**
 * Folding of long file lists for text output: a folder's run of added (or
 * deleted) files becomes one line, as `git status` shows a new folder.
 */

/** FOLD_THRESHOLD: a folder with more than this many added (or deleted) files is shown as one line. */
export const FOLD_THRESHOLD = 10;

/** Folded is one folder standing for `files` of the listed items, all with the same status, `bytes` in all. */
export interface Folded<S extends string> {
  folder: string;
  status: S;
  files: number;
  bytes: number;
}

/** FoldItem is a listed file: its path, its status, its size, and whether it may be folded at all. */
export interface FoldItem<S extends string> {
  path: string;
  status: S;
  bytes: number;
  foldable: boolean;
}

/**
 * foldByFolder returns `items` in their order with each run of more than
 * `threshold` foldable items of one status directly inside one folder replaced,
 * at the place of its first item, by one Folded entry. Items at the root
 * (no folder) and unfoldable items are kept as they are.
 */
export function foldByFolder<S extends string, T extends FoldItem<S>>(items: readonly T[], threshold = FOLD_THRESHOLD): (T | Folded<S>)[] {
  const groupOf = (x: T) => `${x.status}\0${parentOf(x.path)}`;
  const counts = new Map<string, { files: number; bytes: number }>();
  for (const x of items) {
    if (!x.foldable || parentOf(x.path) === '') continue;
    const g = counts.get(groupOf(x)) ?? { files: 0, bytes: 0 };
    g.files++;
    g.bytes += x.bytes;
    counts.set(groupOf(x), g);
  }
  const out: (T | Folded<S>)[] = [];
  const emitted = new Set<string>();
  for (const x of items) {
    const g = x.foldable && parentOf(x.path) !== '' ? counts.get(groupOf(x)) : undefined;
    if (!g || g.files <= threshold) {
      out.push(x);
      continue;
    }
    const key = groupOf(x);
    if (emitted.has(key)) continue;
    emitted.add(key);
    out.push({ folder: `${parentOf(x.path)}/`, status: x.status, files: g.files, bytes: g.bytes });
  }
  return out;
}

export function isFolded<S extends string>(x: object): x is Folded<S> {
  return 'folder' in x;
}

function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}
