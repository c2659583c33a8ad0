import { describe, expect, it } from 'vitest';
import { newChunkBytes } from './changed-bytes.js';
import { untrackedFolders } from './status.js';

describe('newChunkBytes', () => {
  const c = (id: string, size: number) => ({ id, size });
  it('sums the distinct chunks of the new list that the old one lacks', () => {
    expect(newChunkBytes([c('a', 5), c('b', 7)], [c('a', 5), c('x', 3), c('b', 7), c('x', 3), c('y', 11)])).toBe(14);
  });
  it('is 0 for the same list reordered and the whole size for disjoint lists', () => {
    expect(newChunkBytes([c('a', 5), c('b', 7)], [c('b', 7), c('a', 5)])).toBe(0);
    expect(newChunkBytes([c('a', 5)], [c('b', 7), c('d', 1)])).toBe(8);
  });
});

describe('untrackedFolders', () => {
  it('finds the top-most folders without tracked files, as git status shows them', () => {
    const tracked = ['data/a/keep.txt', 'data/b.txt'];
    const untracked = ['data/a/new.txt', 'data/new/1', 'data/new/2', 'data/new/deep/3', 'data/a/fresh/x', 'top.txt', 'other/y'];
    expect(untrackedFolders(untracked, tracked)).toEqual([
      { folder: 'data/a/fresh/', files: 1 },
      { folder: 'data/new/', files: 3 },
      { folder: 'other/', files: 1 },
    ]);
  });
});
