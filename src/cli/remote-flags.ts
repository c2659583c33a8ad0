/**
 * Remote flags come from the backend registry: one flag per option of every
 * backend (`lode remote add`, `remote modify`, `clone`), typed on the way in.
 */
import type { Command } from 'commander';
import { allOptions, flagOf, parseOptionValue, type RemoteOptions } from '../storage/registry.js';

/** backendFlags adds a flag for every option of the backend registry (secret ones say where they are kept). */
export function backendFlags(c: Command): Command {
  for (const o of allOptions()) c.option(o.type === 'boolean' ? `--${flagOf(o)}` : `--${flagOf(o)} <${o.placeholder ?? 'value'}>`, o.help);
  return c;
}

/** backendValues picks the registry's options out of parsed flags, typed (UsageError names a bad one). */
export function backendValues(flags: Record<string, unknown>): RemoteOptions {
  const out: Record<string, unknown> = {};
  for (const o of allOptions()) if (flags[o.name] !== undefined) out[o.name] = parseOptionValue(o, flags[o.name]);
  return out as RemoteOptions;
}
