import { describe, expect, it } from 'vitest';
import { parseDefinition } from '../../src/schedule/parse.js';
import { predefinedJobs } from '../../src/schedule/predefined.js';
import { dueStart, followsJob, isEnabled, nextStart, nextStarts, previousStart, withEnabled } from '../../src/schedule/recurrence.js';
import { wallClockOf } from '../../src/schedule/timeZone.js';
import type { JobDefinition } from '../../src/schedule/model.js';
import { fixture } from './fixtures.js';

// Zones are passed explicitly here; recurrence-dst.test.ts covers the host zone (TZ).
const NY = 'America/New_York';

function local(ms: number, tz = NY): string {
  const w = wallClockOf(ms, tz);
  const p = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${p(w.year, 4)}-${p(w.month)}-${p(w.day)} ${p(w.hour)}:${p(w.minute)}:${p(w.second)}`;
}

function seedJob(id: number): JobDefinition {
  return parseDefinition(fixture(`seed-job-${id}.txt`)).jobs[0]!;
}

function jobWith(schedule: string[], name = 'T'): JobDefinition {
  return parseDefinition(['Job.Begin', `Job.Name: "${name}"`, ...schedule, 'Job.Task: 13', 'Job.End'].join('\n')).jobs[0]!;
}

/** Monday 2024-01-15 12:00 in New York (17:00 UTC). */
const MONDAY_NOON = Date.UTC(2024, 0, 15, 17, 0, 0);

describe('next starts of the seed jobs from Monday 2024-01-15 12:00 New York', () => {
  const table: ReadonlyArray<readonly [number, number, string[]]> = [
    [17, 3, ['2024-01-16 00:00:00', '2024-01-17 00:00:00', '2024-01-18 00:00:00']],
    [18, 3, ['2024-01-15 21:00:00', '2024-01-16 21:00:00', '2024-01-17 21:00:00']],
    [19, 3, ['2024-01-16 04:00:00', '2024-01-17 04:00:00', '2024-01-18 04:00:00']],
    [
      20,
      11,
      [
        '2024-01-16 00:00:00',
        '2024-01-16 00:30:00',
        '2024-01-16 01:00:00',
        '2024-01-16 01:30:00',
        '2024-01-16 02:00:00',
        '2024-01-16 02:30:00',
        '2024-01-16 03:00:00',
        '2024-01-16 03:30:00',
        '2024-01-16 04:00:00',
        '2024-01-17 00:00:00',
        '2024-01-17 00:30:00',
      ],
    ],
    [15, 2, ['2024-01-16 00:00:00', '2024-01-17 00:00:00']],
  ];
  it.each(table)('job %i', (id, count, expected) => {
    expect(nextStarts(seedJob(id), MONDAY_NOON, count, NY).map((t) => local(t))).toEqual(expected);
  });

  it('gives UTC instants: midnight in New York in January is 05:00 UTC', () => {
    expect(nextStarts(seedJob(17), MONDAY_NOON, 1, NY)).toEqual([Date.UTC(2024, 0, 16, 5, 0, 0)]);
    expect(nextStarts(seedJob(17), MONDAY_NOON, 1, 'UTC')).toEqual([Date.UTC(2024, 0, 16, 0, 0, 0)]);
  });

  it('the every-30-minutes job runs 00:00 … 04:00, then 00:00 the next day', () => {
    const day = Date.UTC(2024, 0, 15, 0, 0, 0);
    expect(nextStarts(seedJob(20), day, 10, 'UTC').map((t) => local(t, 'UTC').slice(5))).toEqual([
      '01-15 00:00:00',
      '01-15 00:30:00',
      '01-15 01:00:00',
      '01-15 01:30:00',
      '01-15 02:00:00',
      '01-15 02:30:00',
      '01-15 03:00:00',
      '01-15 03:30:00',
      '01-15 04:00:00',
      '01-16 00:00:00',
    ]);
  });
});

describe('recurrence rules', () => {
  it('nextStarts includes a start at fromMs; nextStart is strictly after', () => {
    const job = seedJob(20);
    const half = Date.UTC(2024, 0, 15, 5, 30, 0); // 00:30 New York
    expect(nextStarts(job, half, 1, NY)).toEqual([half]);
    expect(local(nextStart(job, half, NY)!)).toBe('2024-01-15 01:00:00');
    expect(local(nextStart(job, Date.UTC(2024, 0, 15, 9, 0, 0), NY)!)).toBe('2024-01-16 00:00:00');
  });

  it('Daily every 3 days counts from StartDate', () => {
    const job = jobWith(['Job.Schedule.Daily.Frequency: 3', 'Job.Schedule.StartDate: 2024-01-10', 'Job.Schedule.FirstStartTime: 08:15:00']);
    expect(nextStarts(job, Date.UTC(2024, 0, 1), 4, NY).map((t) => local(t))).toEqual([
      '2024-01-10 08:15:00',
      '2024-01-13 08:15:00',
      '2024-01-16 08:15:00',
      '2024-01-19 08:15:00',
    ]);
  });

  it('Weekly every 2 weeks on Monday and Friday', () => {
    const job = jobWith([
      'Job.Schedule.Weekly.Frequency: 2',
      'Job.Schedule.Weekly.Days: Monday,Friday',
      'Job.Schedule.StartDate: 2024-01-01',
      'Job.Schedule.FirstStartTime: 09:00:00',
    ]);
    expect(nextStarts(job, Date.UTC(2023, 11, 1), 6, NY).map((t) => local(t).slice(0, 10))).toEqual([
      '2024-01-01',
      '2024-01-05',
      '2024-01-15',
      '2024-01-19',
      '2024-01-29',
      '2024-02-02',
    ]);
  });

  it('Monthly on day 31 runs on the last day of shorter months', () => {
    const job = parseDefinition(fixture('all-kinds.txt')).jobs.find((j) => j.name === 'Month End Export')!;
    expect(nextStarts(job, Date.UTC(2024, 0, 1), 5, NY).map((t) => local(t))).toEqual([
      '2024-01-31 06:00:00',
      '2024-02-29 06:00:00',
      '2024-03-31 06:00:00',
      '2024-04-30 06:00:00',
      '2024-05-31 06:00:00',
    ]);
    // EndDate 2024-12-31 bounds it: only December is left after November.
    expect(nextStarts(job, Date.UTC(2024, 10, 1), 5, NY).map((t) => local(t))).toEqual(['2024-11-30 06:00:00', '2024-12-31 06:00:00']);
  });

  it('Monthly every 3 months counts from the month of StartDate', () => {
    const job = jobWith([
      'Job.Schedule.Monthly.Frequency: 3',
      'Job.Schedule.Monthly.Day: 15',
      'Job.Schedule.StartDate: 2024-02-20',
      'Job.Schedule.FirstStartTime: 23:00:00',
    ]);
    expect(nextStarts(job, Date.UTC(2024, 0, 1), 3, NY).map((t) => local(t))).toEqual([
      '2024-05-15 23:00:00',
      '2024-08-15 23:00:00',
      '2024-11-15 23:00:00',
    ]);
  });

  it('Once runs at its date and time, and never again', () => {
    const job = parseDefinition(fixture('all-kinds.txt')).jobs.find((j) => j.name === 'One Off Export')!;
    expect(nextStarts(job, Date.UTC(2024, 0, 1), 3, NY).map((t) => local(t))).toEqual(['2024-03-01 12:00:00']);
    expect(nextStarts(job, Date.UTC(2024, 2, 1, 17, 0, 1), 3, NY)).toEqual([]);
  });

  it('StartTimeRestartFrequency without LastStartTime repeats until the end of the day', () => {
    const job = jobWith([
      'Job.Schedule.Daily.Frequency: 1',
      'Job.Schedule.FirstStartTime: 03:00:00',
      'Job.Schedule.StartTimeRestartFrequency: 06:00:00',
    ]);
    expect(nextStarts(job, Date.UTC(2024, 0, 15, 5), 5, NY).map((t) => local(t))).toEqual([
      '2024-01-15 03:00:00',
      '2024-01-15 09:00:00',
      '2024-01-15 15:00:00',
      '2024-01-15 21:00:00',
      '2024-01-16 03:00:00',
    ]);
  });

  it('StartDate and EndDate bound the days', () => {
    const job = jobWith([
      'Job.Schedule.Daily.Frequency: 1',
      'Job.Schedule.StartDate: 2024-01-16',
      'Job.Schedule.EndDate: 2024-01-18',
      'Job.Schedule.FirstStartTime: 10:00:00',
    ]);
    expect(nextStarts(job, MONDAY_NOON, 10, NY).map((t) => local(t))).toEqual([
      '2024-01-16 10:00:00',
      '2024-01-17 10:00:00',
      '2024-01-18 10:00:00',
    ]);
    expect(nextStart(job, Date.UTC(2024, 0, 18, 15, 0, 1), NY)).toBeUndefined();
  });

  it('a disabled job never runs: the predefined jobs ship disabled', () => {
    const jobs = predefinedJobs();
    expect(jobs.map((j) => [j.name, isEnabled(j)])).toEqual([
      ['Daily MultiSite Export', false],
      ['Daily MultiSite Shipping Poll', false],
      ['Daily MultiSite Receive', false],
    ]);
    for (const job of jobs) expect(nextStarts(job, MONDAY_NOON, 5, NY)).toEqual([]);
    const poll = withEnabled(jobs[1]!, true);
    expect(isEnabled(poll)).toBe(true);
    expect(nextStarts(poll, MONDAY_NOON, 2, NY).map((t) => local(t))).toEqual(['2024-01-16 04:00:00', '2024-01-17 04:00:00']);
    expect(isEnabled(withEnabled(poll, false))).toBe(false);
    // LastDate before StartDate disables as well; LastDate after it only bounds.
    const bounded = jobWith([
      'Job.Schedule.Daily.Frequency: 1',
      'Job.Schedule.StartDate: 2024-01-10',
      'Job.Schedule.LastDate: 2024-01-16',
      'Job.Schedule.FirstStartTime: 10:00:00',
    ]);
    expect(nextStarts(bounded, MONDAY_NOON, 5, NY).map((t) => local(t))).toEqual(['2024-01-16 10:00:00']);
  });

  it('a Sequential job has no clock time; it names its predecessor', () => {
    const job = parseDefinition(fixture('all-kinds.txt')).jobs.find((j) => j.name === 'Receive After Export')!;
    expect(nextStarts(job, MONDAY_NOON, 3, NY)).toEqual([]);
    expect(nextStart(job, MONDAY_NOON, NY)).toBeUndefined();
    expect(followsJob(job)).toEqual({ id: 31 });
    expect(followsJob(seedJob(17))).toBeUndefined();
  });

  it('previousStart and the missed-run rule (dueStart) coalesce missed starts into the latest', () => {
    const job = seedJob(20);
    const at = (h: number, m: number): number => Date.UTC(2024, 0, 15, h + 5, m, 0); // New York wall time
    expect(previousStart(job, at(3, 45), NY)).toBe(at(3, 30));
    expect(previousStart(job, at(3, 30), NY)).toBe(at(3, 30));
    expect(local(previousStart(job, at(0, 0) - 1, NY)!)).toBe('2024-01-14 04:00:00');
    // Down from 01:10 to 03:45: five starts were missed; one run catches up, for 03:30.
    expect(dueStart(job, at(1, 10), at(3, 45), NY)).toBe(at(3, 30));
    expect(dueStart(job, at(3, 30), at(3, 45), NY)).toBeUndefined();
    expect(dueStart(job, at(3, 29), at(3, 30), NY)).toBe(at(3, 30));
    expect(dueStart(predefinedJobs()[0]!, 0, at(3, 45), NY)).toBeUndefined();
  });
});
