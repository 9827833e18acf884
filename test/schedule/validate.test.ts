import { describe, expect, it } from 'vitest';
import { DefinitionError } from '../../src/schedule/definitionError.js';
import { parseDefinition } from '../../src/schedule/parse.js';
import { loadDefinition, validateDefinition } from '../../src/schedule/validate.js';
import { fixture, lineNumberOf, seedBlocks } from './fixtures.js';

/** A valid job, one line per element, with `lines` replacing or adding keys. */
function job(...lines: string[]): string {
  return [
    'Job.Begin',
    'Job.Name: "J"',
    'Job.Schedule.Daily.Frequency: 1',
    'Job.Schedule.FirstStartTime: 01:00:00',
    'Job.Task: 13',
    ...lines,
    'Job.End',
  ].join('\n');
}

function refusal(text: string, file?: string): DefinitionError {
  try {
    loadDefinition(text, file === undefined ? {} : { file });
  } catch (err) {
    if (err instanceof DefinitionError) return err;
    throw err;
  }
  throw new Error('definition was accepted');
}

describe('a bad definition is refused with the line and the rule', () => {
  const cases: ReadonlyArray<readonly [string, string, string]> = [
    ['unknown key', job('Job.Frequency: 1'), 'line 6: unknown key Job.Frequency in a job'],
    [
      'unknown key in a task',
      'Task.Begin\nTask.Name: "T"\nTask.Path: /bin/true\nTask.End',
      'line 3: unknown key Task.Path in a task (and 1 more)',
    ],
    ['hour 25', job().replace('01:00:00', '25:00:00'), 'line 4: Job.Schedule.FirstStartTime must be HH:MM:SS, got "25:00:00"'],
    ['time without seconds', job().replace('01:00:00', '25:00'), 'line 4: Job.Schedule.FirstStartTime must be HH:MM:SS, got "25:00"'],
    [
      'date that does not exist',
      job('Job.Schedule.StartDate: 2024-02-30'),
      'line 6: Job.Schedule.StartDate must be a date YYYY-MM-DD (or DD-Mon-YYYY), got "2024-02-30"',
    ],
    ['missing Job.End', job().replace(/\nJob\.End$/, ''), 'line 1: Job.Begin has no Job.End'],
    [
      'missing Job.End before the next job',
      `${job().replace(/\nJob\.End$/, '')}\n${job().replace('"J"', '"K"')}`,
      'line 1: Job.Begin has no Job.End before the Job.Begin at line 6',
    ],
    ['missing Task.End', 'Task.Begin\nTask.Name: "T"\nTask.Pathname: /bin/true\n', 'line 1: Task.Begin has no Task.End'],
    [
      'duplicate Job.Id',
      `${job('Job.Id: 5')}\n\n${job('Job.Id: 5').replace('"J"', '"K"')}`,
      'line 14: duplicate Job.Id 5 (first at line 6)',
    ],
    [
      'Sequential predecessor named by a name two jobs share',
      `${job('Job.Id: 1')}\n${job('Job.Id: 2')}\nJob.Begin\nJob.Name: "After"\nJob.Schedule.Sequential.FollowsJob: "J"\nJob.Task: 14\nJob.End`,
      'line 17: Job.Schedule.Sequential.FollowsJob "J" names 2 jobs (Job.Id 1, 2): follow one by its Job.Id',
    ],
    [
      'unclosed quote in Job.Args',
      job('Job.Args: -c "nightly run'),
      'line 6: Job.Args cannot be split into arguments: unclosed " quote at character 4',
    ],
    [
      'unknown task id',
      job().replace('Job.Task: 13', 'Job.Task: 99'),
      'line 5: Job.Task 99 names no known task (known: 13 "MultiSite Sync Export", 14 "MultiSite Sync Receive")',
    ],
    [
      'unknown task name',
      job().replace('Job.Task: 13', 'Job.Task: "Backup"'),
      'line 5: Job.Task "Backup" names no known task (known: 13 "MultiSite Sync Export", 14 "MultiSite Sync Receive")',
    ],
    [
      'Sequential predecessor that is no job',
      'Job.Begin\nJob.Name: "After"\nJob.Schedule.Sequential.FollowsJob: "Nightly"\nJob.Task: 14\nJob.End',
      'line 3: Job.Schedule.Sequential.FollowsJob "Nightly" is no job in this definition',
    ],
    [
      'Sequential loop',
      'Job.Begin\nJob.Id: 1\nJob.Name: "A"\nJob.Schedule.Sequential.FollowsJob: 2\nJob.Task: 14\nJob.End\n' +
        'Job.Begin\nJob.Id: 2\nJob.Name: "B"\nJob.Schedule.Sequential.FollowsJob: "A"\nJob.Task: 14\nJob.End',
      'line 4: Sequential jobs form a loop and would never start: "A" → "B" → "A"',
    ],
    [
      'non-numeric frequency',
      job().replace('Frequency: 1', 'Frequency: daily'),
      'line 3: Job.Schedule.Daily.Frequency must be a whole number of days from 1, got "daily"',
    ],
    [
      'zero frequency',
      job().replace('Frequency: 1', 'Frequency: 0'),
      'line 3: Job.Schedule.Daily.Frequency must be a whole number of days from 1, got "0"',
    ],
    [
      'non-numeric restart frequency',
      job('Job.Schedule.StartTimeRestartFrequency: often'),
      'line 6: Job.Schedule.StartTimeRestartFrequency must be HH:MM:SS, got "often"',
    ],
    [
      'LastStartTime before FirstStartTime',
      job('Job.Schedule.StartTimeRestartFrequency: 00:10:00', 'Job.Schedule.LastStartTime: 00:30:00'),
      'line 7: Job.Schedule.LastStartTime 00:30:00 is before Job.Schedule.FirstStartTime 01:00:00',
    ],
    [
      'EndDate before StartDate',
      job('Job.Schedule.StartDate: 2024-05-01', 'Job.Schedule.EndDate: 2024-04-30'),
      'line 7: Job.Schedule.EndDate 2024-04-30 is before Job.Schedule.StartDate 2024-05-01',
    ],
    ['key given twice', job('Job.Args: -all', 'Job.Args: -poll'), 'line 7: Job.Args given twice (first at line 6)'],
    [
      'two schedule kinds',
      job('Job.Schedule.Weekly.Days: Monday'),
      'line 6: a job has one schedule kind: Weekly given here conflicts with Daily at line 3',
    ],
    [
      'bad weekday',
      job().replace('Daily.Frequency: 1', 'Weekly.Days: Funday'),
      'line 3: Job.Schedule.Weekly.Days must list days of the week (Sunday … Saturday), got "Funday"',
    ],
    [
      'monthly day 32',
      job().replace('Daily.Frequency: 1', 'Monthly.Day: 32'),
      'line 3: Job.Schedule.Monthly.Day must be a day of the month from 1 to 31, got "32"',
    ],
    ['missing description end', job('Job.Description.Begin:', 'text'), 'line 6: Job.Description.Begin: has no Job.Description.End:'],
    ['no task', job().replace('\nJob.Task: 13', ''), 'line 1: job has no Job.Task'],
    [
      'no start time',
      job().replace('\nJob.Schedule.FirstStartTime: 01:00:00', ''),
      'line 1: a Daily schedule needs Job.Schedule.FirstStartTime',
    ],
    [
      'start time on a Sequential job',
      'Job.Begin\nJob.Name: "A"\nJob.Schedule.Sequential.FollowsJob: "A2"\nJob.Schedule.FirstStartTime: 01:00:00\nJob.Task: 14\nJob.End',
      'line 4: Job.Schedule.FirstStartTime does not apply to a Sequential schedule (it starts when its predecessor completes)',
    ],
    ['boolean', job('Job.DeleteWhenCompleted: yes'), 'line 6: Job.DeleteWhenCompleted must be TRUE or FALSE, got "yes"'],
    ['text outside a job', `${job()}\nJob.Args: -all`, 'line 7: expected Job.Begin or Task.Begin, got "Job.Args: -all"'],
    [
      'unknown notify event',
      job('Job.NotifyInfo.OnEvents: JobEndFail,JobExploded'),
      'line 6: Job.NotifyInfo.OnEvents: unknown event "JobExploded" (known: JobBegin, JobEndOK, JobEndOKWithMsgs, JobEndFail, JobDeleted, JobModified)',
    ],
  ];

  it.each(cases)('%s', (_what, text, message) => {
    const err = refusal(text);
    expect(err.message).toBe(message);
    expect(err.code).toBe('SCHEDULE_DEFINITION');
    expect(err.line).toBe(Number(/^line (\d+)/.exec(message)![1]));
    expect(err.data['line']).toBe(err.line);
  });

  it('reports every problem, the first in the message, and names the file', () => {
    const err = refusal(job('Job.Schedule.StartDate: 2024-13-01', 'Job.Bogus: 1').replace('01:00:00', '24:00:00'), 'jobs.txt');
    expect(err.message).toBe('jobs.txt: line 4: Job.Schedule.FirstStartTime must be HH:MM:SS, got "24:00:00" (and 2 more)');
    expect(err.problems.map((p) => p.line)).toEqual([4, 6, 7]);
    expect(err.data['file']).toBe('jobs.txt');
    expect(err.toLine()).toBe(`${err.message} (fix the definition and set it again; nothing was changed)`);
  });

  it('validates the seed jobs as one set: its two "Shipping Server Poll" jobs are two jobs (ids 19 and 20)', () => {
    const text = seedBlocks().join('\n');
    const def = parseDefinition(text);
    expect(def.jobs).toHaveLength(5);
    expect(() => validateDefinition(def)).not.toThrow();
    expect(def.jobs.filter((j) => j.name === 'Shipping Server Poll').map((j) => j.id)).toEqual([19, 20]);
    expect(loadDefinition(fixture('seed-jobs.txt')).jobs.map((j) => j.id)).toEqual([17, 18, 19, 20, 15]);
  });

  it('still refuses a duplicate Job.Id, naming both lines', () => {
    const text = `${fixture('seed-jobs.txt')}\n${fixture('seed-job-19.txt')}`;
    const again = lineNumberOf(text, 'Job.Id: 19', lineNumberOf(text, 'Job.Id: 15'));
    expect(() => loadDefinition(text)).toThrow(`line ${again}: duplicate Job.Id 19 (first at line ${lineNumberOf(text, 'Job.Id: 19')})`);
  });

  it('accepts tasks defined beside the jobs that name them', () => {
    expect(loadDefinition(fixture('all-kinds.txt')).jobs).toHaveLength(5);
  });
});
