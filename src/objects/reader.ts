/**
 * ObjectReader is what a reader of content-addressed objects needs from a
 * store, whether it is the local one (`LocalStore`) or a remote
 * (`RemoteStore`): is an object there, and its bytes.
 *
 * Every byte an ObjectReader hands out has been checked against its ID
 * (SHA-256): damage is a CorruptObjectError (a remote reads a damaged range
 * again first, so only damage that persists is reported), never bytes. An
 * absent object is a NotFoundError. What an ID names differs by store: the
 * local store reads metadata objects (commits, trees, chunk lists) from
 * `.lode/objects`; a remote reads any object its packs hold (metadata, blobs
 * and chunks).
 */
import type { ObjectId } from '../core/id.js';

export interface ObjectReader {
  /** has says whether the store holds `id` (a remote: as of its last listing). */
  has(id: ObjectId): Promise<boolean>;
  /** get returns the verified bytes of `id`; `what` names it in errors ("tree", "commit"). */
  get(id: ObjectId, what?: string): Promise<Buffer>;
  /**
   * getMany calls `onObject` once with the verified bytes of each of `ids`, in
   * no particular order (a remote groups them by pack and coalesces
   * neighbours into ranged reads: one call is one batch of requests). It
   * throws on the first object absent or damaged; objects handed on before
   * that stay valid.
   */
  getMany(ids: Iterable<ObjectId>, onObject: (id: ObjectId, bytes: Buffer) => void | Promise<void>): Promise<void>;
}
