import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { parseDateTime } from '../../core/parseDateTime.js';
import { parseDuration } from '../../core/parseDuration.js';
import { incomingBays } from '../../shipping/incomingBays.js';
import { exportForShipping, orderPackets } from '../../shipping/shipExport.js';
import { receivePackets } from '../../shipping/receivePackets.js';
import { actualRows, applyActualRow, chepoch, formatLsepoch, lsepoch, recoverpacket } from '../../replication/epochCommands.js';
import type { EpochRow } from '../../replication/epochs.js';
import { planMastershipRequests, requestMastership } from '../../site/requestMastership.js';
import type { MastershipAnswer } from '../../site/answerMastershipRequest.js';
import { reqmasterAcl, setReqmasterAcl, setReqmasterDenied, setReqmasterEnabled } from '../../replication/reqmasterPolicy.js';
import { resolveObject } from '../../vob/selectors.js';
import { siblingActualRow, siblingAddress, type SiblingAddress } from '../../site/siblingActualRow.js';
import { exportUpdate, type ExportResult } from '../../replication/exportUpdate.js';
import { expandPacketPaths, type PacketOutcome } from '../../replication/importPackets.js';
import { describePackets } from '../../replication/describePacket.js';
import { lsconflict, lsmaster } from '../../replication/mastershipCommands.js';
import { chreplica, lsreplica, rmreplica } from '../../replication/replicaCommands.js';
import { restorereplica } from '../../replication/restoreReplica.js';
import { syncImport, type SyncImportResult } from '../../replication/syncImport.js';
import {
  columns,
  configSpec,
  emit,
  inputPath,
  jsonOption,
  pathCommand,
  readInputFile,
  siteHome,
  vobCommand,
  readVob,
  withVob,
  type Io,
} from '../context.js';
import { integerArg, sizeArg } from '../numberArgs.js';
import { progressLine } from '../progressLine.js';
import { openPackets, writeSealed } from '../sealedPackets.js';
import { deliveredLines, failIfDeliveriesFailed, orderOptions, shippingPass } from './shippingCommands.js';
import { exportMode } from '../exportMode.js';

function outcomeLine(vob: string, o: PacketOutcome): string {
  switch (o.result) {
    case 'applied':
      return `Applied ${o.path}: ${o.applied} op${o.applied === 1 ? '' : 's'} applied, ${o.skipped} already here${o.discarded ? `, ${o.discarded} discarded` : ''}.`;
    case 'already-applied':
      return `${o.path}: already applied; nothing to do.`;
    case 'deferred':
      return `Sync. packet ${o.path} was not applied to VOB ${vob} - packet depends on changes not yet received: ${o.reason}.`;
    default:
      return `Sync. packet ${o.path} was not applied to VOB ${vob}: ${o.reason}.`;
  }
}

