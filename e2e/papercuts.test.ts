// The small things a new user trips over (issue 11, "smaller papercuts"),
// each through the built binary: parser errors with a hint and sensible
// suggestions, exit codes as documented (and documented everywhere),
// NO_COLOR, checkout saying it rewrote lode.lock, `checkout -f BRANCH`
// restoring deleted files, and hints that only name commands that exist.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../src/cli/exit-codes.js';
import { buildProgram, loadCommandModules } from '../src/cli/program.js';
import { makeStyle } from '../src/ui/text.js';
import { expectLodeError, LODE_BIN, lodeJson, lodeOk, makeTempDir, readFile, removeDir, runLode, writeFile, type RunResult } from '../test/helpers/cli.js';
import { newRepo, removeTemplates, trackRepos, twoVersions, V2 } from './repos.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const track = trackRepos();
const temps: string[] = [];
afterAll(async () => {
  for (const d of temps) removeDir(d);
  await removeTemplates();
});

/** hintLines are the `hint:` lines of stderr. */
const hintLines = (r: RunResult) => r.stderr.split('\n').filter((l) => l.startsWith('hint:'));

describe('parser errors', () => {
  it('an unknown option, a missing -m and too many arguments exit 2 with one hint naming the --help to read', async () => {
    const repo = track(await newRepo('parse'));
    const cases: [string[], string][] = [
      [['status', '--bogus'], '`lode status --help`'],
      [['commit'], '`lode commit --help`'],
      [['status', 'a', 'b'], '`lode status --help`'],
      [['remote', 'add', 'x'], '`lode remote add --help`'],
      [['--bogus'], '`lode --help`'],
      [['-C', repo.dir, 'log', '--bogus'], '`lode log --help`'],
      [['--wait', '5', 'diff', '--bogus'], '`lode diff --help`'],
    ];
    for (const [args, help] of cases) {
      const r = await runLode(args, repo.at);
      expectLodeError(r, 2);
      const hints = hintLines(r);
      expect(hints, `lode ${args.join(' ')}\n${r.stderr}`).toHaveLength(1);
      expect(hints[0]).toContain(help);
    }
  });

  it('an unknown command suggests what a git or DVC habit means in lode, a typo its command, and otherwise nothing', async () => {
    const repo = track(await newRepo('unknown'));
    const hintOf = async (cmd: string) => {
      const r = await runLode([cmd], repo.at);
      expectLodeError(r, 2);
      expect(r.stderr).not.toMatch(/Did you mean/);
      const hints = hintLines(r);
      expect(hints).toHaveLength(1);
      return hints[0];
    };
    const restore = await hintOf('restore');
    expect(restore).toContain('`lode checkout REV -- PATH`');
    expect(restore).not.toMatch(/remote/);
    expect(await hintOf('switch')).toContain('`lode checkout BRANCH`');
    const stash = await hintOf('stash');
    expect(stash).toMatch(/no stash/);
    expect(stash).not.toMatch(/`lode (stash|status)`/);
    expect(await hintOf('comit')).toContain('did you mean `lode commit`?');
    expect(await hintOf('chekcout')).toContain('did you mean `lode checkout`?');
    const none = await hintOf('frobnicate');
    expect(none).toBe('hint:  run `lode --help` for the list of commands');
    // As near to two commands (tag, log) is no typo of either: no guess.
    expect(await hintOf('tog')).not.toMatch(/did you mean/);
  });
});

