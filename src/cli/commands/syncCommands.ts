import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { childProcessSpawner } from '../../core/spawner.js';
import { PacketsNotAppliedError } from '../../replication/packetsNotAppliedError.js';
import { siteNotifier } from '../../shipping/notifier.js';
import { ShippingFailedError } from '../../shipping/shippingFailedError.js';
import { ExportsFailedError } from '../../site/exportsFailedError.js';
import {
  parseExportScript,
  parseReplicaList,
  syncExportList,
  type ExportSelection,
  type ExportSettings,
  type SyncExportResult,
} from '../../site/syncExportList.js';
import { shipFromHome } from '../../site/shipFromSite.js';
import { syncReceive } from '../../site/syncReceive.js';
import { emit, inputPath, jsonOption, readInputFile, siteCommand, siteHome, type Io } from '../context.js';
import { integerArg, sizeArg } from '../numberArgs.js';

/** Minutes to wait for another process working on the same VOB, unless `-lockwait` says otherwise. */
const DEFAULT_LOCKWAIT_MINUTES = 10;

const quietArg = integerArg('-quiet', { min: 0, max: 2, hint: '0 says everything, 1 errors and warnings only, 2 nothing' });

/** Writes a line to stderr unless `-quiet` silences its level: 1 keeps errors and warnings, 2 keeps nothing. */
function reporter(io: Io, quiet: number | undefined): (line: string, level: 'info' | 'warning' | 'error') => void {
  return (line, level) => {
    const q = quiet ?? 0;
    if (q >= 2 || (q >= 1 && level === 'info')) return;
    io.err(level === 'info' ? `${line}\n` : `msite: ${level}: ${line}\n`);
  };
}

