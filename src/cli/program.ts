/**
 * The command tree: the global options and help, then one module per lode
 * command (cli/commands/*.ts: its flags and a thin run), assembled here in
 * the order `lode --help` lists them. Each module loads its command function
 * lazily, so `lode --version` and `lode status` pay only for what they run.
 */
/**
 * The command tree: the global options and help, then the lode commands
 * (cli/commands/*.ts: one module per command, its flags and a thin run) in
 * the order `lode --help` lists them (command-table.ts). A run imports only
 * the module of the command it names: every other command is a stub made
 * from the table (its name and one-line summary), enough for the help
 * listing and for unknown-command hints. Should commander still reach a stub
 * (an argument order the quick scan below does not read), the run starts
 * over with that command's module loaded.
 */
import { Command, CommanderError, Help } from 'commander';
import { colorWanted, makeStyle, type Style } from '../ui/text.js';
import { COMMAND_TABLE, type CommandModule } from './command-table.js';
import { positiveInt } from './args.js';
import type { makeCli } from './context.js';
import { EXIT, exitCodesHelp } from './exit-codes.js';
import type { Output } from './main.js';

/** StubReached: commander chose a command whose module was not loaded; the run loads it and parses again. */
export class StubReached extends Error {
  constructor(readonly command: string) {
    super(`command module of ${command} not loaded`);
  }
}

/**
 * commandToLoad is the top-level command named in `args` (the arguments after
 * the program name): the first word after the global options, or the word
 * after `help`; undefined when there is none or it is not a lode command.
 */
export function commandToLoad(args: string[]): string | undefined {
  let help = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') return undefined;
    if (a === '-C' || a === '--dir' || (a === '--wait' && /^\d+$/.test(args[i + 1] ?? ''))) {
      i++;
      continue;
    }
    if (a.startsWith('-')) {
      // A cluster of short flags ending in C (`-qC DIR`) takes the next argument.
      if (/^-[^-]*C$/.test(a)) i++;
      continue;
    }
    if (a === 'help' && !help) {
      help = true;
      continue;
    }
    return COMMAND_TABLE.find((e) => e.name === a)?.name;
  }
  return undefined;
}

/** LoadedCommands are the command modules of a run and what they need to register (none for a help listing). */
export interface LoadedCommands {
  modules: CommandModule[];
  makeCli?: typeof makeCli;
}

/**
 * loadCommandModules imports the modules registering `names` (all commands:
 * every module), and the shared context (the repository layer) only when
 * there is at least one.
 */
export async function loadCommandModules(names: readonly string[] | 'all'): Promise<LoadedCommands> {
  const entries = COMMAND_TABLE.filter((e) => names === 'all' || names.includes(e.name));
  if (entries.length === 0) return { modules: [] };
  const [context, ...modules] = await Promise.all([import('./context.js'), ...entries.map((e) => e.load())]);
  // Commands sharing a module (run, rerun) import it once and register it once.
  return { modules: [...new Set(modules)], makeCli: context.makeCli };
}

/**
 * buildProgram is the command tree of one run, ready to parse `argv`: the
 * commands of `loaded` as they register themselves, every other command of
 * COMMAND_TABLE a stub; `setExitCode` receives the status a command asks for.
 */
export function buildProgram(argv: string[], io: Output, style: Style, version: string, setExitCode: (code: number) => void, loaded: LoadedCommands): Command {
  const program = new Command('lode');
  // A stub's help-listing term is the table's, not one commander derives from the stub.
  const stubTerms = new Map<Command, string>();
  program.configureHelp({
    subcommandTerm(cmd: Command): string {
      return stubTerms.get(cmd) ?? Help.prototype.subcommandTerm.call(this, cmd);
    },
  });
  program
    .description('Version datasets beside git: content-addressed, chunked, verified.')
    .version(version, '-V, --version')
    .option('-C, --dir <path>', 'run as if lode was started in <path>')
    .option('-q, --quiet', 'no progress output')
    .option('--wait [seconds]', 'when another lode process holds the repository lock, wait for it (at most SECONDS; default core.lock-wait, else 0)', (v) => (v === '' ? Infinity : positiveInt(v, '--wait')))
    .showSuggestionAfterError(true)
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) })
    .exitOverride();
  program.addHelpText(
    'after',
    `
Revisions: a branch, a tag, a commit ID prefix (4+ hex digits), HEAD, HEAD~n, REV^n,
the special names :workspace (files on disk) and :index (what is staged), and
inside git any git revision (resolved through the lode.lock it committed).
A name lode knows wins; force a reading with lode:NAME or git:NAME.

${exitCodesHelp()}

Examples:
  lode init && lode add data/ && lode commit -m "first version"
  lode status
  lode diff HEAD~1 HEAD --stat
  lode checkout v1            # whole workspace as tagged v1
  lode checkout HEAD~2 -- data/labels.csv
  lode diff v1 v2 --key id --rows --report diff.html
  git checkout OLD_COMMIT && lode checkout   # the data that code pinned`,
  );

  if (loaded.modules.length > 0) {
    if (!loaded.makeCli) throw new Error('buildProgram: command modules given without makeCli');
    const cli = loaded.makeCli(program, argv, io, style, setExitCode);
    for (const m of loaded.modules) m.register(program, cli);
  }
  for (const e of COMMAND_TABLE) {
    if (program.commands.some((c) => c.name() === e.name)) continue;
    const stub = program
      .command(e.name, e.hidden ? { hidden: true } : {})
      .description(e.summary)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .action(() => {
        throw new StubReached(e.name);
      });
    stubTerms.set(stub, e.term);
  }
  const order = new Map(COMMAND_TABLE.map((e, i) => [e.name, i]));
  (program.commands as Command[]).sort((a, b) => (order.get(a.name()) ?? order.size) - (order.get(b.name()) ?? order.size));
  // Commander suggests the nearest-sounding command (`restore` -> `remote`);
  // usage.ts suggests only typos and known git/DVC habits. Option suggestions stay.
  const noCommandSuggestions = (c: Command) => {
    if (c.commands.length > 0) c.showSuggestionAfterError(false);
    c.commands.forEach(noCommandSuggestions);
  };
  noCommandSuggestions(program);
  return program;
}

/** run parses argv, executes the command and returns the exit code. */
export async function run(argv: string[], io: Output, version: string): Promise<number> {
  const style: Style = makeStyle(colorWanted(process.stdout));
  // `--wait` takes an optional number: in `lode --wait add x`, `add` is the command, not its value.
  const dd = argv.indexOf('--');
  const args = argv.map((a, i) => (a === '--wait' && (dd < 0 || i < dd) && !/^\d+$/.test(argv[i + 1] ?? '') ? '--wait=' : a));
  const first = commandToLoad(args.slice(2));
  let load: string[] = first ? [first] : [];
  for (;;) {
    let exitCode: number = EXIT.OK;
    const program = buildProgram(argv, io, style, version, (code) => {
      exitCode = code;
    }, await loadCommandModules(load));
    try {
      await program.parseAsync(args);
      return exitCode;
    } catch (e) {
      if (e instanceof StubReached && !load.includes(e.command)) {
        load = [...load, e.command];
        continue;
      }
      // Help and version are not errors (commander throws them under exitOverride).
      if (e instanceof CommanderError && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help')) return EXIT.OK;
      // Error rendering loads only when there is an error to render.
      const [{ report }, { usageHint }] = await Promise.all([import('./report.js'), import('./usage.js')]);
      return report(e, io, style, (ce) => usageHint(ce, program, argv.slice(2)));
    }
  }
}
