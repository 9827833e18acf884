import { describe, expect, it } from 'vitest';
import { canonicalJobText, printDefinition, printJob, printTask, taskNameLookup } from '../../src/schedule/print.js';
import { parseDefinition } from '../../src/schedule/parse.js';
import { loadDefinition } from '../../src/schedule/validate.js';
import { predefinedJobs, predefinedTasks } from '../../src/schedule/predefined.js';
import type { JobDefinition } from '../../src/schedule/model.js';
import { fixture, seedBlocks } from './fixtures.js';

describe('the seed jobs', () => {
  const blocks = seedBlocks();

  it('has the five jobs of the MultiSite guide', () => {
    expect(blocks.map((b) => parseDefinition(b).jobs[0]!.id)).toEqual([17, 18, 19, 20, 15]);
  });

  it.each(blocks.map((b, i) => [i, b] as const))('block %i parses, validates and prints back byte-identically', (_i, block) => {
    const def = loadDefinition(block);
    expect(def.jobs).toHaveLength(1);
    expect(def.tasks).toHaveLength(0);
    expect(printJob(def.jobs[0]!)).toBe(block);
    // The seed is already in canonical form, so the canonical printer must agree too.
    expect(canonicalJobText(def.jobs[0]!)).toBe(block);
  });

  it.each([15, 17, 18, 19, 20])('fixture seed-job-%i.txt is the seed block and round-trips as a file', (id) => {
    const text = fixture(`seed-job-${id}.txt`);
    expect(blocks).toContain(text.slice(0, -1));
    expect(printDefinition(parseDefinition(text))).toBe(text);
  });

  it('reads every field of the every-30-minutes job', () => {
    const job = parseDefinition(fixture('seed-job-20.txt')).jobs[0]!;
    expect(job).toEqual({
      id: 20,
      name: 'Shipping Server Poll',
      description: 'Every half hour from midnight to 4AM, run the shipping server to send any outstanding orders.',
      schedule: {
        kind: 'Daily',
        frequency: 1,
        firstStartTime: '00:00:00',
        startTimeRestartFrequency: '00:30:00',
        lastStartTime: '04:00:00',
      },
      deleteWhenCompleted: false,
      task: { id: 13 },
      args: '-quiet 1 -poll',
    } satisfies JobDefinition);
  });

  it('refuses the seed document as a definition file, at the first line of prose', () => {
    expect(() => parseDefinition(fixture('seed-000.txt'))).toThrow(
      /^line 1: expected Job\.Begin or Task\.Begin, got "6\.6 Automated Synchronization" \(and \d+ more\)$/,
    );
  });
});

