import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { emit, inputPath, jsonOption, siteHome, vobCommand, withVob, type Io } from '../context.js';
import { exportMode } from '../exportMode.js';

/**
 * `mkreplica`: a command of its own module, which loads what a mode needs when it runs, so that
 * `msite mkreplica` (which main.ts registers alone) starts in about half the time all of msite's
 * modules take to load (~100 ms of ~200 on an idle machine), where a creation packet's export of a
 * history is measured against `git bundle create`, and its import against `git clone --bare`.
 */
export function registerMkreplicaCommand(program: Command, io: Io): void {
  vobCommand(program, 'mkreplica', 'create replicas: export a creation packet, or import one as a new replica')
    .option('--export', 'create replica objects and write their creation packets')
    .option('--import', 'make a new replica from a creation packet')
    .option('--out <path>', 'export: packet file or directory')
    .option('--ship', 'export through the shipping server')
    .option('--fship', 'export through the shipping server, now')
    .option('--workdir <dir>', 'accepted for compatibility; packets are written as the VOB is read, beside --out')
    .option('--sclass <class>', 'export: storage class (with --ship or --fship)')
    .option('--pexpire <time>', 'export: when the shipping orders expire (with --ship or --fship)')
    .option('--notify <address>', 'export: also tell this address when an order expires or comes back', (v, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('--encrypt-for <host>', "export with --out: seal the packets for this site (its PEER line's recipient)")
    .option('--tag <tag>', 'import: tag to register the new replica under')
    .option('-c, --comment <text>', 'comment', '')
    .addOption(jsonOption())
    .argument('<args...>', 'export: HOST:REPLICA...; import: STORAGE_DIR PACKET')
    .action(async (args, _o, c) => {
      const opts = c.optsWithGlobals();
      if (Boolean(opts.export) === Boolean(opts.import)) throw new UsageError('give exactly one of --export and --import');
      if (opts.export) {
        const mode = exportMode(opts);
        const { exportReplica, parseReplicaSpec } = await import('../../replication/mkreplica.js');
        const specs = args.map(parseReplicaSpec);
        if (mode !== 'out') {
          const [{ exportReplicasForShipping, orderPackets }, { deliveredLines, failIfDeliveriesFailed, orderOptions, shippingPass }] =
            await Promise.all([import('../../shipping/shipExport.js'), import('./shippingCommands.js')]);
          const options = orderOptions(io, opts);
          const { packets, hosts } = await withVob(io, opts, (vob) =>
            exportReplicasForShipping(vob, specs, {
              homeDir: options.homeDir,
              ...(opts.sclass ? { sclass: opts.sclass } : {}),
              comment: opts.comment,
            }),
          );
          const orders = await orderPackets(
            packets.map((packet, i) => ({ packet, destinations: [hosts[i]!] })),
            options,
          );
          const shipping =
            mode === 'fship'
              ? await shippingPass(
                  opts,
                  io,
                  orders.map((o) => o.orderPath),
                )
              : undefined;
          emit(
            io,
            opts,
            { packets: orders.map((o) => o.packetPath), orders: orders.map((o) => o.orderPath), ...(shipping ? { shipping } : {}) },
            () =>
              [
                ...orders.map(
                  (o, i) =>
                    `Created replica "${specs[i]!.name}"; its creation packet ${o.packetPath} is in the storage bay for ${hosts[i]}`,
                ),
                ...(shipping ? deliveredLines(shipping) : []),
              ].join('\n'),
          );
          if (shipping) failIfDeliveriesFailed(shipping);
          return;
        }
        const write = (out: string) =>
          withVob(io, opts, async (vob) => ({ packets: await exportReplica(vob, specs, { out, comment: opts.comment }) }));
        const out = inputPath(io, opts.out!);
        const { packets } =
          opts.encryptFor !== undefined
            ? await (await import('../sealedPackets.js')).writeSealed(io, opts, opts.encryptFor, out, write)
            : await write(out);
        emit(io, opts, { packets }, () =>
          packets.map((p, i) => `Created replica "${specs[i]!.name}"; its creation packet is ${p}`).join('\n'),
        );
        return;
      }
      if (!opts.tag) throw new UsageError('--import needs --tag TAG');
      // MultiSite writes the storage directory as `-vob STORAGE_DIR`; a bare first argument works too.
      const [storage, packet] = opts.vob !== undefined && args.length === 1 ? [opts.vob, args[0]] : args;
      if (!storage || !packet || args.length > 2) throw new UsageError('--import takes [--vob] STORAGE_DIR PACKET');
      const [{ openPackets }, { importRegisteredReplica }, { replicaName }] = await Promise.all([
        import('../sealedPackets.js'),
        import('../../site/importRegisteredReplica.js'),
        import('../../vob/queries.js'),
      ]);
      const opened = await openPackets(io, opts, [inputPath(io, packet)]);
      let vob;
      try {
        const refused = opened.refusalError(inputPath(io, packet));
        if (refused) throw refused;
        vob = await importRegisteredReplica(siteHome(io, opts), inputPath(io, storage), opened.readable(inputPath(io, packet)), opts.tag);
      } finally {
        opened.close();
      }
      try {
        const name = replicaName(vob, vob.self);
        emit(
          io,
          opts,
          { tag: opts.tag, path: vob.dir, replica: name, family: vob.family },
          () => `Created replica "${name}" of VOB family ${vob.family} at ${vob.dir}, tag "${opts.tag}".`,
        );
      } finally {
        vob.close();
      }
    });
}
