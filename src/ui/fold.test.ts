import { describe, expect, it } from 'vitest';
import { foldByFolder } from './fold.js';

const item = (path: string, status: 'added' | 'deleted' | 'modified' = 'added', bytes = 1) => ({ path, status, bytes, foldable: status !== 'modified' });

describe('foldByFolder', () => {
  it('replaces a run of more than the threshold in one folder by one entry at its first place', () => {
    const items = [item('a.txt'), ...Array.from({ length: 4 }, (_, i) => item(`d/${i}`, 'added', 10)), item('d/x', 'modified'), item('e/1')];
    expect(foldByFolder(items, 3)).toEqual([items[0], { folder: 'd/', status: 'added', files: 4, bytes: 40 }, items[5], items[6]]);
  });

  it('keeps runs at the threshold, root files, other statuses and subfolders apart', () => {
    const items = [...Array.from({ length: 3 }, (_, i) => item(`d/${i}`)), item('d/sub/1'), item('d/z', 'deleted'), item('r1'), item('r2'), item('r3'), item('r4')];
    expect(foldByFolder(items, 3)).toEqual(items);
  });

  it('folds added and deleted runs of one folder separately', () => {
    const items = [...['a', 'b', 'c'].map((n) => item(`d/${n}`, 'deleted', 2)), ...['e', 'f', 'g'].map((n) => item(`d/${n}`, 'added', 3))];
    expect(foldByFolder(items, 2)).toEqual([
      { folder: 'd/', status: 'deleted', files: 3, bytes: 6 },
      { folder: 'd/', status: 'added', files: 3, bytes: 9 },
    ]);
  });
});