describe('exit codes', () => {
  it('checkout -b with a branch name that is taken is a conflict: exit 7, nothing changed', async () => {
    const repo = track(await twoVersions('taken'));
    const before = await lodeJson(['log'], repo.at);
    const r = await runLode(['checkout', '-b', 'main', 'v1'], repo.at);
    const err = expectLodeError(r, 7);
    expect(err).toMatch(/^error: branch main already exists$/m);
    expect(await lodeJson(['log'], repo.at)).toEqual(before);
    expect(readFile(repo.dir, 'data/a.txt').toString()).toBe(V2['data/a.txt']);
  });

  it('docs/cli.md, the README and lode --help list exactly the codes of src/cli/exit-codes.ts', async () => {
    const expected = [...new Set(Object.values(EXIT))].sort((a, b) => a - b);
    const section = (text: string, heading: RegExp) => {
      const lines = text.split('\n');
      const start = lines.findIndex((l) => heading.test(l));
      expect(start, `no ${heading} section`).toBeGreaterThanOrEqual(0);
      const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l));
      return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
    };
    const numbersOf = (items: string[]) =>
      items.map((item) => {
        const m = /^(\d+)\s+\S/.exec(item.trim());
        if (!m) throw new Error(`an exit code item without its number: ${JSON.stringify(item)}`);
        return Number(m[1]);
      });
    const sorted = (ns: number[]) => [...ns].sort((a, b) => a - b);

    // docs/cli.md: one table row per code.
    const cliMd = section(fs.readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8'), /^## Exit codes/);
    const rows = [...cliMd.matchAll(/^\|\s*(\d+)\s*\|/gm)].map((m) => Number(m[1]));
    expect(sorted(rows)).toEqual(expected);

    // README: "0 ok · 1 differences ... · 130 interrupted."
    const readme = section(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8'), /^#+ Exit codes/);
    const paragraph = readme.trim().split(/\n\s*\n/)[0];
    expect(sorted(numbersOf(paragraph.split('·')))).toEqual(expected);

    // lode --help: "Exit codes: 0 ok, 1 differences (--exit-code), ..." up to the blank line.
    const help = (await lodeOk(['--help'], { cwd: ROOT })).stdout;
    const at = help.indexOf('\nExit codes:');
    expect(at, help).toBeGreaterThanOrEqual(0);
    const items = help.slice(at + '\nExit codes:'.length).split(/\n\s*\n/)[0].trim().replace(/\.$/, '').split(',');
    expect(sorted(numbersOf(items))).toEqual(expected);
  });
});

