import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { json, msite, ok, tempDir } from '../helpers/cli.js';

/**
 * Commands run in the calling process take everything from their Io: the site home from --home or
 * the Io's environment, relative paths from the Io's working directory; and they leave nothing open.
 */
describe('commands run in-process', () => {
  const root = tempDir();

  it('take --home and --debug before the command as well as after it', async () => {
    const home = join(root, 'before-home');
    await ok(['--home', home, 'mkvob', '--tag', '/vobs/b', join(root, 'before.vob')]);
    await ok(['--home', home, '--debug', 'mklbtype', 'ONE']);
    await ok(['-home', home, 'mklbtype', '-c', 'one dash', 'TWO']);
    await ok(['--home=' + home, 'mklbtype', 'THREE']);
    expect((await json<{ name: string }[]>(['--home', home, 'lstype', '--kind', 'lbtype'])).map((t) => t.name)).toEqual([
      'ONE',
      'THREE',
      'TWO',
    ]);
    expect(await json(['--home', home, 'lsvob'])).toEqual(await json(['lsvob', '--home', home]));
    // The home given on the command line wins over $MSITE_HOME, wherever it stands.
    expect((await ok(['--home', home, 'lsvob'], { home: join(root, 'elsewhere') })).stdout).toContain('/vobs/b');
    const unknown = await msite(['--home', home, 'frobnicate']);
    expect(unknown).toMatchObject({ status: 2, stderr: "msite: error: unknown command 'frobnicate' (see msite help frobnicate)\n" });
    const usage = await msite(['--home', home, 'lstype', '--kind', 'widget']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/^msite: error: bad --kind "widget"/);
  });

  it('resolve relative paths against the working directory they are given', async () => {
    const cwd = join(root, 'work');
    mkdirSync(join(cwd, 'in'), { recursive: true });
    writeFileSync(join(cwd, 'in', 'a.c'), 'int a;\n');
    writeFileSync(join(cwd, 'in', 'dev.cs'), 'element * CHECKEDOUT\nelement * /main/LATEST\n');
    const at = { cwd };
    const made = await json<{ path: string }>(['mkvob', '--home', 'boston', '--tag', '/vobs/rel', '--replica', 'boston', 'boston.vob'], at);
    expect(made.path).toBe(join(cwd, 'boston.vob'));
    await ok(['mkdir', '--home', 'boston', '--auto', 'src'], at);
    await ok(['mkelem', '--home', 'boston', '--auto', '--from', 'in/a.c', '--config', 'in/dev.cs', 'src/a.c'], at);
    // $MSITE_HOME relative to the working directory, too.
    const rel = { cwd, env: { MSITE_HOME: 'boston' } };
    expect((await ok(['cat', 'src/a.c'], rel)).stdout).toBe('int a;\n');
    expect((await ok(['ls', '--vob', './boston.vob', 'src'], rel)).stdout).toContain('src/a.c@@/main/1');

    mkdirSync(join(cwd, 'for-sanfran'));
    await ok(['mkreplica', '--export', '--out', 'for-sanfran', 'sf-host:sanfran'], rel);
    const [creation] = readdirSync(join(cwd, 'for-sanfran'));
    await ok(['mkreplica', '--import', '--home', 'sanfran', '--tag', '/vobs/rel', 'sanfran.vob', `for-sanfran/${creation}`], at);
    await ok(['mklbtype', 'AFTER'], rel);
    mkdirSync(join(cwd, 'to-sanfran'));
    await ok(['syncreplica', '--export', '--out', 'to-sanfran', 'sanfran'], rel);
    const packets = readdirSync(join(cwd, 'to-sanfran')).map((p) => `to-sanfran/${p}`);
    expect(await json<{ importable: boolean }[]>(['lspacket', '--home', 'sanfran', ...packets], at)).toEqual([
      expect.objectContaining({ importable: true }),
    ]);
    await ok(['syncreplica', '--home', 'sanfran', '--import', 'to-sanfran'], at);
    expect((await ok(['cat', '--home', 'sanfran', 'src/a.c'], at)).stdout).toBe('int a;\n');
    expect(await json(['lstype', '--home', 'sanfran', '--kind', 'lbtype'], at)).toEqual([expect.objectContaining({ name: 'AFTER' })]);
    expect((await msite(['mkelem', '--home', 'sanfran', '--auto', '--from', 'in/nope', 'src/b.c'], at)).stderr).toMatch(
      /cannot read --from file in\/nope: no such file/,
    );
  });

  it('take the VOB from $MSITE_VOB of their environment when several are registered', async () => {
    const home = join(root, 'several');
    await ok(['mkvob', '--tag', 'one', join(root, 'one.vob')], { home });
    await ok(['mkvob', '--tag', 'two', join(root, 'two.vob')], { home });
    expect((await msite(['mklbtype', 'X'], { home })).stderr).toMatch(/no VOB given and several are registered/);
    await ok(['mklbtype', 'X'], { home, env: { MSITE_VOB: 'two' } });
    expect(await json(['lstype', '--kind', 'lbtype', '--vob', 'one'], { home })).toEqual([]);
    expect(await json(['lstype', '--kind', 'lbtype', '--vob', 'two'], { home })).toEqual([expect.objectContaining({ name: 'X' })]);
  });

  it('give their environment to the programs they start: jobs, notifications, the editor', async () => {
    const home = join(root, 'env-home');
    const log = join(root, 'env.log');
    const script = join(root, 'env.sh');
    writeFileSync(script, `#!/bin/sh\necho "$1 $GREETING" >> ${log}\n`, { mode: 0o755 });
    mkdirSync(home);
    writeFileSync(join(home, 'shipping.conf'), `ADMINISTRATOR admin@site.example\nNOTIFICATION-PROGRAM ${script}\n`);
    const definition =
      `Task.Begin\nTask.Name: "Env"\nTask.Pathname: ${script}\nTask.End\n` +
      'Job.Begin\nJob.Id: 7\nJob.Name: "Env"\nJob.Schedule.Daily.Frequency: 1\nJob.Schedule.FirstStartTime: 03:00:00\nJob.Task: "Env"\nJob.Args: job\nJob.NotifyInfo.OnEvents: JobDeleted\nJob.End\n';
    const env = { GREETING: 'hello from the Io' };
    await ok(['schedule', '--set', '-'], { home, env, stdin: definition });
    await ok(['schedule', '--run', '7'], { home, env });
    await ok(['schedule', '--edit'], { home, env: { ...env, EDITOR: `${script} editor` } });
    await ok(['schedule', '--delete', '7'], { home, env });
    expect(readFileSync(log, 'utf8').split('\n')).toEqual([
      'job hello from the Io',
      'editor hello from the Io',
      '-s hello from the Io',
      '',
    ]);
  });

  it('leave no file open and nothing running, however they end', async () => {
    const home = join(root, 'leaks');
    const out = join(root, 'leaks-out');
    mkdirSync(out);
    await ok(['mkvob', '--tag', '/vobs/l', '--replica', 'boston', join(root, 'leaks.vob')], { home });
    await ok(['mkreplica', '--export', '--out', out, 'h:sanfran'], { home });
    const job =
      'Job.Begin\nJob.Id: 1\nJob.Name: "True"\nJob.Schedule.Daily.Frequency: 1\nJob.Schedule.FirstStartTime: 03:00:00\nJob.Task: "True"\nJob.End\n';
    await ok(['schedule', '--set', '-'], { home, stdin: `Task.Begin\nTask.Name: "True"\nTask.Pathname: /bin/true\nTask.End\n${job}` });
    const round = async (i: number): Promise<void> => {
      await ok(['mklbtype', `L${i}`], { home });
      await ok(['lstype', '--kind', 'lbtype'], { home });
      await ok(['lsvob'], { home });
      await ok(['lsepoch'], { home });
      await ok(['syncreplica', '--export', '--out', join(out, `p${i}`), 'sanfran'], { home });
      await ok(['lspacket', join(out, `p${i}`)], { home });
      await ok(['schedule', '--get'], { home });
      await ok(['schedule', '--run', 'True'], { home });
      await ok(['schedule', '--wait', '1'], { home });
      expect((await msite(['mklbtype', `L${i}`], { home })).status).toBe(1);
      expect((await msite(['cat', 'nothing'], { home })).status).toBe(1);
      expect((await msite(['syncreplica', '--import', join(out, `p${i}`)], { home })).status).toBe(1);
      expect((await msite(['lstype', '--kind'], { home })).status).toBe(2);
    };
    /** Open files, and the handles and timers the event loop holds, by kind. */
    const held = (): Map<string, number> => {
      const kinds = [...readdirSync('/proc/self/fd').map(() => 'file'), ...process.getActiveResourcesInfo()];
      return kinds.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>());
    };
    const rounds = 15;
    await round(0);
    const before = held();
    for (let i = 1; i <= rounds; i++) await round(i);
    // The test runner's own timers and pipes come and go; what the commands left would grow with the rounds.
    for (const [kind, n] of held()) expect(n - (before.get(kind) ?? 0), kind).toBeLessThan(rounds);
  });
});
