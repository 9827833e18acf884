import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { msite, ok, tempDir } from '../helpers/cli.js';
import { storedSchedule } from '../helpers/storedSchedule.js';

/** `msite serve` as a real child process, on the real clock. */

const BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/msite.js');
const dir = tempDir('msite-serve-');
const home = join(dir, 'home');
const ranLog = join(dir, 'ran.log');

interface Served {
  child: ChildProcess;
  port: number;
  exited: Promise<number | null>;
  stderr: () => string;
}

/** Starts `msite serve --port 0` and resolves once it says where it listens. */
function serve(): Promise<Served> {
  const env = { ...process.env, MSITE_HOME: home };
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolveServe, rejectServe) => {
    const timer = setTimeout(() => rejectServe(new Error(`msite serve did not start: ${err}`)), 15_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^msite serve: listening on http:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolveServe({ child, port: Number(m[1]), exited, stderr: () => err });
      }
    });
    void exited.then((code) => rejectServe(new Error(`msite serve exited ${code}: ${err}`)));
  });
}

let daemon: Served | undefined;
afterAll(() => {
  if (daemon && daemon.child.exitCode === null) daemon.child.kill('SIGKILL');
});

async function api(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${daemon!.port}${path}`, { method, ...(body === undefined ? {} : { body }) });
  return { status: res.status, text: await res.text() };
}

/** `HH:MM:SS` and `YYYY-MM-DD` of an instant in local time, as job definitions write them. */
function local(ms: number): { date: string; time: string } {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return {
    date: `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`,
    time: `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`,
  };
}

describe('msite serve', () => {
  it('runs a job when it is due, answers the API, serves --run, and stops cleanly on SIGTERM', async () => {
    const task = join(dir, 'task.sh');
    writeFileSync(task, `#!/bin/sh\necho "ran $1" >> ${ranLog}\necho "ran $1"\n`);
    chmodSync(task, 0o755);
    daemon = await serve();
    const info = JSON.parse(readFileSync(join(home, 'daemon.json'), 'utf8')) as { pid: number; port: number };
    expect(info).toMatchObject({ pid: daemon.child.pid, port: daemon.port });

    // Set while the daemon runs: it notices the change and runs the job at its time, 2–3 s from now.
    const start = Math.ceil((Date.now() + 4_000) / 1000) * 1000;
    const { date, time } = local(start);
    const def = [
      `Task.Begin\nTask.Name: "Note"\nTask.Pathname: ${task}\nTask.End\n`,
      `Job.Begin\nJob.Id: 50\nJob.Name: "Soon"\nJob.Schedule.Once.Date: ${date}\nJob.Schedule.FirstStartTime: ${time}\nJob.Task: "Note"\nJob.Args: soon\nJob.End\n`,
      'Job.Begin\nJob.Id: 51\nJob.Name: "On Demand"\nJob.Schedule.Once.Date: 2000-01-01\nJob.Schedule.FirstStartTime: 00:00:00\nJob.Task: "Note"\nJob.Args: demand\nJob.End\n',
    ].join('\n');
    const defFile = join(dir, 'def.txt');
    writeFileSync(defFile, def);
    await ok(['schedule', '--set', defFile], { home });
    const store = storedSchedule(home);

    // Bad requests get a 4xx with one JSON line and change nothing.
    const bad: Array<[string, string, string | undefined, number, string]> = [
      ['POST', '/api/schedule/jobs/999/run', undefined, 404, 'NOT_FOUND'],
      ['POST', '/api/schedule/jobs/50/run', '{not json', 400, 'INVALID_INPUT'],
      ['POST', '/api/schedule/jobs/50/run', '[1]', 400, 'INVALID_INPUT'],
      ['DELETE', '/api/schedule/jobs/50/run', undefined, 405, 'METHOD_NOT_ALLOWED'],
      ['GET', '/api/nothing-here', undefined, 404, 'NOT_FOUND'],
      ['GET', '/api/schedule/jobs/%E0%A4%A/status', undefined, 400, 'INVALID_INPUT'],
    ];
    for (const [method, path, body, status, code] of bad) {
      const r = await api(method, path, body);
      expect([method, path, r.status]).toEqual([method, path, status]);
      expect(r.text.endsWith('\n') && r.text.trim().split('\n').length === 1).toBe(true);
      expect((JSON.parse(r.text) as { error: { code: string } }).error.code).toBe(code);
    }
    expect(storedSchedule(home)).toEqual(store);
    const health = await api('GET', '/api/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', pid: daemon.child.pid, port: daemon.port });

    // Wait for the scheduled run through the API, then look with the CLI.
    const deadline = Date.now() + 30_000;
    let status: { lastCompletion: { exitStatus: number; messages: string; started: string } | null; state: string } | undefined;
    while (Date.now() < deadline) {
      status = JSON.parse((await api('GET', '/api/schedule/jobs/Soon/status')).text) as typeof status;
      if (status?.lastCompletion) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status?.lastCompletion).toMatchObject({ exitStatus: 0, messages: 'ran soon' });
    expect(Date.parse(status!.lastCompletion!.started)).toBeGreaterThanOrEqual(start);
    expect((await ok(['schedule', '--status', '50'], { home })).stdout).toMatch(
      /State: +finished\n.*\n {2}Next start: +none\n {2}Last completion: +exit status 0, .*\n {2}Messages:\n {4}ran soon\n$/s,
    );

    // --run goes to the daemon; --wait waits for that run.
    expect((await ok(['schedule', '--run', 'On Demand'], { home })).stdout).toMatch(
      /^Job 51 "On Demand" started by the daemon \(process \d+\)\.\n$/,
    );
    expect((await ok(['schedule', '--wait', '51'], { home })).stdout).toMatch(/^Job 51 "On Demand" ended at .* with exit status 0\.\n$/);
    const jobs = JSON.parse((await api('GET', '/api/schedule/jobs')).text) as { jobs: Array<{ id: number; state: string }> };
    expect(jobs.jobs.map((j) => [j.id, j.state])).toEqual([
      [50, 'finished'],
      [51, 'finished'],
    ]);

    // One daemon per site home.
    const second = await msite(['serve', '--port', '0'], { home });
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`^msite: error: a daemon already serves .* \\(process ${daemon.child.pid}, port ${daemon.port}\\)`),
    );

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    expect(daemon.stderr()).toBe('msite serve: SIGTERM: stopping\n');
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
    expect(readFileSync(ranLog, 'utf8')).toBe('ran soon\nran demand\n');
    const log = readFileSync(join(home, 'log', 'msite-serve.log'), 'utf8');
    expect(log).toContain('"msg":"msite serve started"');
    expect(log).toContain('"msg":"msite serve stopped"');
  });
});
