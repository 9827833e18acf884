import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { parseDateTime } from '../../core/parseDateTime.js';
import type { OrderInBay } from '../../shipping/orderFiles.js';
import { shipPacket, writeOrderFor, type OrderOptions } from '../../shipping/shipPackets.js';
import { ShippingFailedError } from '../../shipping/shippingFailedError.js';
import type { ShippingRunResult } from '../../shipping/shippingServer.js';
import { shipFromHome } from '../../site/shipFromSite.js';
import { emit, inputPath, jsonOption, siteCommand, siteHome, type CommonOptions, type Io } from '../context.js';

/** The order options `--sclass`, `--pexpire` and `--notify` give, for a site home. */
export function orderOptions(
  io: Io,
  opts: CommonOptions & { sclass?: string; pexpire?: string; notify?: string[]; comment?: string },
): OrderOptions {
  return {
    homeDir: siteHome(io, opts).dir,
    ...(opts.sclass !== undefined ? { sclass: opts.sclass } : {}),
    ...(opts.pexpire !== undefined ? { expiresAt: parseDateTime(opts.pexpire, '--pexpire time') } : {}),
    ...(opts.notify !== undefined ? { notify: opts.notify } : {}),
    ...(opts.comment ? { comment: opts.comment } : {}),
  };
}

/**
 * One shipping pass over `orders` (or the whole site with `--poll` when undefined); prints a line per
 * failure and fails when any delivery failed.
 */
export async function shippingPass(
  opts: CommonOptions & { sclass?: string; verbose?: boolean },
  io: Io,
  orders: readonly string[] | undefined,
): Promise<ShippingRunResult> {
  const result = await shipFromHome(siteHome(io, opts), orders, {
    ...(opts.sclass !== undefined ? { sclass: opts.sclass } : {}),
    ...(opts.verbose ? { verbose: (line: string) => io.err(`${line}\n`) } : {}),
  });
  for (const f of result.failures) io.err(`msite: shipping_server: ${f}\n`);
  return result;
}

/** Fails the command (after its output) when a delivery of the pass failed. */
export function failIfDeliveriesFailed(result: ShippingRunResult): void {
  if (result.failures.length > 0) throw new ShippingFailedError(result.failures);
}

/** A line per confirmed delivery of the pass. */
export function deliveredLines(result: ShippingRunResult): string[] {
  return result.attempts
    .filter((a) => a.result === 'delivered')
    .map((a) => `Delivered ${a.order} to ${a.destinations.join(', ')} via ${a.hop}.`);
}

/** Ships orders just written when `--fship` asks for it; prints what became of them. */
export async function forceShip(
  opts: CommonOptions & { sclass?: string },
  io: Io,
  orders: readonly OrderInBay[],
): Promise<ShippingRunResult> {
  return shippingPass(
    opts,
    io,
    orders.map((o) => o.orderPath),
  );
}

/** `mkorder` and `shipping_server`: MultiSite's transport phase. */
export function registerShippingCommands(program: Command, io: Io): void {
  siteCommand(program, 'mkorder', 'put a packet into a storage bay with a shipping order for the destination hosts')
    .requiredOption('--data <packet>', 'the packet file')
    .option('--sclass <class>', 'storage class (default -default)')
    .option('--pexpire <time>', 'when the order expires (default now + the class EXPIRATION days)')
    .option('--notify <address>', 'also tell this address when the order expires or comes back', (v, prev: string[] = []) => [...prev, v])
    .option('--ship', 'put packet and order into the outgoing bay for the shipping server')
    .option('--fship', 'as --ship, then deliver now')
    .option('--copy', 'with --ship/--fship: copy the packet instead of moving it')
    .option('--out <order>', 'write only the order file, here')
    .option('-c, --comment <text>', 'comment')
    .addOption(jsonOption())
    .argument('<hosts...>', 'destination hosts')
    .action(async (hosts, _o, c) => {
      const opts = c.optsWithGlobals();
      const modes = [opts.ship, opts.fship, opts.out !== undefined].filter(Boolean).length;
      if (modes !== 1) throw new UsageError('give exactly one of --ship, --fship and --out ORDER');
      if (opts.copy && opts.out !== undefined) throw new UsageError('--copy goes with --ship or --fship');
      const options = orderOptions(io, opts);
      if (opts.out !== undefined) {
        const order = await writeOrderFor(inputPath(io, opts.data), hosts, inputPath(io, opts.out), options);
        emit(io, opts, { order: opts.out, ...order }, () => `Wrote shipping order ${opts.out} for ${order.packet} to ${hosts.join(', ')}.`);
        return;
      }
      const placed = await shipPacket(inputPath(io, opts.data), hosts, { ...options, ...(opts.copy ? { copy: true } : {}) });
      const result = opts.fship ? await forceShip(opts, io, [placed]) : undefined;
      emit(io, opts, { ...placed, ...(result ? { shipping: result } : {}) }, () =>
        [`Stored ${placed.packetPath} with its shipping order ${placed.orderPath}.`, ...(result ? deliveredLines(result) : [])].join('\n'),
      );
      if (result) failIfDeliveriesFailed(result);
    });

  siteCommand(program, 'shipping_server', 'deliver the packets of shipping orders: every outgoing bay (--poll) or the ORDER files')
    .alias('shipping-server')
    .option('--sclass <class>', 'only orders of this storage class')
    .option('-v, --verbose', 'print each delivery line as it is logged')
    .option('--poll', 'process every order in the outgoing storage and return bays')
    .addOption(jsonOption())
    .argument('[orders...]', 'order files (sh_o_PACKET)')
    .action(async (orders, _o, c) => {
      const opts = c.optsWithGlobals();
      if (Boolean(opts.poll) === orders.length > 0) throw new UsageError('give --poll or ORDER files (one or the other)');
      const result = await shippingPass(opts, io, opts.poll ? undefined : orders.map((o) => inputPath(io, o)));
      emit(io, opts, result, () =>
        [
          ...deliveredLines(result),
          ...result.returned.map((o) => `Expired: ${o} is being returned to its origin.`),
          ...result.arrivedHome.map((p) => `Returned packet back home: ${p}.`),
        ].join('\n'),
      );
      failIfDeliveriesFailed(result);
    });
}
