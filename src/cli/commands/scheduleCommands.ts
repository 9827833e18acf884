import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { text as readText } from 'node:stream/consumers';
import { createInterface } from 'node:readline/promises';
import type { Command } from '@commander-js/extra-typings';
import { UsageError } from '../../core/errors.js';
import { printAcl } from '../../schedule/acl.js';
import { DefinitionError } from '../../schedule/definitionError.js';
import { formatJobStatus, jobStatus, localTimeText } from '../../schedule/jobStatus.js';
import type { JobDefinition } from '../../schedule/model.js';
import { siteNotifier } from '../../shipping/notifier.js';
import { printDefinition, printJob, taskNameLookup } from '../../schedule/print.js';
import { wantsNotification, type RunResult } from '../../schedule/scheduler.js';
import { ScheduleStore } from '../../schedule/scheduleStore.js';
import { childProcessSpawner, type Spawner } from '../../core/spawner.js';
import { runJobNow } from '../../site/runJobNow.js';
import { waitForJob } from '../../schedule/waitForJob.js';
import type { SiteHome } from '../../site/siteHome.js';
import { emit, jsonOption, readInputFile, siteCommand, siteHome, type CommonOptions, type Io } from '../context.js';
import { runEditor } from '../editor.js';

interface ScheduleOptions extends CommonOptions {
  get?: boolean;
  job?: string;
  tasks?: boolean;
  acl?: boolean;
  schedule?: boolean;
  set?: boolean;
  edit?: boolean;
  run?: string;
  status?: string;
  wait?: string;
  delete?: string;
  force?: boolean;
}

const ACTIONS = ['get', 'set', 'edit', 'run', 'status', 'wait', 'delete'] as const;

/** Runs programs with the command's environment (its Io), not the process's. */
function ioSpawner(io: Io): Spawner {
  return { spawn: (command, args, options) => childProcessSpawner.spawn(command, args, { ...options, env: options.env ?? io.env }) };
}

/** The user the scheduler ACL is checked for. */
function currentUser(): string {
  return userInfo().username;
}

/** The store in the site database, which stays open until the command's `home.close()`. */
function openStore(home: SiteHome): ScheduleStore {
  return ScheduleStore.open(home.database().db);
}

/**
 * `msite schedule`: ClearCase's `cleartool schedule` for the site's scheduler. One action per call:
 * `--get [--job J | --tasks | --acl]`, `--set [--acl] FILE`, `--edit [--acl]`, `--run J`, `--status J`,
 * `--wait J`, `--delete J` (J: a job id, or a name no other job has).
 */
export function registerScheduleCommands(program: Command, io: Io): void {
  siteCommand(program, 'schedule', "get, set, edit, run and watch the site scheduler's jobs (ClearCase's schedule)")
    .option('--get', 'print the job definition (default), one job (--job), the tasks (--tasks) or the ACL (--acl)')
    .option('--job <job>', 'with --get: only this job (id or name)')
    .option('--tasks', 'with --get: the task registry')
    .option('--acl', 'with --get, --set or --edit: the scheduler ACL instead of the jobs')
    .option('--schedule', 'with --get, --set or --edit: the jobs (the default)')
    .option('--set', 'replace the whole job definition (with --acl: the ACL) by FILE ("-": standard input)')
    .option('--edit', 'edit the job definition (with --acl: the ACL) in $EDITOR, else vi')
    .option('--run <job>', 'start the job now: through the daemon, or in the foreground when none runs')
    .option('--status <job>', "the job's state, last completion and next start")
    .option('--wait <job>', "wait until the job's current run ends; fails if that run failed")
    .option('--delete <job>', 'delete the job')
    .option('--force', 'accepted for ClearCase compatibility: msite does not prompt')
    .addOption(jsonOption())
    .argument('[file]', 'with --set: the definition file')
    .action(async (file, _o, cmd) => {
      const opts: ScheduleOptions = cmd.optsWithGlobals();
      const chosen = ACTIONS.filter((a) => opts[a] !== undefined && opts[a] !== false);
      if (chosen.length !== 1) {
        throw new UsageError(
          chosen.length === 0
            ? 'schedule needs an action: --get, --set FILE, --edit, --run JOB, --status JOB, --wait JOB or --delete JOB'
            : `schedule takes one action, got ${chosen.map((a) => `--${a}`).join(' and ')}`,
        );
      }
      const action = chosen[0]!;
      if (file !== undefined && action !== 'set') throw new UsageError(`unexpected argument "${file}" (only --set takes a file)`);
      if (opts.job !== undefined && action !== 'get') throw new UsageError('--job goes with --get');
      if (opts.tasks && action !== 'get') throw new UsageError('--tasks goes with --get');
      if (opts.acl && !['get', 'set', 'edit'].includes(action)) throw new UsageError('--acl goes with --get, --set or --edit');
      if ([opts.job !== undefined, opts.tasks, opts.acl].filter(Boolean).length > 1) {
        throw new UsageError('--get shows one of --job, --tasks and --acl');
      }
      const home = siteHome(io, opts);
      try {
        switch (action) {
          case 'get':
            return getAction(io, opts, home);
          case 'set':
            return setAction(io, opts, home, file);
          case 'edit':
            return await editAction(io, opts, home);
          case 'run':
            return await runAction(io, opts, home, opts.run!);
          case 'status':
            return statusAction(io, opts, home, opts.status!);
          case 'wait':
            return await waitAction(io, opts, home, opts.wait!);
          case 'delete':
            return await deleteAction(io, opts, home, opts.delete!);
        }
      } finally {
        home.close();
      }
    });
}

