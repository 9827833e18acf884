import { Command, CommanderError } from '@commander-js/extra-typings';
import { escapeControlChars } from '../core/controlChars.js';
import { InternalError, MsiteError, toMsiteError } from '../core/errors.js';
import { processIo, type Io } from './context.js';

type Register = (program: Command, io: Io) => void;

/** msite's version, as `msite --version` prints it. */
const VERSION = '0.1.0';

/**
 * The modules that register msite's commands, in the order help lists them, each with the names
 * (and aliases) of the commands it registers (test/cli/main.test.ts holds each list to its module).
 * A command run is built with its own module alone: all of them, with their libraries, take some
 * 190 ms to load on an idle machine, one 65-150 ms, and every scheduled task and receipt handler is
 * such a process (measured: `checkin` 100 ms less, `sync_receive` 50, `mkreplica` 150). Help, an
 * unknown word and no command load them all.
 */
export const COMMAND_MODULES: readonly { names: readonly string[]; load: () => Promise<Register> }[] = [
  { names: ['mkvob', 'lsvob'], load: async () => (await import('./commands/vobCommands.js')).registerVobCommands },
  {
    names: ['mklbtype', 'mkhltype', 'mkbrtype', 'mkattype', 'lstype', 'rename', 'rmtype', 'lock', 'unlock'],
    load: async () => (await import('./commands/typeCommands.js')).registerTypeCommands,
  },
  {
    names: ['mkdir', 'mkelem', 'checkout', 'co', 'checkin', 'ci', 'uncheckout', 'unco', 'mkbranch', 'mklabel', 'rmlabel', 'mkattr'].concat([
      'mkhlink',
      'ls',
      'cat',
      'lsvtree',
      'describe',
      'lshistory',
      'chmaster',
    ]),
    load: async () => (await import('./commands/objectCommands.js')).registerObjectCommands,
  },
  { names: ['merge', 'findmerge'], load: async () => (await import('./commands/mergeCommands.js')).registerMergeCommands },
  { names: ['gitimport', 'fsimport'], load: async () => (await import('./commands/historyCommands.js')).registerHistoryCommands },
  { names: ['mkreplica'], load: async () => (await import('./commands/mkreplicaCommand.js')).registerMkreplicaCommand },
  {
    names: ['lsreplica', 'chreplica', 'restorereplica', 'rmreplica', 'syncreplica', 'lspacket', 'lsepoch', 'chepoch', 'reqmaster'].concat([
      'recoverpacket',
      'lsmaster',
      'lsconflict',
    ]),
    load: async () => (await import('./commands/replicationCommands.js')).registerReplicationCommands,
  },
  { names: ['demo'], load: async () => (await import('./commands/demoCommand.js')).registerDemoCommand },
  { names: ['schedule'], load: async () => (await import('./commands/scheduleCommands.js')).registerScheduleCommands },
  { names: ['serve'], load: async () => (await import('./commands/serveCommand.js')).registerServeCommand },
  {
    names: ['mkorder', 'shipping_server', 'shipping-server'],
    load: async () => (await import('./commands/shippingCommands.js')).registerShippingCommands,
  },
  { names: ['site'], load: async () => (await import('./commands/siteCommands.js')).registerSiteCommands },
  {
    names: ['sync_export_list', 'sync-export-list', 'sync_receive', 'sync-receive'],
    load: async () => (await import('./commands/syncCommands.js')).registerSyncCommands,
  },
  {
    names: ['mkview', 'lsview', 'rmview', 'catcs', 'setcs', 'edcs', 'update', 'lsco', 'lsprivate', 'diff', 'rmname', 'mv'],
    load: async () => (await import('./commands/viewCommands.js')).registerViewCommands,
  },
];

/** The options every command takes, before its name (`msite --home X lsvob`) or after it. */
function addCommonOptions(cmd: Command): Command {
  return cmd.option('--home <dir>', 'site home (default $MSITE_HOME, else ~/.msite)').option('--debug', 'show stack traces on failure');
}

/**
 * Builds the `msite` program; commands write through `io` so the demo and tests can run them
 * in-process. `only`, a command's name, registers its module's commands alone (COMMAND_MODULES);
 * otherwise, or for a name no module has, every command.
 */
