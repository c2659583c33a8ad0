// The CLI imports only the module of the command it runs (cli/program.ts);
// the help listing and unknown-command hints come from COMMAND_TABLE. These
// tests hold the table to what the command modules really register, and
// check the lazy start through the built binary.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_TABLE, type CommandModule } from '../src/cli/command-table.js';
import type { Cli } from '../src/cli/context.js';
import { buildProgram, commandToLoad, loadCommandModules, StubReached, type LoadedCommands } from '../src/cli/program.js';
import { makeStyle } from '../src/ui/text.js';
import { LODE_BIN, lodeOk, makeTempDir, removeDir, runLode } from './helpers/cli.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quiet = { out: () => {}, err: () => {} };
const program = (loaded: LoadedCommands) => buildProgram(['node', 'lode'], quiet, makeStyle(false), '0', () => {}, loaded);

describe('COMMAND_TABLE', () => {
  it('lists every registered top-level command, in help order, with the term, summary and visibility the module gives it', async () => {
    const full = program(await loadCommandModules('all'));
    const help = full.createHelp();
    const real = full.commands.map((c) => ({ name: c.name(), term: help.subcommandTerm(c), summary: c.summary() || c.description(), hidden: (c as unknown as { _hidden: boolean })._hidden, aliases: c.aliases() }));
    const table = COMMAND_TABLE.map((e) => ({ name: e.name, term: e.term, summary: e.summary, hidden: !!e.hidden, aliases: [] as string[] }));
    expect(table).toEqual(real);
  });

  it('names, for each command, the module that registers it; every command module is in the table', async () => {
    const dir = path.join(ROOT, 'src', 'cli', 'commands');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(20);
    const seen = new Set<string>();
    for (const f of files) {
      const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as CommandModule;
      const p = new Command('lode');
      mod.register(p, {} as Cli);
      expect(p.commands.length, f).toBeGreaterThan(0);
      for (const c of p.commands) {
        const entry = COMMAND_TABLE.find((e) => e.name === c.name());
        expect(entry, `${f} registers ${c.name()}`).toBeDefined();
        expect(await entry!.load(), `${c.name()} loads ${f}`).toBe(mod);
        seen.add(c.name());
      }
    }
    expect([...seen].sort()).toEqual(COMMAND_TABLE.map((e) => e.name).sort());
  });

  it('a program of stubs prints the same help as the program of every module', async () => {
    const full = program(await loadCommandModules('all'));
    const stubs = program({ modules: [] });
    expect(stubs.helpInformation()).toEqual(full.helpInformation());
    expect(stubs.helpInformation()).toContain('status [options]');
  });

  it('a stub that commander reaches asks for its module', async () => {
    const stubs = program({ modules: [] });
    await expect(stubs.parseAsync(['node', 'lode', 'status', '--json'])).rejects.toBeInstanceOf(StubReached);
  });
});

describe('commandToLoad', () => {
  it.each([
    [['status'], 'status'],
    [['-q', 'status', '--json'], 'status'],
    [['-C', 'status', 'diff'], 'diff'],
    [['--dir', 'x', 'add', 'a'], 'add'],
    [['--dir=x', 'add'], 'add'],
    [['-qC', 'log', 'tag'], 'tag'],
    [['-Clog', 'tag'], 'tag'],
    [['--wait', '5', 'push'], 'push'],
    [['--wait=', 'push'], 'push'],
    [['help', 'rerun'], 'rerun'],
    [['help'], undefined],
    [['--help'], undefined],
    [['statuz'], undefined],
    [['--', 'status'], undefined],
    [[], undefined],
  ])('%j -> %s', (args, want) => {
    expect(commandToLoad(args)).toBe(want);
  });
});

describe('the built binary', () => {
  it('lists every visible command in --help and runs a command named after global options', async () => {
    const dir = makeTempDir('lode-cmdtable-');
    try {
      const help = await lodeOk(['--help'], { cwd: dir });
      for (const e of COMMAND_TABLE) {
        const line = help.stdout.split('\n').find((l) => l.trimStart().startsWith(`${e.term} `) || l.trim() === e.term);
        if (e.hidden) expect(line, e.name).toBeUndefined();
        else expect(line, e.name).toBeDefined();
      }
      await lodeOk(['-q', '-C', dir, 'init'], { cwd: ROOT });
      const st = await lodeOk(['-C', dir, 'status', '--json'], { cwd: ROOT });
      expect(JSON.parse(st.stdout).clean).toBe(true);
      const h = await lodeOk(['help', 'status'], { cwd: dir });
      expect(h.stdout).toContain('--untracked-files');
      const typo = await runLode(['statsu'], { cwd: dir });
      expect(typo.code).toBe(2);
      expect(typo.stderr.split('\n')).toContain('hint:  did you mean `lode status`? (`lode --help` lists the commands)');
    } finally {
      removeDir(dir);
    }
  });
});

/** loadedModules runs the built binary with `args` in `cwd` and returns the URLs of the ES modules it loaded. */
function loadedModules(args: string[], cwd: string, dir: string): string[] {
  const log = path.join(dir, `modules-${args.join('-')}.txt`);
  fs.writeFileSync(path.join(dir, 'hooks.mjs'), `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, url + '\\n'); return next(url, context); }\n`);
  fs.writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(path.join(dir, 'hooks.mjs')).href)});\n`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, LODE_BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  expect(r.status, r.stderr).toBe(0);
  return fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('what a run loads', () => {
  it('status loads its own command module and no progress view, table engine, sync layer or S3 SDK; --help loads no command module', async () => {
    const dir = makeTempDir('lode-modules-');
    try {
      const ws = path.join(dir, 'ws');
      fs.mkdirSync(ws);
      await lodeOk(['init'], { cwd: ws });
      const status = loadedModules(['status'], ws, dir);
      expect(status.some((u) => u.endsWith('/dist/cli/commands/status.js'))).toBe(true);
      expect(status.some((u) => u.endsWith('/dist/commands/status.js'))).toBe(true);
      expect(status.filter((u) => /\/dist\/cli\/commands\//.test(u) && !u.endsWith('/status.js'))).toEqual([]);
      expect(status.filter((u) => /node_modules\/(ink|react|@aws-sdk|hyparquet)\/|\/dist\/(tabular|sync)\/|\/dist\/ui\/progress(-view)?\.js$/.test(u))).toEqual([]);
      const help = loadedModules(['--help'], ws, dir);
      expect(help.some((u) => u.endsWith('/dist/cli/command-table.js'))).toBe(true);
      expect(help.filter((u) => /\/dist\/(cli\/commands|commands|repo)\//.test(u))).toEqual([]);
    } finally {
      removeDir(dir);
    }
  });
});
