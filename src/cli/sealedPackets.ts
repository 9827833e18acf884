import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { sealPacket } from '../packet/sealedPacket.js';
import type { OpenedPackets } from '../replication/openedPackets.js';
import { siteShippingConf } from '../shipping/incomingBays.js';
import { recipientsOf } from '../shipping/sealingPlan.js';
import { openSitePackets } from '../shipping/openSitePackets.js';
import { siteHome, type CommonOptions, type Io } from './context.js';

/** Opens the sealed packets among `files` with this site's age key (read only if one is sealed). */
export async function openPackets(io: Io, opts: CommonOptions, files: readonly string[]): Promise<OpenedPackets> {
  return openSitePackets(siteHome(io, opts).dir, files);
}

/**
 * `--out … --encrypt-for HOST`: writes the packets `write` makes sealed for HOST's recipient (its PEER
 * line), so the medium they go on never holds them in the clear: `write` writes into a private temp
 * directory (`out`'s name kept for a file), and each packet is sealed from there to its place beside
 * `out`. Without a recipient for HOST nothing is written.
 *
 * @throws NotFoundError when HOST has no recipient.
 */
export async function writeSealed<R extends { packets: string[] }>(
  io: Io,
  opts: CommonOptions,
  host: string,
  out: string,
  write: (out: string) => R | Promise<R>,
): Promise<R> {
  const { recipients } = recipientsOf(siteShippingConf(siteHome(io, opts).dir), [host], `--encrypt-for ${host} seals the packets for it`);
  const toDir = existsSync(out) && statSync(out).isDirectory();
  const stage = mkdtempSync(join(tmpdir(), 'msite-sealing-'));
  try {
    const r = await write(toDir ? stage : join(stage, basename(out)));
    const packets: string[] = [];
    for (const p of r.packets) {
      const to = toDir ? join(out, basename(p)) : out;
      await sealPacket(p, to, recipients);
      packets.push(to);
    }
    return { ...r, packets };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