/** MultiSite's replication verbs: replicas, packets, epochs, mastership. */
export function registerReplicationCommands(program: Command, io: Io): void {
  vobCommand(program, 'lsreplica', 'list the replicas of the VOB family')
    .option('--long', 'with master, host, public key and whether removed')
    .addOption(jsonOption())
    .action((_o, c) => {
      const opts = c.optsWithGlobals();
      readVob(io, opts, (vob) => {
        const rows = lsreplica(vob);
        emit(io, opts, rows, () =>
          columns(
            rows.map((r) => [
              `replica:${r.name}${r.self ? ' (this replica)' : ''}`,
              r.host,
              ...(opts.long
                ? [
                    `master ${r.master}`,
                    r.removed ? 'removed' : r.restoringFrom ? `restoring: waiting for ${r.restoringFrom.join(', ')}` : '',
                  ]
                : []),
            ]),
          ),
        );
      });
    });

  vobCommand(program, 'chreplica', "change a replica's host (at its master), or this replica's grace period for lost packets")
    .option('--host <host>', 'the new host of REPLICA')
    .option('--grace <duration>', 'this replica only: how long an export may go unacknowledged before it is resent (default 1d)')
    .argument('[replica]')
    .action((replica, _o, c) => {
      const opts = c.optsWithGlobals();
      if (!opts.host && opts.grace === undefined) throw new UsageError('give --host HOST REPLICA, or --grace DURATION');
      if (opts.host && !replica) throw new UsageError('--host needs the REPLICA to change');
      const host = opts.host && replica ? { replica, host: opts.host } : undefined;
      const graceMs = opts.grace === undefined ? undefined : parseDuration(opts.grace, '--grace');
      withVob(
        io,
        opts,
        (vob) => {
          chreplica(vob, { host, graceMs });
          emit(io, opts, null, () =>
            [
              opts.host ? `Changed the host of ${replica} to "${opts.host}".` : '',
              graceMs !== undefined ? `Grace period for lost packets set to ${opts.grace}.` : '',
            ]
              .filter(Boolean)
              .join('\n'),
          );
        },
        replica ? [replica] : [],
      );
    });

  vobCommand(program, 'restorereplica', 'after restoring this replica from backup: ask every sibling to resend what it lacks')
    .option('--override', 'finish the restore now, without waiting for the remaining siblings')
    .addOption(jsonOption())
    .action((_o, c) => {
      const opts = c.optsWithGlobals();
      withVob(io, opts, (vob) => {
        const r = restorereplica(vob, { override: opts.override });
        emit(io, opts, r, () =>
          opts.override
            ? 'Restore completed without waiting for the remaining siblings.'
            : `Recovery incarnation is now ${new Date(r.incarnation).toISOString()}. Export to every sibling; waiting for ${r.waitingFor.join(', ')}.`,
        );
      });
    });

  vobCommand(program, 'rmreplica', 'remove a sibling replica (at its master; it must master nothing)')
    .argument('<replica>')
    .action((replica, _o, c) => {
      const opts = c.optsWithGlobals();
      withVob(
        io,
        opts,
        (vob) => {
          rmreplica(vob, replica);
          emit(io, opts, null, () => `Removed ${replica}.`);
        },
        [replica],
      );
    });

  vobCommand(program, 'syncreplica', 'export update packets to siblings, or import packets')
    .option('--export', 'write packets with what the named replicas lack')
    .option('--import', 'apply packets')
    .option('--out <path>', 'export: packet file, or directory for MultiSite-named packets')
    .option('--ship', 'export through the shipping server')
    .option('--fship', 'export through the shipping server, now')
    .option('--maxsize <size>', 'export: bytes per packet fragment (k, m, g suffixes)', sizeArg('--maxsize'))
    .option('--limit <n>', 'export: at most N fragments this run', integerArg('--limit', { min: 1, of: 'packets' }))
    .option('--sclass <class>', 'storage class (with --ship, --fship or --receive)')
    .option('--pexpire <time>', 'export: when the shipping orders expire (with --ship or --fship)')
    .option('--notify <address>', 'export: also tell this address when an order expires or comes back', (v, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('--encrypt-for <host>', "export with --out: seal the packets for this site (its PEER line's recipient)")
    .option('--receive', 'import: every packet in the incoming storage bays')
    .option('--diagnose', 'import: say what each packet lacks; apply nothing')
    .option('-c, --comment <text>', 'comment', '')
    .addOption(jsonOption())
    .argument('[args...]', 'export: REPLICA...; import: PACKET-OR-DIR...')
    .action(async (args, _o, c) => {
      const opts = c.optsWithGlobals();
      if (Boolean(opts.export) === Boolean(opts.import)) throw new UsageError('give exactly one of --export and --import');
      if (opts.export) {
        const mode = exportMode(opts);
        if (args.length === 0) throw new UsageError('name the replicas to export to');
        if (opts.encryptFor !== undefined && mode !== 'out') {
          throw new UsageError('--encrypt-for goes with --out (shipped packets are sealed when they go through a relay)');
        }
        const options = mode === 'out' ? undefined : orderOptions(io, opts);
        const exportTo = (out: string) =>
          withVob(
            io,
            opts,
            async (vob) => {
              const line = progressLine({ isTTY: io.stderrIsTTY, write: (t) => io.err(t) });
              try {
                const common = { maxsize: opts.maxsize, limit: opts.limit, comment: opts.comment, onProgress: line.listener };
                if (!options) return { result: await exportUpdate(vob, args, { out, ...common }), destinations: [] as string[] };
                return await exportForShipping(vob, args, {
                  ...common,
                  homeDir: options.homeDir,
                  ...(opts.sclass ? { sclass: opts.sclass } : {}),
                });
              } finally {
                line.end();
              }
            },
            args,
          );
        const out = mode === 'out' ? inputPath(io, opts.out!) : '';
        const exported =
          opts.encryptFor !== undefined
            ? await writeSealed(io, opts, opts.encryptFor, out, async (o) => {
                const e = await exportTo(o);
                return { ...e, packets: e.result.packets };
              }).then((e) => ({ ...e, result: { ...e.result, packets: e.packets } }))
            : await exportTo(out);
        const r: ExportResult = exported.result;
        for (const w of r.warnings) io.err(`msite: warning: ${w}\n`);
        const orders = options
          ? await orderPackets(
              r.packets.map((packet) => ({ packet, destinations: exported.destinations })),
              options,
            )
          : [];
        const shipping =
          mode === 'fship' && orders.length > 0
            ? await shippingPass(
                opts,
                io,
                orders.map((o) => o.orderPath),
              )
            : undefined;
        emit(io, opts, { ...r, ...(options ? { orders: orders.map((o) => o.orderPath) } : {}), ...(shipping ? { shipping } : {}) }, () =>
          r.upToDate
            ? `Nothing to send: ${r.targets.join(', ')} already ha${r.targets.length === 1 ? 's' : 've'} every op of this replica.`
            : [
                ...r.packets.map((p) =>
                  options ? `Stored ${p} with its shipping order for ${exported.destinations.join(', ')}` : `Wrote ${p}`,
                ),
                `${r.opCount} ops for ${r.targets.join(', ')}.`,
                ...(shipping ? deliveredLines(shipping) : []),
              ].join('\n'),
        );
        if (shipping) failIfDeliveriesFailed(shipping);
        return;
      }
      if (opts.receive && args.length) throw new UsageError('--receive takes no packets: it reads the incoming storage bays');
      if (!opts.receive && args.length === 0) throw new UsageError('name packets or directories to import, or give --receive');
      if (opts.encryptFor !== undefined) throw new UsageError('--encrypt-for goes with --export --out');
      const given = args.map((a) => inputPath(io, a));
      const opened = await openPackets(
        io,
        opts,
        expandPacketPaths(opts.receive ? incomingBays(siteHome(io, opts).dir, opts.sclass) : given),
      );
      try {
        await withVob(io, opts, async (vob) => {
          const line = progressLine({ isTTY: io.stderrIsTTY, write: (t) => io.err(t) });
          const options = {
            diagnose: opts.diagnose,
            warn: (m: string) => {
              line.clear();
              io.err(`msite: warning: ${m}\n`);
            },
            onProgress: line.listener,
            opened,
          };
          let r: SyncImportResult;
          try {
            r = opts.receive
              ? await receivePackets(vob, siteHome(io, opts).dir, { ...options, sclass: opts.sclass })
              : await syncImport(vob, given, options);
          } finally {
            line.end();
          }
          const { outcomes } = r;
          emit(
            io,
            opts,
            outcomes.map(({ header, ...o }) => ({ ...o, origin: header?.originName, sequence: header?.sequence })),
            () =>
              outcomes.length === 0
                ? 'No packets in the incoming storage bays.'
                : outcomes
                    .map((o) => (opts.diagnose ? `${o.path}: ${o.state}${o.reason ? `: ${o.reason}` : ''}` : outcomeLine(vob.tag, o)))
                    .join('\n'),
          );
          if (r.failure) throw r.failure;
        });
      } finally {
        opened.close();
      }
    });

  vobCommand(program, 'lspacket', 'describe packets: kind, family, origin, targets, ranges, and whether importable here')
    .option('--long', 'also ranges, requires, sender row, incarnation and format')
    .option('--dump', 'also every op in the packet')
    .addOption(jsonOption())
    .argument('[packets...]', 'packets or directories (default: the incoming storage bays)')
    .action(async (packets, _o, c) => {
      const opts = c.optsWithGlobals();
      const files = expandPacketPaths(packets.length ? packets.map((p) => inputPath(io, p)) : incomingBays(siteHome(io, opts).dir));
      const opened = await openPackets(io, opts, files);
      try {
        await readVob(io, opts, async (vob) => {
          const rows = await describePackets(vob, files, { dump: opts.dump, opened });
          emit(
            io,
            opts,
            rows.map((r) => r.json),
            () => rows.map((r) => r.text(Boolean(opts.long || opts.dump))).join('\n\n'),
          );
        });
      } finally {
        opened.close();
      }
    });

  vobCommand(program, 'lsepoch', 'show the epoch matrix: the actual row and the estimates of siblings')
    .option('--actual', "ask each sibling's site daemon for its actual row")
    .addOption(jsonOption())
    .argument('[replicas...]')
    .action(async (replicas, _o, c) => {
      const opts = c.optsWithGlobals();
      if (!opts.actual) {
        readVob(io, opts, (vob) => emit(io, opts, lsepoch(vob, replicas), () => formatLsepoch(vob, replicas)), replicas);
        return;
      }
      if (replicas.length === 0) throw new UsageError('lsepoch --actual needs the siblings to ask');
      const home = siteHome(io, opts);
      const siblings = readVob(io, opts, (vob) => replicas.map((r) => siblingAddress(vob, r)), replicas);
      const reported: [string, EpochRow][] = [];
      for (const s of siblings) reported.push([s.replica, (await siblingActualRow(home, s)).row]);
      readVob(
        io,
        opts,
        (vob) => {
          const rows = actualRows(vob, reported);
          emit(io, opts, rows.json, () => rows.text);
        },
        replicas,
      );
    });

  vobCommand(program, 'chepoch', "set entries of a sibling's estimate row")
    .option('--force', 'do not ask for confirmation')
    .option('--actual', "set the rows to the siblings' actual rows, asked of their site daemons")
    .option('--raise-only', 'with --actual: never lower an entry')
    .addOption(jsonOption())
    .argument('<replica>')
    .argument('[assignments...]', 'ORIGIN=ID...; with --actual: more SIBLINGs')
    .action(async (replica, assignments, _o, c) => {
      const opts = c.optsWithGlobals();
      if (opts.raiseOnly && !opts.actual) throw new UsageError('--raise-only goes with --actual');
      if (opts.actual) {
        const names = [replica, ...assignments];
        const home = siteHome(io, opts);
        const siblings = readVob(io, opts, (vob) => names.map((r) => siblingAddress(vob, r)), names);
        const reported: [SiblingAddress, EpochRow][] = [];
        for (const s of siblings) reported.push([s, (await siblingActualRow(home, s)).row]);
        const results = withVob(
          io,
          opts,
          (vob) => reported.map(([s, row]) => applyActualRow(vob, s.name, row, { raiseOnly: Boolean(opts.raiseOnly) })),
          names,
        );
        for (const w of results.flatMap((r) => (r.warning ? [r.warning] : []))) io.err(`msite: warning: ${w}\n`);
        emit(io, opts, results, () =>
          results
            .map((r) =>
              r.changes.length
                ? r.changes.map((ch) => `Entry for ${ch.origin} changed from: ${ch.from} to ${ch.to}`).join('\n')
                : `Row "${r.replica}" already matches its actual row.`,
            )
            .join('\n'),
        );
        return;
      }
      if (!opts.force && !io.stdinIsTTY)
        throw new UsageError(`Change oplog IDs in row "${replica}"? Not confirmed`, { hint: 'give --force when not at a terminal' });
      withVob(
        io,
        opts,
        (vob) => {
          const r = chepoch(vob, replica, assignments);
          emit(io, opts, r, () => 'Epoch row successfully set.');
        },
        [replica],
      );
    });

  pathCommand(program, 'reqmaster', "ask the master replica's site for mastership of branches and branch types")
    .option('--list', 'only check whether the request would be granted')
    .option('--enable', 'at the master: accept requests for mastership (off by default)')
    .option('--disable', 'at the master: refuse every request for mastership')
    .option('--allow', 'at the master: allow requests for the objects named (the default)')
    .option('--deny', 'at the master: deny requests for the objects named')
    .option('--acl', 'at the master: the replicas that may ask (with --get or --set FILE)')
    .option('--get', 'with --acl: print the access control list')
    .option('--set <file>', 'with --acl: replace it with FILE (one replica name a line, or *)')
    .addOption(jsonOption())
    .argument('[objects...]', 'BRANCH (PATH@@/main/BRANCH) or brtype:NAME...')
    .action(async (objects, _o, c) => {
      const opts = c.optsWithGlobals();
      const local = [opts.enable, opts.disable, opts.allow, opts.deny, opts.acl].filter(Boolean).length;
      if (local > 1) throw new UsageError('give one of --enable, --disable, --allow, --deny and --acl');
      if (opts.enable || opts.disable) {
        if (objects.length) throw new UsageError('--enable and --disable take no objects');
        withVob(io, opts, (vob) => setReqmasterEnabled(vob, Boolean(opts.enable)));
        emit(io, opts, { enabled: Boolean(opts.enable) }, () => `Requests for mastership ${opts.enable ? 'enabled' : 'disabled'}.`);
        return;
      }
      if (opts.acl) {
        if (Boolean(opts.get) === (opts.set !== undefined)) throw new UsageError('--acl needs one of --get and --set FILE');
        const text = opts.set === undefined ? undefined : readInputFile(io, opts.set, 'access control list').toString('utf8');
        const acl = text === undefined ? readVob(io, opts, reqmasterAcl) : withVob(io, opts, (vob) => setReqmasterAcl(vob, text));
        emit(io, opts, acl, () => acl.join('\n'));
        return;
      }
      if (objects.length === 0) throw new UsageError('name the branches or branch types');
      if (opts.allow || opts.deny) {
        const described = withVob(
          io,
          opts,
          (vob) => objects.map((o) => setReqmasterDenied(vob, resolveObject(vob, o, configSpec(io, opts)).oid, Boolean(opts.deny))),
          objects,
        );
        emit(io, opts, described, () =>
          described.map((d) => `Requests for mastership of ${d} ${opts.deny ? 'denied' : 'allowed'}.`).join('\n'),
        );
        return;
      }
      const home = siteHome(io, opts);
      const planned = readVob(
        io,
        opts,
        (vob) => planMastershipRequests(vob, objects, { config: configSpec(io, opts), checkOnly: Boolean(opts.list) }),
        objects,
      );
      const answers: MastershipAnswer[] = [];
      for (const p of planned) answers.push(await requestMastership(home, p));
      emit(io, opts, answers, () =>
        answers
          .flatMap((a) =>
            opts.list
              ? a.objects.map((o) => `Request for mastership of ${o} would be granted by replica "${a.master}".`)
              : [
                  `Change of mastership at sibling replica "${a.master}" was successful. Mastership is in transit to the new master replica.`,
                  ...a.shippingFailures.map((f) => `msite: warning: the update is not delivered yet: ${f}`),
                ],
          )
          .join('\n'),
      );
    });

  vobCommand(program, 'recoverpacket', 'resend what was sent to a replica since a time (resets its estimate)')
    .requiredOption('--since <time>', 'date-time of the oldest packet to resend')
    .argument('<replica>')
    .action((replica, _o, c) => {
      const opts = c.optsWithGlobals();
      const since = parseDateTime(opts.since, '--since time');
      withVob(
        io,
        opts,
        (vob) => {
          const r = recoverpacket(vob, replica, since);
          emit(
            io,
            opts,
            r,
            () =>
              `Estimate for ${replica} reset to the row of the export at ${new Date(r.exportedAt).toISOString()}; the next export resends what followed.`,
          );
        },
        [replica],
      );
    });

  vobCommand(program, 'lsmaster', 'list objects and their master replicas')
    .addOption(jsonOption())
    .argument('[replica]', 'only objects this replica masters')
    .action((replica, _o, c) => {
      const opts = c.optsWithGlobals();
      readVob(io, opts, (vob) => {
        const rows = lsmaster(vob, replica);
        emit(io, opts, rows, () => columns(rows.map((r) => [r.object, `master ${r.master}`])));
      });
    });

  vobCommand(program, 'lsconflict', 'list name conflicts met on import and the names given here')
    .addOption(jsonOption())
    .action((_o, c) => {
      const opts = c.optsWithGlobals();
      readVob(io, opts, (vob) => {
        const rows = lsconflict(vob);
        emit(io, opts, rows, () =>
          columns(rows.map((r) => [r.at, `${r.kind} "${r.originalName}"`, `is "${r.localName}" here`, `created at ${r.creator}`])),
        );
      });
    });
}
