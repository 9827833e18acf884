/** MultiSite's default and maximum packet size, 2097151 KB, in bytes. */
export const MAX_PACKET_SIZE = 2_097_151 * 1024;

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Bytes for a size as MultiSite writes it: a number of bytes with an optional k, m or g suffix
 * (`1048576`, `500k`, `20m`, `2g`). Undefined when malformed; the range is the caller's to check,
 * since a command line and shipping.conf give 0 different meanings.
 */
export function parseSize(text: string): number | undefined {
  const m = /^(\d+)([kmg]?)b?$/i.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  return Number.isSafeInteger(n) ? n : undefined;
}
