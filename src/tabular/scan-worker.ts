/**
 * Worker-thread entry for one scan of one side of a table diff (see
 * scan-threads.ts). Receives a ScanConfig, replies with the ScanResult, whose
 * in-memory index partitions are transferred rather than copied.
 */
import { parentPort } from 'node:worker_threads';
import { openReader } from './formats.js';
import { scanSide, type ScanConfig } from './scan.js';
import { toWire } from './scan-threads.js';

parentPort?.once('message', async (config: ScanConfig) => {
  try {
    const reader = await openReader(config.format, config.input);
    try {
      const result = await scanSide(reader, config);
      parentPort?.postMessage({ ok: result }, result.index.memory.map((m) => m.buffer as ArrayBuffer));
    } finally {
      await reader.close();
    }
  } catch (e) {
    parentPort?.postMessage({ error: toWire(e) });
  }
});