/** runInTerminal runs lode under a pseudo-terminal (util-linux `script`) with `env` over a clean environment; resolves with all it printed, whatever its exit code. */
function runInTerminal(args: string[], cwd: string, env: Record<string, string | undefined>): Promise<string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'CI' && k !== 'NO_COLOR' && k !== 'CONTINUOUS_INTEGRATION') base[k] = v;
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v;
  base.TERM = 'xterm-256color';
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const cmd = `stty rows 40 cols 120; ${[process.execPath, LODE_BIN, ...args].map(q).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qec', cmd, '/dev/null'], { cwd, env: base, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => out.push(b));
    child.on('error', reject);
    child.on('close', () => resolve(Buffer.concat(out).toString('utf8')));
    child.stdin.end();
  });
}

// SGR sequences that set a colour or dim/bold text (not cursor moves or screen clears).
const COLOUR = /\x1b\[(?:[0-9;]*;)?(?:1|2|3[0-9]|9[0-7])(?:;[0-9;]*)?m/;
const hasScript = (() => {
  try {
    return fs.statSync('/usr/bin/script').isFile();
  } catch {
    return false;
  }
})();

describe.skipIf(!hasScript)('NO_COLOR', () => {
  it('turns colour off in text output and in the ink progress view when set to any non-empty value; empty means unset', async () => {
    const repo = track(await newRepo('colour'));
    for (let i = 0; i < 200; i++) writeFile(repo.dir, `data/f${i}.txt`, `${i}\n`);

    // Progress on a terminal is ink: the finished phase's tick is green unless NO_COLOR.
    const coloured = await runInTerminal(['add', 'data'], repo.dir, {});
    expect(coloured).toMatch(/adding: 200 files/);
    expect(coloured).toMatch(COLOUR);
    for (let i = 200; i < 400; i++) writeFile(repo.dir, `data/f${i}.txt`, `${i}\n`);
    const plain = await runInTerminal(['add', 'data'], repo.dir, { NO_COLOR: '1' });
    expect(plain).toMatch(/adding: 200 files/);
    expect(plain).not.toMatch(COLOUR);

    // Text renderers: status colours its lines on a terminal.
    expect(await runInTerminal(['status'], repo.dir, {})).toMatch(COLOUR);
    expect(await runInTerminal(['status'], repo.dir, { NO_COLOR: '' })).toMatch(COLOUR);
    const quiet = await runInTerminal(['status'], repo.dir, { NO_COLOR: 'yes' });
    expect(quiet).toMatch(/data\/f1\.txt/);
    expect(quiet).not.toMatch(COLOUR);
    // Errors too (`error:` is red on a terminal).
    const err = await runInTerminal(['checkout', 'nope'], repo.dir, { NO_COLOR: 'true' });
    expect(err).toMatch(/error: unknown revision: nope/);
    expect(err).not.toMatch(COLOUR);
  });

  it('makeStyle(false) leaves every text renderer style plain', () => {
    const st = makeStyle(false);
    for (const f of [st.green, st.red, st.yellow, st.bold, st.dim]) expect(f('x')).toBe('x');
  });
});

/** gitIn runs the real git in `cwd` with a sandboxed HOME; resolves with stdout, throws unless it exits 0. */
function gitIn(cwd: string, home: string, args: string[]): Promise<string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('GIT_')) env[k] = v;
  Object.assign(env, { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.com' });
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['-c', 'init.defaultBranch=main', ...args], { cwd, env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out).toString('utf8').trim()) : reject(new Error(`git ${args.join(' ')} exited ${code}: ${Buffer.concat(err)}`))));
  });
}

describe('checkout', () => {
  it('says when it rewrote lode.lock (which git then sees modified), and not when it did not', async () => {
    const root = makeTempDir('lode-papercuts-pin');
    temps.push(root);
    const home = path.join(root, 'home');
    const dir = path.join(root, 'work');
    fs.mkdirSync(home);
    fs.mkdirSync(dir);
    const env = { HOME: home, XDG_CONFIG_HOME: path.join(home, '.config'), GIT_CONFIG_NOSYSTEM: '1' };
    const at = { cwd: dir, env };
    const git = (...args: string[]) => gitIn(dir, home, args);
    await git('init', '-q');
    await lodeOk(['init'], at);
    writeFile(dir, 'data/a.txt', 'one\n');
    await lodeOk(['add', 'data'], at);
    const v1 = (await lodeJson(['commit', '-m', 'one'], at)).id as string;
    await lodeOk(['tag', 'v1'], at);
    writeFile(dir, 'data/a.txt', 'two\n');
    await lodeOk(['commit', '-a', '-m', 'two'], at);
    await git('add', '-A');
    await git('commit', '-q', '-m', 'code and pin');
    expect(await git('status', '--porcelain')).toBe('');

    const r = await lodeOk(['checkout', 'v1'], at);
    expect(r.stdout.split('\n')).toContain(`lode.lock now pins ${v1.slice(0, 12)} (commit it with git to record it)`);
    expect(await git('status', '--porcelain')).toBe('M lode.lock');

    // Restoring what the pin names leaves lode.lock alone, and says nothing about it.
    fs.rmSync(path.join(dir, 'data/a.txt'));
    const again = await lodeJson(['checkout', 'v1'], at);
    expect(again.pinWritten).toBe(false);
    const text = await lodeOk(['checkout', 'v1'], at);
    expect(text.stdout).not.toMatch(/lode\.lock/);

    // The JSON result carries it too.
    const back = await lodeJson(['checkout', 'main'], at);
    expect(back.pinWritten).toBe(true);
    expect(typeof back.pinFile).toBe('string');
  });

  it('checkout -f BRANCH at the same commit brings deleted and modified files back, as git does; without -f local changes are kept', async () => {
    const repo = track(await twoVersions('force-same'));
    await lodeOk(['branch', 'other'], repo.at);
    fs.rmSync(path.join(repo.dir, 'data/keep.txt'));
    fs.rmSync(path.join(repo.dir, 'data/sub'), { recursive: true });
    writeFile(repo.dir, 'data/a.txt', 'local edit\n');
    writeFile(repo.dir, 'data/untracked.txt', 'not ours\n');

    // A plain switch carries local changes over (nothing differs between the branches).
    await lodeOk(['checkout', 'other'], repo.at);
    expect(fs.existsSync(path.join(repo.dir, 'data/keep.txt'))).toBe(false);
    expect(readFile(repo.dir, 'data/a.txt').toString()).toBe('local edit\n');

    const r = await lodeJson(['checkout', '-f', 'main'], repo.at);
    expect(r.branch).toBe('main');
    expect(r.written).toBe(4);
    for (const rel of ['data/a.txt', 'data/keep.txt', 'data/sub/new.txt', 'data/sub/inner/x.txt'] as const) {
      expect(readFile(repo.dir, rel).toString(), rel).toBe(V2[rel]);
    }
    expect(readFile(repo.dir, 'data/untracked.txt').toString()).toBe('not ours\n');
    const st = await lodeJson(['status'], repo.at);
    expect(st.staged).toEqual([]);
    expect(st.unstaged).toEqual([]);
    expect(st.untracked).toEqual(['data/untracked.txt']);
  });
});

/** stringsOf yields the text of every string and template literal in a TypeScript file (`${}` for each substitution). */
function* stringsOf(file: string): Generator<string> {
  const src = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true, file.endsWith('.tsx') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) out.push(n.text);
    else if (ts.isTemplateExpression(n)) out.push(n.head.text + n.templateSpans.map((s) => `\${}${s.literal.text}`).join(''));
    ts.forEachChild(n, visit);
  };
  visit(src);
  yield* out;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, d.name);
    if (d.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(d.name) && !/\.test\.tsx?$/.test(d.name) && !d.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

describe('hints', () => {
  it('every backticked `lode ...` command in a message names a command, subcommand and flags that exist', async () => {
    const program = buildProgram(['node', 'lode'], { out: () => {}, err: () => {} }, makeStyle(false), '0', () => {}, await loadCommandModules('all'));
    type Cmd = typeof program;
    const flagsOf = (c: Cmd) => new Set(c.options.flatMap((o) => [o.short, o.long].filter((x): x is string => !!x)).concat(['-h', '--help']));
    const globals = flagsOf(program);
    const problems: string[] = [];
    let checked = 0;
    for (const file of sourceFiles(path.join(ROOT, 'src'))) {
      for (const text of stringsOf(file)) {
        // Hook scripts escape backticks for the shell (\`lode checkout\`).
        for (const m of text.replace(/\\`/g, '`').matchAll(/`lode ([^`]*)`/g)) {
          const where = `${path.relative(ROOT, file)}: \`lode ${m[1]}\``;
          const tokens = m[1].split(/\s+/).filter(Boolean);
          let cmd: Cmd = program;
          let i = 0;
          // Global options before the command (`lode --wait add x`, `lode -C DIR status`).
          while (i < tokens.length && tokens[i].startsWith('-')) {
            if (!globals.has(tokens[i].split('=')[0])) problems.push(`${where}: no global option ${tokens[i]}`);
            i += tokens[i] === '-C' || tokens[i] === '--dir' ? 2 : 1;
          }
          if (i >= tokens.length) continue;
          if (tokens[i].includes('${}')) continue; // the command itself is filled in at run time
          const first = program.commands.find((c) => c.name() === tokens[i] || c.aliases().includes(tokens[i]));
          if (!first && tokens[i] !== 'help') {
            problems.push(`${where}: no command ${tokens[i]}`);
            continue;
          }
          checked++;
          if (!first) continue;
          cmd = first;
          i++;
          if (cmd.commands.length > 0 && i < tokens.length && /^[a-z][a-z-]*$/.test(tokens[i])) {
            const sub = cmd.commands.find((c) => c.name() === tokens[i]);
            if (!sub) problems.push(`${where}: no subcommand ${cmd.name()} ${tokens[i]}`);
            else cmd = sub;
            i++;
          }
          const flags = new Set([...flagsOf(cmd), ...globals]);
          for (; i < tokens.length; i++) {
            const t = tokens[i];
            if (t === '--' || t === '|' || t === '&&') break;
            if (/^--?[A-Za-z]/.test(t) && !flags.has(t.split('=')[0])) problems.push(`${where}: lode ${cmd.name()} has no option ${t}`);
          }
        }
      }
    }
    expect(problems).toEqual([]);
    // lode has no stash: no message may send anyone to one (except the one that says so).
    const stashes = sourceFiles(path.join(ROOT, 'src')).flatMap((f) => [...stringsOf(f)].filter((t) => /\bstash/i.test(t) && !/has no stash/.test(t)).map((t) => `${path.relative(ROOT, f)}: ${t}`));
    expect(stashes).toEqual([]);
    // The scan found the hints (a broken extractor would find none and pass).
    expect(checked).toBeGreaterThan(50);
  });
});
