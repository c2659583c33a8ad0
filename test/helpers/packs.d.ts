// Types for packs.js (plain ESM JavaScript shared with bench/).

export const INDEX_HEADER: number;
export const INDEX_ENTRY: number;

/** compressedEntries lists [offset, stored length, codec] of the compressed objects an index names (none for an index of version 1). */
export function compressedEntries(index: Buffer): [number, number, number][];

/** fromColumnLayout rebuilds an object from the column layout (codec 3, docs/formats.md). */
export function fromColumnLayout(layout: Buffer): Buffer;

/** expandPack returns the pack's bytes followed by every compressed object's decompressed bytes. */
export function expandPack(pack: Buffer, index: Buffer | undefined): Buffer;

/** readExpanded reads a file; a `.pack` beside its `.idx` comes back expanded (expandPack). */
export function readExpanded(file: string): Buffer;

/** expandBucket replaces each `.pack` of a listing (key -> bytes) by its expanded bytes. */
export function expandBucket(objects: Map<string, Buffer>): Map<string, Buffer>;
