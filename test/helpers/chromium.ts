// Test helper: open a local HTML file in headless Chromium and read back what
// the browser made of it — the DOM after scripts ran (`dumpDom`) or a PNG of
// the page (`screenshot`). Each run gets a fresh profile directory, removed
// afterwards, so runs never share state and leave nothing behind.
//
// CI must have a Chromium: `apt-get install -y chromium` on Debian (Ubuntu's
// `chromium-browser` package is a snap shim; use Google Chrome there), or point
// LODE_CHROMIUM at any Chrome/Chromium binary.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import zlib from 'node:zlib';

/** CHROMIUM_NAMES are looked up on PATH, in this order, when LODE_CHROMIUM is unset. */
export const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * findChromium returns the absolute path of a Chromium-family browser, or null.
 * LODE_CHROMIUM, when set, wins and must name an executable file: a wrong
 * override throws rather than silently falling back to another browser.
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const override = env['LODE_CHROMIUM'];
  if (override) {
    if (!isExecutable(override)) throw new Error(`LODE_CHROMIUM=${override} is not an executable file`);
    return path.resolve(override);
  }
  const dirs = (env['PATH'] ?? '').split(path.delimiter).filter(Boolean);
  for (const name of CHROMIUM_NAMES) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      if (isExecutable(candidate)) return candidate;
    }
  }
  return null;
}

/** requireChromium is findChromium that throws, with install instructions, when there is none. */
export function requireChromium(env: NodeJS.ProcessEnv = process.env): string {
  const bin = findChromium(env);
  if (bin) return bin;
  throw new Error(
    `headless Chromium is required for this test and none was found (looked for ${CHROMIUM_NAMES.join(', ')} on PATH). ` +
      'Install it — `apt-get install -y chromium` on Debian, as CI does — or set LODE_CHROMIUM=/path/to/chrome.',
  );
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

export interface ChromiumOptions {
  /** The browser binary (default: requireChromium()). */
  bin?: string;
  /** Kill the browser after this many ms and reject (default 30 s). */
  timeoutMs?: number;
}

/** The flags every run uses: headless, no GPU, no sandbox (containers run as root), no first-run chrome. */
const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-extensions',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--mute-audio',
  '--hide-scrollbars',
];

interface RunOutput {
  stdout: string;
  stderr: string;
}

/**
 * runChromium runs the browser on `htmlFile` with `flags` and a fresh profile.
 * It resolves when the browser exits with 0, and rejects on any other exit,
 * on a signal, or on the timeout (after killing the browser's whole process
 * group, so no renderer is left running). The profile is always removed.
 */
async function runChromium(htmlFile: string, flags: string[], options: ChromiumOptions = {}): Promise<RunOutput> {
  const bin = options.bin ?? requireChromium();
  const timeoutMs = options.timeoutMs ?? 30_000;
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'lode-chromium-'));
  const args = [...BASE_FLAGS, `--user-data-dir=${profile}`, ...flags, pathToFileURL(path.resolve(htmlFile)).href];
  try {
    return await new Promise<RunOutput>((resolve, reject) => {
      // detached: the browser leads its own process group, which the timeout kills as a whole.
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`could not start ${bin}: ${e.message}`, { cause: e }));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const stdout = Buffer.concat(out).toString('utf8');
        const stderr = Buffer.concat(err).toString('utf8');
        const tail = stderr.trim().split('\n').slice(-15).join('\n');
        if (timedOut) reject(new Error(`${path.basename(bin)} did not finish within ${timeoutMs} ms\n${tail}`));
        else if (code !== 0) reject(new Error(`${path.basename(bin)} exited with ${code ?? signal}\n${tail}`));
        else resolve({ stdout, stderr });
      });
    });
  } finally {
    // The browser may still be flushing the profile for a moment after exit.
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}

/** dumpDom returns the page's serialised DOM after it loaded and its scripts ran. */
export async function dumpDom(htmlFile: string, options: ChromiumOptions = {}): Promise<string> {
  const { stdout } = await runChromium(htmlFile, ['--dump-dom'], options);
  if (!stdout.includes('<html')) throw new Error(`--dump-dom printed no document (${stdout.length} bytes)`);
  return stdout;
}

/**
 * screenshot writes a PNG of the page's first 1280×2000 CSS pixels to
 * `pngFile` (creating its directory) and resolves once the file exists.
 */
export async function screenshot(htmlFile: string, pngFile: string, options: ChromiumOptions = {}): Promise<void> {
  const out = path.resolve(pngFile);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.rmSync(out, { force: true });
  await runChromium(htmlFile, [`--screenshot=${out}`, '--window-size=1280,2000', '--force-device-scale-factor=1'], options);
  if (!fs.existsSync(out)) throw new Error(`the browser exited without writing ${out}`);
}

/** Png is a decoded 8-bit RGB or RGBA image: `pixel(x, y)` returns [r, g, b]. */
export interface Png {
  width: number;
  height: number;
  pixel(x: number, y: number): [number, number, number];
}

/**
 * decodePng reads the PNGs a browser writes (8-bit RGB/RGBA, not interlaced)
 * so tests can look at pixels; anything else throws rather than misreads.
 */
export function decodePng(buf: Buffer): Png {
  const SIG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 33 || !buf.subarray(0, 8).equals(SIG)) throw new Error('not a PNG file');
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (pos + 8 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const depth = data[8];
      const colour = data[9];
      if (depth !== 8 || (colour !== 2 && colour !== 6) || data[12] !== 0) {
        throw new Error(`unsupported PNG (bit depth ${depth}, colour type ${colour}, interlace ${data[12]})`);
      }
      channels = colour === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error('PNG image data has the wrong length');
  const px = Buffer.alloc(height * stride);
  // Undo the per-scanline filters (PNG spec §9).
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[dst + i - channels] : 0;
      const b = y > 0 ? px[dst - stride + i] : 0;
      const c = i >= channels && y > 0 ? px[dst - stride + i - channels] : 0;
      const x = raw[src + i];
      let v: number;
      switch (filter) {
        case 0:
          v = x;
          break;
        case 1:
          v = x + a;
          break;
        case 2:
          v = x + b;
          break;
        case 3:
          v = x + ((a + b) >> 1);
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          v = x + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
          break;
        }
        default:
          throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      px[dst + i] = v & 0xff;
    }
  }
  return {
    width,
    height,
    pixel(x, y) {
      const o = y * stride + x * channels;
      return [px[o], px[o + 1], px[o + 2]];
    },
  };
}
