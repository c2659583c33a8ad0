/**
 * Worker thread body for ingestPool: owns one Ingester and answers batches.
 * Errors travel back as plain data (errorToJSON) so the main thread can
 * rethrow them as the same classes (errorFromJSON).
 */
import { parentPort } from 'node:worker_threads';
import { loadXxhash } from '../core/checksum.js';
import { LodeError, errorToJSON } from '../core/errors.js';
import { Ingester, RESULT_RECORD, writeResult } from './ingest.js';
import { LocalStore } from './store.js';
import type { LocalPackWriter } from './local-packs.js';
import type { WorkerProgress, WorkerReply, WorkerRequest, WorkerSealed } from './ingest-pool.js';

let ready: Promise<Ingester> | undefined;
/** This worker's local pack of small files, sealed on 'seal'. */
let packer: LocalPackWriter | undefined;
let store: LocalStore | undefined;
let progressed = 0;

parentPort!.on('message', async (msg: WorkerRequest) => {
  if (msg.type === 'init') {
    // Batches may arrive before the WASM module is loaded: they wait on this.
    store = msg.lodeDir ? new LocalStore(msg.lodeDir) : undefined;
    packer = msg.packSmall ? store?.packs.writer() : undefined;
    ready = loadXxhash().then(
      () =>
        new Ingester(
          msg.params,
          store,
          (bytes) => {
            progressed += bytes;
            parentPort!.postMessage({ type: 'progress', bytes } satisfies WorkerProgress);
          },
          packer,
        ),
    );
    return;
  }
  if (msg.type === 'seal') {
    await ready;
    let reply: WorkerSealed = { type: 'sealed' };
    try {
      packer?.finish();
    } catch (e) {
      packer?.abort();
      reply = { type: 'sealed', error: errorToJSON(e) };
    } finally {
      store?.packs.close();
    }
    parentPort!.postMessage(reply);
    return;
  }
  const ingester = await ready!;
  // Packed records, handed over whole (transferred): no object per file crosses.
  const records = new ArrayBuffer(msg.files.length * RESULT_RECORD);
  const out = Buffer.from(records);
  const progressedPerFile: number[] = [];
  let done = 0;
  let error: WorkerReply['error'];
  for (const f of msg.files) {
    try {
      progressed = 0;
      writeResult(out, done, ingester.ingest(f.abs, f.rel));
      progressedPerFile.push(progressed);
      done++;
    } catch (e) {
      error = errorToJSON(e);
      // A LodeError names the file; an OS error may not.
      if (!(e instanceof LodeError)) error.message = `${f.rel}: ${error.message}`;
      break;
    }
  }
  parentPort!.postMessage({ type: 'result', seq: msg.seq, records, done, ...(error ? { error } : {}), progressed: progressedPerFile } satisfies WorkerReply, [records]);
});
