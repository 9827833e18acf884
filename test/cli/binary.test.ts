import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture } from '../schedule/fixtures.js';
import { BIN, msiteBinary, tempDir } from '../helpers/cli.js';

/** bin/msite.js on the built dist/, as an administrator runs it: real streams, exit status, environment. */
describe('the msite executable', () => {
  const dir = tempDir();
  const home = join(dir, 'home');

  it('runs commands, with --home before or after the command, or $MSITE_HOME and $MSITE_VOB', () => {
    const made = msiteBinary(['--home', home, 'mkvob', '--tag', '/vobs/bin', join(dir, 'bin.vob')]);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^Created VOB "\/vobs\/bin" at .*bin\.vob\n/);
    expect(made.stderr).toBe('');
    expect(msiteBinary(['lsvob', '--home', home]).stdout).toMatch(/^\/vobs\/bin {2}.*bin\.vob {2}original {2}/);
    // $MSITE_HOME and $MSITE_VOB come from the environment.
    expect(msiteBinary(['mklbtype', 'REL1'], { home, env: { MSITE_VOB: '/vobs/bin' } }).status).toBe(0);
    expect(JSON.parse(msiteBinary(['lstype', '--kind', 'lbtype', '--json'], { home }).stdout)).toEqual([
      expect.objectContaining({ name: 'REL1' }),
    ]);
  });

  it('prints one error line and exits 1 on failure, 2 on a usage error, with nothing on stdout', () => {
    const failed = msiteBinary(['cat', 'src/nope.c'], { home: join(dir, 'empty-home') });
    expect(failed.status).toBe(2);
    expect(failed.stderr).toMatch(
      /^msite: error: no VOB given and none is registered in .*empty-home \(name one with --vob TAG\|DIR or \$MSITE_VOB\)\n$/,
    );
    expect(failed.stdout).toBe('');
    const missing = msiteBinary(['ls', '--vob', join(dir, 'nothing-here')], { home });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^msite: error: not a VOB: .*nothing-here/);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    const usage = msiteBinary(['--home', home, 'frobnicate']);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toBe("msite: error: unknown command 'frobnicate' (see msite help frobnicate)\n");
  });

  it('ends quietly, with the status of a SIGPIPE, when its reader closes the pipe early', () => {
    const vob = join(dir, 'pipe.vob');
    expect(msiteBinary(['mkvob', '--tag', '/vobs/pipe', vob], { home }).status).toBe(0);
    const big = join(dir, 'big.txt');
    writeFileSync(big, 'a line of text that goes on\n'.repeat(400_000));
    expect(msiteBinary(['mkelem', '--auto', '--vob', '/vobs/pipe', '--from', big, 'big.txt'], { home }).status).toBe(0);
    const piped = spawnSync(
      'bash',
      ['-c', `"${process.execPath}" "${BIN}" cat --vob /vobs/pipe big.txt | head -c 10; echo " \${PIPESTATUS[0]}"`],
      {
        encoding: 'utf8',
        env: { ...process.env, MSITE_HOME: home },
        shell: false,
      },
    );
    expect(piped.stderr).toBe('');
    expect(piped.stdout).toBe('a line of  141\n');
  });

  it('reads standard input, and knows it is not a terminal', () => {
    const seed = fixture('seed-jobs.txt');
    const set = msiteBinary(['schedule', '--set', '-'], { home: join(dir, 'schedule-home'), stdin: seed });
    expect(set.status, set.stderr).toBe(0);
    expect(set.stdout).toBe('Schedule set: 5 jobs (17, 18, 19, 20, 15).\n');
    // chepoch asks for confirmation, which a pipe cannot give.
    const unconfirmed = msiteBinary(['chepoch', 'original', 'original=1'], { home, stdin: 'yes\n' });
    expect(unconfirmed.status).toBe(2);
    expect(unconfirmed.stderr).toMatch(/Not confirmed \(give --force when not at a terminal\)/);
  });
});