export async function buildProgram(io: Io, only?: string): Promise<Command> {
  const program = addCommonOptions(
    new Command('msite')
      .description('multi-site replication for versioned object bases')
      .version(VERSION)
      .showHelpAfterError(false)
      .exitOverride()
      // msite's own options (--version above all) only before the command: `merge --version V` is the merge's.
      .enablePositionalOptions()
      .configureOutput({ writeOut: (s) => io.out(s), writeErr: () => {} }),
  );
  const own = only === undefined ? undefined : COMMAND_MODULES.find((m) => m.names.includes(only));
  const registers = await Promise.all((own ? [own] : COMMAND_MODULES).map((m) => m.load()));
  for (const register of registers) register(program, io);
  for (const cmd of program.commands) {
    cmd.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: () => {} });
  }
  return program;
}

/** Long option names MultiSite writes with one dash, or differently, mapped to ours. */
const ALIASES: Record<string, string> = { invob: 'vob', obsolete_replica: 'obsolete-replica' };

/**
 * MultiSite spells long options with one dash (`-export`, `-since X`, `-invob V`). Commander reads
 * `-export` as a bundle of short flags, so rewrite each single-dash word that names a long option
 * of the command to its `--` form before parsing.
 */
export function normalizeArgs(program: Command, argv: readonly string[]): string[] {
  const name = commandWord(program, argv);
  const cmd = program.commands.find((c) => c.name() === name || c.aliases().includes(name ?? ''));
  const options = [...program.options, ...(cmd?.options ?? [])];
  const longs = new Set(options.map((o) => o.long?.slice(2)).filter((l): l is string => Boolean(l)));
  let seenSeparator = false;
  return argv.map((arg) => {
    if (arg === '--') seenSeparator = true;
    if (seenSeparator) return arg;
    const m = /^--?([A-Za-z][A-Za-z0-9_-]+)(=.*)?$/.exec(arg);
    if (!m) return arg;
    const word = ALIASES[m[1]!] ?? m[1]!;
    const candidates = [word, word.replace(/_/g, '-')];
    const long = candidates.find((c) => longs.has(c));
    if (arg.startsWith('--') && long === undefined) return arg;
    if (long === undefined) return arg;
    return `--${long}${m[2] ?? ''}`;
  });
}

/**
 * Runs `msite` with `argv` (without node and script) and returns the exit status: 0 success,
 * 1 failure, 2 usage. Every failure is one line on stderr: `msite: error: <what>: <why> (<hint>)`.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  // Asked for by scripts that check what is installed: no command's module is needed for it.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    io.out(`${VERSION}\n`);
    return 0;
  }
  // The command's name is found with the options every command shares.
  const program = await buildProgram(io, commandWord(addCommonOptions(new Command('msite')), argv));
  if (argv.length === 0) {
    io.err(program.helpInformation());
    return 2;
  }
  const debug = argv.includes('--debug') || argv.includes('-debug');
  try {
    await program.parseAsync(normalizeArgs(program, argv), { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      const message = err.message.replace(/^error: /, '');
      const name = commandWord(program, argv);
      io.err(`msite: error: ${escapeControlChars(message)} (see msite help${name === undefined ? '' : ` ${escapeControlChars(name)}`})\n`);
      return 2;
    }
    const e: MsiteError = toMsiteError(err);
    // One line whatever a message holds: a name with a newline must not forge a second line.
    io.err(`msite: error: ${escapeControlChars(e instanceof InternalError ? `internal error: ${e.message}` : e.toLine())}\n`);
    if (debug && err instanceof Error && err.stack) io.err(err.stack + '\n');
    return e.exitCode;
  }
}

/** The command's name in `argv`: the first word that is neither an option nor the value of a program option (`--home DIR`). */
function commandWord(program: Command, argv: readonly string[]): string | undefined {
  const taking = new Set(
    program.options
      .filter((o) => o.required || o.optional)
      .flatMap((o) => [o.long, o.long?.slice(1)].filter((f): f is string => Boolean(f))),
  );
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') return argv[i + 1];
    if (!arg.startsWith('-')) return arg;
    if (taking.has(arg)) i++;
  }
  return undefined;
}