function getAction(io: Io, opts: ScheduleOptions, home: SiteHome): void {
  const store = openStore(home);
  store.requireAccess(currentUser(), 'read');
  if (opts.acl) {
    const acl = store.getAcl();
    emit(io, opts, { acl }, () => printAcl(acl));
  } else if (opts.tasks) {
    const tasks = store.getTasks();
    emit(io, opts, { tasks }, () => printDefinition({ tasks }));
  } else {
    const annotateTasks = taskNameLookup(store.getTasks());
    if (opts.job !== undefined) {
      const job = store.getJob(opts.job);
      emit(io, opts, job, () => printJob(job, { annotateTasks }));
    } else {
      const jobs = store.getJobs();
      emit(io, opts, { jobs }, () => printDefinition({ jobs }, { annotateTasks }));
    }
  }
}

async function readDefinitionFile(io: Io, file: string | undefined): Promise<{ text: string; name: string }> {
  if (file === undefined) throw new UsageError('--set needs a FILE (or "-" for standard input)');
  if (file === '-') return { text: await readText(io.stdin), name: 'standard input' };
  return { text: readInputFile(io, file, 'definition file').toString('utf8'), name: file };
}

function summary(jobs: readonly JobDefinition[]): string {
  return `Schedule set: ${jobs.length} job${jobs.length === 1 ? '' : 's'}${jobs.length === 0 ? '' : ` (${jobs.map((j) => j.id).join(', ')})`}.`;
}

async function setAction(io: Io, opts: ScheduleOptions, home: SiteHome, file: string | undefined): Promise<void> {
  const { text, name } = await readDefinitionFile(io, file);
  const store = openStore(home);
  if (opts.acl) {
    const acl = store.setAcl(text, { user: currentUser(), file: name });
    emit(io, opts, { acl }, () => 'Scheduler ACL set.');
    return;
  }
  const jobs = store.set(text, { user: currentUser(), file: name });
  emit(io, opts, { jobs: jobs.map((j) => ({ id: j.id, name: j.name })) }, () => summary(jobs));
}