describe('parse and print', () => {
  it('round-trips a definition with every schedule kind, tasks, notification and completion info', () => {
    const text = fixture('all-kinds.txt');
    const def = loadDefinition(text, { tasks: predefinedTasks() });
    expect(def.tasks).toEqual([
      {
        id: 101,
        name: 'Nightly Backup',
        description: 'Copies the site home to the backup volume.',
        pathname: '/usr/local/bin/msite-backup',
      },
    ]);
    expect(def.jobs.map((j) => j.schedule)).toEqual([
      { kind: 'Weekly', frequency: 2, days: ['Monday', 'Friday'], startDate: '2024-01-01', firstStartTime: '09:00:00' },
      { kind: 'Monthly', frequency: 1, day: 31, startDate: '2024-01-01', endDate: '2024-12-31', firstStartTime: '06:00:00' },
      { kind: 'Sequential', followsJob: { id: 31 } },
      { kind: 'Once', date: '2024-03-01', firstStartTime: '12:00:00' },
      { kind: 'Daily', frequency: 1, firstStartTime: '00:00:00', startTimeRestartFrequency: '01:00:00' },
    ]);
    expect(def.jobs[0]!.task).toEqual({ name: 'Nightly Backup' });
    expect(def.jobs[0]!.notify).toEqual({
      onEvents: ['JobEndOKWithMsgs', 'JobEndFail'],
      using: 'email',
      recipients: ['admin@boston.example', 'ops@boston.example'],
    });
    expect(def.jobs[3]!.deleteWhenCompleted).toBe(true);
    expect(def.jobs[4]!.lastCompletion).toEqual({
      processId: 4242,
      started: '2024-01-15T10:00:00.000Z',
      ended: '2024-01-15T10:00:07.000Z',
      exitStatus: 0,
      messages: 'shipping_server: 2 orders sent',
    });
    expect(printDefinition(def)).toBe(text);
    // Canonical too: printing copies (which carry no original text) gives the same file.
    expect(printDefinition({ jobs: def.jobs.map((j) => ({ ...j })), tasks: def.tasks.map((t) => ({ ...t })) })).toBe(text);
  });

  it('reads indented -get output with annotations and prints it back unchanged', () => {
    const text = fixture('get-output.txt');
    const def = loadDefinition(text);
    expect(def.jobs.map((j) => [j.id, j.task, j.args])).toEqual([
      [17, { id: 13 }, '-quiet 1 -all'],
      [15, { id: 14 }, undefined],
    ]);
    expect(def.jobs[0]!.description).toBe('Every midnight, for each replica on this host, export update packets to all sibling replicas.');
    // Each job prints as written (the file's leading comment belongs to no job).
    const blocks = text.split('\n\n').map((b) => b.replace(/^#.*\n/, '').replace(/\n$/, ''));
    expect(def.jobs.map((j) => printJob(j))).toEqual(blocks);
  });

  it('annotates Job.Task lines with the task name when asked, as -get does, and reads that back', () => {
    const seed = parseDefinition(fixture('seed-job-15.txt')).jobs[0]!;
    const annotated = printJob(seed, { annotateTasks: taskNameLookup(predefinedTasks()) });
    expect(annotated.split('\n').slice(-3)).toEqual(['Job.Task: 14', '# Job.Task: "MultiSite Sync Receive"', 'Job.End']);
    const again = parseDefinition(annotated).jobs[0]!;
    expect(again).toEqual(seed);
    expect(printJob(again)).toBe(annotated);
    // Annotating annotated text replaces the annotation, never doubles it (also the trailing form).
    expect(printJob(again, { annotateTasks: taskNameLookup(predefinedTasks()) })).toBe(annotated);
    const trailing = parseDefinition(fixture('get-output.txt')).jobs[1]!;
    expect(printJob(trailing, { annotateTasks: taskNameLookup(predefinedTasks()) })).toContain(
      '    Job.Task: 14\n    # Job.Task: "MultiSite Sync Receive"\nJob.End',
    );
  });

  it('prints a modified job canonically', () => {
    const job = parseDefinition(fixture('get-output.txt')).jobs[0]!;
    job.args = '-quiet 1 -ship -all';
    expect(printJob(job)).toBe(
      [
        'Job.Begin',
        'Job.Id: 17',
        'Job.Name: "Sync Export Force ALL"',
        'Job.Description.Begin:',
        'Every midnight, for each replica on this host, export update packets to all sibling replicas.',
        'Job.Description.End:',
        'Job.Schedule.Daily.Frequency: 1',
        'Job.Schedule.FirstStartTime: 00:00:00',
        'Job.DeleteWhenCompleted: FALSE',
        'Job.Task: 13',
        'Job.Args: -quiet 1 -ship -all',
        'Job.End',
      ].join('\n'),
    );
  });

  it('keeps description lines literally, comments and key-like text included', () => {
    const text = [
      'Job.Begin',
      'Job.Name: "Odd"',
      'Job.Description.Begin:',
      '# not a comment here',
      '  Job.Args: not a key here',
      '',
      'Job.Description.End:',
      'Job.Schedule.Daily.Frequency: 1',
      'Job.Schedule.FirstStartTime: 01:00:00',
      'Job.Task: 13',
      'Job.End',
    ].join('\n');
    const job = parseDefinition(text).jobs[0]!;
    expect(job.description).toBe('# not a comment here\n  Job.Args: not a key here\n');
    expect(job.args).toBeUndefined();
    expect(printJob(job)).toBe(text);
    expect(printJob({ ...job })).toBe(text);
  });

  it('accepts ClearCase dates, day abbreviations, hex exit status and names a task by name', () => {
    const job = parseDefinition(
      [
        'Job.Begin',
        'Job.Name: "Flexible"',
        'Job.Schedule.Weekly.Days: fri, MON',
        'Job.Schedule.StartDate: 09-Mar-2024',
        'Job.Schedule.FirstStartTime: 23:59:59',
        'Job.Task: "MultiSite Sync Export"   # comment',
        'Job.LastCompletionInfo.ExitStatus: 0x1f',
        'Job.End',
      ].join('\n'),
    ).jobs[0]!;
    expect(job.schedule).toEqual({
      kind: 'Weekly',
      frequency: 1,
      days: ['Monday', 'Friday'],
      startDate: '2024-03-09',
      firstStartTime: '23:59:59',
    });
    expect(job.task).toEqual({ name: 'MultiSite Sync Export' });
    expect(job.lastCompletion).toEqual({ exitStatus: 31 });
  });

  it('prints the predefined tasks and jobs and reads them back', () => {
    const text = printDefinition({ tasks: predefinedTasks(), jobs: predefinedJobs() });
    const def = loadDefinition(text);
    expect(def.tasks.map((t) => [t.id, t.name, t.pathname])).toEqual([
      [13, 'MultiSite Sync Export', 'sync_export_list'],
      [14, 'MultiSite Sync Receive', 'sync_receive'],
    ]);
    expect(def.jobs.map((j) => [j.name, j.args, j.task])).toEqual([
      ['Daily MultiSite Export', '-all', { id: 13 }],
      ['Daily MultiSite Shipping Poll', '-poll', { id: 13 }],
      ['Daily MultiSite Receive', undefined, { id: 14 }],
    ]);
    expect(def.jobs.every((j) => j.schedule.lastDate === j.schedule.startDate)).toBe(true);
    expect(printTask(def.tasks[0]!)).toBe(text.split('\n\n')[0]);
  });
});
