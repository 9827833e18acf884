// Recurrence uses the host's zone by default. It is read at call time, so setting TZ here (after the
// hoisted imports) is early enough; it is put back afterwards for whatever this worker runs next.
const hostTz = process.env.TZ;
process.env.TZ = 'America/New_York';

import { afterAll, describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/schedule/parse.js';
import { nextStart, nextStarts } from '../../src/schedule/recurrence.js';
import { hostTimeZone } from '../../src/schedule/timeZone.js';
import type { JobDefinition } from '../../src/schedule/model.js';
import { fixture } from './fixtures.js';

function daily(first: string, more: string[] = []): JobDefinition {
  return parseDefinition(
    [
      'Job.Begin',
      'Job.Name: "D"',
      'Job.Schedule.Daily.Frequency: 1',
      `Job.Schedule.FirstStartTime: ${first}`,
      ...more,
      'Job.Task: 13',
      'Job.End',
    ].join('\n'),
  ).jobs[0]!;
}

const utc = (mo: number, d: number, h: number, mi = 0): number => Date.UTC(2024, mo - 1, d, h, mi, 0);
const iso = (ms: number): string => new Date(ms).toISOString().slice(0, 16);

afterAll(() => {
  if (hostTz === undefined) delete process.env.TZ;
  else process.env.TZ = hostTz;
});

describe('DST in the host zone (TZ=America/New_York)', () => {
  it('uses the TZ environment variable', () => {
    expect(hostTimeZone()).toBe('America/New_York');
    expect(new Date(utc(1, 15, 12)).getHours()).toBe(7);
  });

  it('spring forward (2024-03-10): a 02:30 start runs at 03:00, the first instant after the gap', () => {
    expect(nextStarts(daily('02:30:00'), utc(3, 9, 0), 3).map(iso)).toEqual([
      '2024-03-09T07:30', // 02:30 EST
      '2024-03-10T07:00', // 03:00 EDT: 02:30 does not exist that day
      '2024-03-11T06:30', // 02:30 EDT
    ]);
  });

  it('spring forward: repeated starts in the gap collapse into one at 03:00', () => {
    const job = parseDefinition(fixture('seed-job-20.txt')).jobs[0]!;
    expect(nextStarts(job, utc(3, 10, 5), 8).map(iso)).toEqual([
      '2024-03-10T05:00', // 00:00 EST
      '2024-03-10T05:30',
      '2024-03-10T06:00',
      '2024-03-10T06:30', // 01:30 EST
      '2024-03-10T07:00', // 03:00 EDT, for 02:00, 02:30 and 03:00
      '2024-03-10T07:30', // 03:30 EDT
      '2024-03-10T08:00', // 04:00 EDT
      '2024-03-11T04:00', // next day 00:00 EDT
    ]);
  });

  it('fall back (2024-11-03): a 01:30 daily start runs once, at the first 01:30', () => {
    const job = daily('01:30:00');
    expect(nextStarts(job, utc(11, 2, 0), 3).map(iso)).toEqual([
      '2024-11-02T05:30', // 01:30 EDT
      '2024-11-03T05:30', // 01:30 EDT, the first of two
      '2024-11-04T06:30', // 01:30 EST
    ]);
    // At 01:15 EST (the second 01:15 that night) the day's run is already past.
    expect(iso(nextStart(job, utc(11, 3, 6, 15))!)).toBe('2024-11-04T06:30');
  });

  it('fall back: an hourly job does not rerun the repeated hour', () => {
    const job = daily('00:00:00', ['Job.Schedule.StartTimeRestartFrequency: 01:00:00', 'Job.Schedule.LastStartTime: 03:00:00']);
    expect(nextStarts(job, utc(11, 3, 0), 5).map(iso)).toEqual([
      '2024-11-03T04:00', // 00:00 EDT
      '2024-11-03T05:00', // 01:00 EDT
      '2024-11-03T07:00', // 02:00 EST
      '2024-11-03T08:00', // 03:00 EST
      '2024-11-04T05:00', // next day 00:00 EST
    ]);
  });

  it('midnight stays midnight across both changes (23 h and 25 h days)', () => {
    const starts = nextStarts(daily('00:00:00'), utc(3, 9, 0), 3);
    expect(starts.map(iso)).toEqual(['2024-03-09T05:00', '2024-03-10T05:00', '2024-03-11T04:00']);
    const fall = nextStarts(daily('00:00:00'), utc(11, 2, 12), 3);
    expect(fall.map(iso)).toEqual(['2024-11-03T04:00', '2024-11-04T05:00', '2024-11-05T05:00']);
    expect((fall[1]! - fall[0]!) / 3_600_000).toBe(25);
  });

  it('an explicit zone overrides the host zone (Europe/Paris springs forward on 2024-03-31)', () => {
    expect(nextStarts(daily('02:30:00'), Date.UTC(2024, 2, 30, 12), 3, 'Europe/Paris').map(iso)).toEqual([
      '2024-03-31T01:00', // 03:00 CEST
      '2024-04-01T00:30', // 02:30 CEST
      '2024-04-02T00:30',
    ]);
    expect(() => nextStarts(daily('02:30:00'), 0, 1, 'Mars/Olympus')).toThrow(
      'time zone not usable: "Mars/Olympus" is no IANA time zone name',
    );
  });
});