async function askYes(io: Io, question: string): Promise<boolean> {
  const rl = createInterface({ input: io.stdin });
  try {
    io.err(question);
    const answer = (await rl.question('')).trim().toLowerCase();
    return answer === '' || answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}

/**
 * Edits the current definition (or ACL) in $EDITOR, then sets it. A refused definition is shown and,
 * on a terminal, offered for another edit; without a terminal on standard input the command fails
 * (nothing changed) rather than loop.
 */
async function editAction(io: Io, opts: ScheduleOptions, home: SiteHome): Promise<void> {
  const store = openStore(home);
  const user = currentUser();
  store.requireAccess(user, opts.acl ? 'full' : 'change');
  const original = opts.acl
    ? printAcl(store.getAcl())
    : printDefinition({ jobs: store.getJobs() }, { annotateTasks: taskNameLookup(store.getTasks()) });
  const dir = mkdtempSync(join(tmpdir(), 'msite-edit-'));
  const file = join(dir, opts.acl ? 'scheduler-acl.txt' : 'schedule.txt');
  try {
    writeFileSync(file, original);
    for (;;) {
      runEditor(io, file);
      const edited = readFileSync(file, 'utf8');
      if (edited === original) {
        io.err('msite schedule: no change\n');
        return;
      }
      try {
        if (opts.acl) {
          store.setAcl(edited, { user, file: 'edited ACL' });
          io.out('Scheduler ACL set.\n');
        } else {
          io.out(`${summary(store.set(edited, { user, file: 'edited definition' }))}\n`);
        }
        return;
      } catch (err) {
        if (!(err instanceof DefinitionError) || !io.stdinIsTTY) throw err;
        io.err(`msite: error: ${err.toLine()}\n`);
        if (!(await askYes(io, 'Edit again? [yes] '))) throw err;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function resultText(r: RunResult): string {
  const how = r.exitStatus === 0 ? 'completed' : `failed with exit status ${r.exitStatus}`;
  const lines = [`Job ${r.jobId} "${r.jobName}" ${how} (process ${r.processId}).`];
  if (r.deleted) lines.push('The job was deleted (DeleteWhenCompleted).');
  if (r.messages !== '') lines.push('Messages:', ...r.messages.split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}

function resultJson(r: RunResult): Record<string, unknown> {
  return { ...r, started: new Date(r.started).toISOString(), ended: new Date(r.ended).toISOString() };
}

/** Starts a job now: through the daemon, else here in the foreground (see runJobNow). */
async function runAction(io: Io, opts: ScheduleOptions, home: SiteHome, ref: string): Promise<void> {
  const r = await runJobNow(home, openStore(home), ref, {
    user: currentUser(),
    env: io.env,
    spawner: ioSpawner(io),
    onDaemonUnreachable: (err) => io.err(`msite schedule: warning: ${err.message}; running the job here\n`),
    onForegroundStart: (run) => {
      if (!opts.json) io.err(`msite schedule: no daemon serves ${home.dir}: running job ${run.jobId} here (process ${run.processId})\n`);
    },
  });
  if (r.mode === 'daemon') {
    emit(io, opts, r, () => `Job ${r.run.jobId} "${r.run.jobName}" started by the daemon (process ${r.run.processId}).`);
    return;
  }
  emit(io, opts, { mode: r.mode, results: r.results.map(resultJson) }, () => r.results.map(resultText).join('\n'));
  if (r.failure) throw r.failure;
}

function statusAction(io: Io, opts: ScheduleOptions, home: SiteHome, ref: string): void {
  const store = openStore(home);
  store.requireAccess(currentUser(), 'read');
  const status = jobStatus(store, ref, Date.now());
  emit(io, opts, status, () => formatJobStatus(status));
}

/** Waits for the job's current run (if any) to end; fails when that run failed. */
async function waitAction(io: Io, opts: ScheduleOptions, home: SiteHome, ref: string): Promise<void> {
  const { failure, ...r } = await waitForJob(openStore(home), ref, { user: currentUser() });
  emit(io, opts, r, () => {
    const info = r.lastCompletion;
    if (r.deleted) return `Job ${r.id} "${r.name}" ended and was deleted (DeleteWhenCompleted).`;
    if (!info) return `Job ${r.id} "${r.name}" is not running and has not run.`;
    const when = info.ended === undefined ? '' : ` at ${localTimeText(info.ended)}`;
    return `Job ${r.id} "${r.name}" ended${when} with exit status ${info.exitStatus ?? 'unknown'}.`;
  });
  if (failure) throw failure;
}

async function deleteAction(io: Io, opts: ScheduleOptions, home: SiteHome, ref: string): Promise<void> {
  const store = openStore(home);
  const user = currentUser();
  const job = store.deleteJob(ref, { user });
  if (wantsNotification(job, 'JobDeleted')) {
    await siteNotifier(home.dir, ioSpawner(io)).send({
      subject: `msite: job ${job.id} "${job.name}" deleted`,
      body: `Job ${job.id} "${job.name}" was deleted by ${user} on ${hostname()} (site home ${home.dir}).\n`,
      recipients: job.notify?.recipients ?? [],
    });
  }
  emit(io, opts, { deleted: { id: job.id, name: job.name } }, () => `Deleted job ${job.id} "${job.name}".`);
}
