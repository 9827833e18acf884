import { describe, expect, it } from 'vitest';
import { isPacketFileName, packetFileName, parsePacketFileName } from '../../src/packet/packetFile.js';
import { packetTimestamp } from '../../src/packet/packetNames.js';

const AT = Date.UTC(2026, 10, 22, 9, 52, 26, 789);

describe('packet file names', () => {
  it('are MultiSite names: sync_<replica>_<timestamp>_<pid>_<seq>, repl_ for creation packets', () => {
    expect(packetFileName('update', 'boston_hub', AT, 12)).toBe(`sync_boston_hub_2026-11-22T095226Z_${process.pid}_12`);
    expect(packetFileName('creation', 'boston_hub', AT, 1)).toBe(`repl_boston_hub_2026-11-22T095226Z_${process.pid}_1`);
    expect(packetTimestamp(Date.UTC(2027, 0, 2, 3, 4, 5))).toBe('2027-01-02T030405Z');
  });

  it('contain no ":" or path separators, whatever the replica is called', () => {
    const name = packetFileName('update', 'a/b:c d\\e', AT, 3);
    expect(name).toBe(`sync_a-b-c-d-e_2026-11-22T095226Z_${process.pid}_3`);
    expect(name).not.toMatch(/[:/\\ ]/);
    expect(packetFileName('update', '', AT, 0)).toBe(`sync_-_2026-11-22T095226Z_${process.pid}_0`);
  });

  it('are recognised, and nothing else is', () => {
    const name = packetFileName('update', 'boston_hub', AT, 12);
    expect(isPacketFileName(name)).toBe(true);
    expect(isPacketFileName(packetFileName('creation', 'x.y-z', AT, 0))).toBe(true);
    for (const other of [
      `.${name}~msite-tmp~${process.pid}~host~1`, // writeFileAtomic's temp name
      `.${name}.${process.pid}.1.tmp`, // and the one it used before
      `sh_o_${name}`, // a shipping order
      `${name}.gz`,
      'sync_boston_hub',
      'sync_boston_hub_2026-11-22T09:52:26Z_1_1',
      'upd_boston_hub_2026-11-22T095226Z_1_1',
      'readme.txt',
    ]) {
      expect(isPacketFileName(other), other).toBe(false);
    }
  });

  it('parse back into their parts (replica names may contain "_")', () => {
    expect(parsePacketFileName(`sync_boston_hub_2026-11-22T095226Z_4711_12`)).toEqual({
      kind: 'update',
      replica: 'boston_hub',
      timestamp: '2026-11-22T095226Z',
      pid: 4711,
      seq: 12,
    });
    expect(parsePacketFileName('repl_x_2026-11-22T095226Z_1_2')?.kind).toBe('creation');
    expect(parsePacketFileName('sh_o_x')).toBeUndefined();
  });

  it('refuse a time or sequence number that is not one', () => {
    expect(() => packetFileName('update', 'x', Number.NaN, 1)).toThrow(RangeError);
    expect(() => packetFileName('update', 'x', AT, -1)).toThrow(RangeError);
    expect(() => packetFileName('update', 'x', AT, 1.5)).toThrow(RangeError);
  });
});