/** `sync_export_list` and `sync_receive`: MultiSite's synchronization scripts, as the scheduler and receipt handlers run them. */
export function registerSyncCommands(program: Command, io: Io): void {
  siteCommand(program, 'sync_export_list', 'export updates for every sibling that lacks something and ship them (or just poll)')
    .alias('sync-export-list')
    .option('--all', 'every VOB registered at this site, to all of its siblings')
    .option(
      '--replicas <list>',
      'REPLICA@VOB,REPLICA,... (a replica without @VOB is of the VOB before it), or a VOB alone for all its siblings',
    )
    .option('--fship', 'deliver the packets now (the default)')
    .option('--ship', 'leave packets and orders in the storage bay for the shipping server')
    .option('--poll', 'only run the shipping server over every storage bay (shipping_server --poll)')
    .option('--sclass <class>', 'storage class of the packets (with --poll: only its orders)')
    .option('--maxsize <size>', 'bytes per packet fragment (k, m, g suffixes); default the class MAX-DATA-SIZE', sizeArg('--maxsize'))
    .option('--limit <n>', 'at most N fragments per export this run', integerArg('--limit', { min: 1, of: 'packets' }))
    .option('--compress', 'accepted for compatibility: packet bodies are always compressed')
    .option('--update', "ask each sibling's site for its actual row first, as chepoch --actual does")
    .option('--iterate <n>', 'run N times', integerArg('--iterate', { min: 1 }), 1)
    .option('--wait <seconds>', 'seconds between iterations (default 30)', integerArg('--wait', { min: 0, of: 'seconds' }), 30)
    .option(
      '--lockwait <minutes>',
      `minutes to wait for another export from the same VOB (default ${DEFAULT_LOCKWAIT_MINUTES})`,
      integerArg('--lockwait', { min: 0, of: 'minutes' }),
    )
    .option('--logdir <dir>', 'where the run log goes (default log/sync_logs in the site home)')
    .option('--workdir <dir>', 'accepted for compatibility: packets are written straight into the storage bay')
    .option('--trace', 'keep the run log even when every export succeeded')
    .option('--quiet <level>', '0: say everything (default); 1: errors and warnings only; 2: nothing', quietArg)
    .addOption(jsonOption())
    .argument('[script]', 'a file of tag:value lines (ship, fship, maxsize:, limit:, sclass:, lockwait:, replicas:)')
    .action(async (script, _o, c) => {
      const opts = c.optsWithGlobals();
      const home = siteHome(io, opts);
      const report = reporter(io, opts.quiet);
      if (opts.ship && opts.fship) throw new UsageError('give -ship or -fship, not both');
      if (opts.poll) {
        if (opts.all || opts.replicas !== undefined || script !== undefined)
          throw new UsageError('-poll takes no replicas: it only runs the shipping server');
        const result = await shipFromHome(home, undefined, opts.sclass !== undefined ? { sclass: opts.sclass } : {});
        for (const a of result.attempts)
          if (a.result === 'delivered') report(`Delivered ${a.order} to ${a.destinations.join(', ')} via ${a.hop}.`, 'info');
        for (const f of result.failures) report(`shipping_server: ${f}`, 'error');
        emit(io, opts, result, () => '');
        if (result.failures.length > 0) throw new ExportsFailedError(result.failures.length, result.attempts.length, undefined);
        return;
      }
      const given = [opts.all, opts.replicas !== undefined, script !== undefined].filter(Boolean).length;
      if (given !== 1) throw new UsageError('give one of -all, -replicas LIST and a script file');
      const settings: ExportSettings = {
        ship: Boolean(opts.ship),
        lockWaitMs: (opts.lockwait ?? DEFAULT_LOCKWAIT_MINUTES) * 60_000,
        ...(opts.update ? { update: true } : {}),
        ...(opts.sclass !== undefined ? { sclass: opts.sclass } : {}),
        ...(opts.maxsize !== undefined ? { maxsize: opts.maxsize } : {}),
        ...(opts.limit !== undefined ? { limit: opts.limit } : {}),
      };
      const tags = home.registry().map((r) => r.tag);
      let selections: ExportSelection[];
      if (opts.all) selections = [{ vob: undefined, replicas: undefined, settings }];
      else if (opts.replicas !== undefined) selections = parseReplicaList(opts.replicas, tags, settings);
      else {
        const text = readInputFile(io, script!, 'sync_export_list script').toString('utf8');
        selections = parseExportScript(text, script!, tags, settings, {
          size: sizeArg('maxsize:'),
          count: integerArg('script value', { min: 0 }),
        });
      }
      const runs: SyncExportResult[] = [];
      for (let i = 0; i < opts.iterate; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, opts.wait * 1000));
        runs.push(
          await syncExportList(home, {
            selections,
            report,
            ...(opts.logdir !== undefined ? { logDir: inputPath(io, opts.logdir) } : {}),
            ...(opts.trace ? { trace: true } : {}),
          }),
        );
      }
      emit(io, opts, runs.length === 1 ? runs[0] : runs, () => '');
      const last = runs[runs.length - 1]!;
      if (last.failed > 0) throw new ExportsFailedError(last.failed, last.exports.length, last.logFile);
    });

  siteCommand(program, 'sync_receive', 'import every packet in the incoming storage bays (the receipt-handler and scheduled import)')
    .alias('sync-receive')
    .option('-d, --data <path>', 'import these packets or directories instead of the incoming bays', (v, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('-s, --sclass <class>', 'only the incoming bays of this storage class')
    .option('--vob <pattern>', 'only VOBs whose tag matches (* and ? wildcards) or whose storage is this path')
    .option('-o, --origin <host>', 'the host the packet came from (as a receipt handler is told; for the log)')
    .option(
      '-a, --actual <order>',
      "the packet's shipping order (as a receipt handler is told): one in an outgoing bay is sent on; one in an incoming bay leaves with its packet",
    )
    .option(
      '--lockwait <minutes>',
      `minutes to wait while another process imports into the same VOB (default ${DEFAULT_LOCKWAIT_MINUTES})`,
      integerArg('--lockwait', { min: 0, of: 'minutes' }),
    )
    .option('--logdir <dir>', 'where the run log goes (default log/sync_logs in the site home)')
    .option('--workdir <dir>', 'accepted for compatibility: packets are imported where they are')
    .option('--trace', 'say every packet (as -quiet 0) and keep the run log even when every packet went in')
    .option('--quiet <level>', '0: say everything (default); 1: errors and warnings only; 2: nothing', quietArg)
    .addOption(jsonOption())
    .action(async (_o, c) => {
      const opts = c.optsWithGlobals();
      const home = siteHome(io, opts);
      const notifier = siteNotifier(home.dir, childProcessSpawner);
      const result = await syncReceive(home, {
        lockWaitMs: (opts.lockwait ?? DEFAULT_LOCKWAIT_MINUTES) * 60_000,
        report: reporter(io, opts.trace ? 0 : opts.quiet),
        notify: (n) => notifier.send(n),
        ...(opts.data ? { data: opts.data.map((d) => inputPath(io, d)) } : {}),
        ...(opts.sclass !== undefined ? { sclass: opts.sclass } : {}),
        ...(opts.vob !== undefined ? { vob: opts.vob } : {}),
        ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
        ...(opts.actual !== undefined ? { actualOrder: inputPath(io, opts.actual) } : {}),
        ...(opts.logdir !== undefined ? { logDir: inputPath(io, opts.logdir) } : {}),
        ...(opts.trace ? { trace: true } : {}),
      });
      emit(
        io,
        opts,
        {
          ...result,
          vobs: result.vobs.map((v) => ({
            tag: v.tag,
            outcomes: v.outcomes.map(({ header, ...o }) => ({ ...o, origin: header?.originName, sequence: header?.sequence })),
          })),
        },
        () => '',
      );
      if (result.forwarded && result.forwarded.failures.length > 0) throw new ShippingFailedError(result.forwarded.failures);
      if (result.failures.length > 0) {
        const total = result.vobs.reduce((n, v) => n + v.outcomes.length, 0);
        throw new PacketsNotAppliedError(
          result.failures.map((f) => f.path),
          Math.max(total, result.failures.length),
        );
      }
    });
}
