import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, msite, ok, tempDir } from '../helpers/cli.js';
import { family } from '../helpers/sites.js';
import { snapshot } from '../helpers/snapshot.js';

/**
 * Runs the built CLI with a time limit, for failures whose regression is a hang (a FIFO read, a
 * daemon that serves instead of failing): the child is killed and the test fails instead of waiting.
 */
function bounded(args: readonly string[], home: string, timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, MSITE_HOME: home };
  delete env.MSITE_VOB;
  const r = spawnSync(process.execPath, [BIN, ...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL' });
  return { status: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

/** One error line and nothing more on stderr. */
const ONE_LINE = /^msite: error: [^\n]*\n$/;

const sha = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

describe('files that are not packets, though named like one', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const vobDir = join(dir, 'a.vob');
  const bay = join(dir, 'bay');
  const fifo = join(bay, 'sync_x_2026-11-22T095226Z_1_1');
  const folder = join(bay, 'sync_x_2026-11-22T095226Z_1_2');
  let socketServer: Server;

  beforeAll(async () => {
    await ok(['mkvob', '--tag', 'a', vobDir], { home });
    mkdirSync(bay);
    execFileSync('mkfifo', [fifo]);
    mkdirSync(folder);
    socketServer = createServer();
    await new Promise<void>((resolve) => socketServer.listen(join(bay, 'sync_x_2026-11-22T095226Z_1_3'), resolve));
  });
  afterAll(() => new Promise<void>((resolve) => socketServer.close(() => resolve())));

  it('syncreplica --import refuses a FIFO with one line, at once, changing nothing', () => {
    const before = snapshot(vobDir);
    const r = bounded(['syncreplica', '--import', fifo], home);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${fifo} is not a packet: it is a FIFO`);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(snapshot(vobDir)).toEqual(before);
  });

  it('a directory scan reports each non-regular file as not a packet, without opening it', () => {
    const before = snapshot(vobDir);
    const diagnose = bounded(['syncreplica', '--import', '--diagnose', bay], home);
    expect(diagnose.status).toBe(0);
    expect(diagnose.stdout).toContain(`${fifo}: refused: ${fifo} is not a packet: it is a FIFO`);
    expect(diagnose.stdout).toContain(`${folder}: refused: ${folder} is not a packet: it is a directory`);
    expect(diagnose.stdout).toMatch(/is not a packet: it is a socket/);
    const list = bounded(['lspacket', bay], home);
    expect(list.status).toBe(0);
    expect(list.stdout).toContain(`Cannot read it: ${fifo} is not a packet: it is a FIFO`);
    const one = bounded(['lspacket', '--json', fifo], home);
    expect(one.status).toBe(0);
    expect(one.stdout).toContain('is not a packet: it is a FIFO');
    const imported = bounded(['syncreplica', '--import', bay], home);
    expect(imported.status).toBe(1);
    expect(imported.stderr).toMatch(ONE_LINE);
    expect(snapshot(vobDir)).toEqual(before);
  });

  it('syncreplica --import --receive refuses a FIFO in an incoming bay and leaves it there', () => {
    const incoming = join(home, 'shipping', 'ms_ship', 'incoming');
    mkdirSync(incoming, { recursive: true });
    const delivered = join(incoming, 'sync_x_2026-11-22T095226Z_1_9');
    execFileSync('mkfifo', [delivered]);
    const before = snapshot(vobDir);
    const r = bounded(['syncreplica', '--import', '--receive'], home);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(`${delivered} is not a packet: it is a FIFO`);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(statSync(delivered).isFIFO()).toBe(true);
    expect(snapshot(vobDir)).toEqual(before);
  });
});

describe('opening a VOB changes nothing unless the command writes', () => {
  const dir = tempDir();
  const home = join(dir, 'home');

  it('refuses a 0-byte vob.db, naming it, and leaves it 0 bytes', async () => {
    const empty = join(dir, 'empty.vob');
    mkdirSync(empty);
    writeFileSync(join(empty, 'vob.db'), '');
    for (const args of [
      ['lstype', '--kind', 'brtype'],
      ['mkbrtype', 'dev'],
    ]) {
      const r = await msite([...args, '--vob', empty], { home });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.stderr).toContain(`${join(empty, 'vob.db')} is empty`);
    }
    expect(statSync(join(empty, 'vob.db')).size).toBe(0);
    expect(readdirSync(empty)).toEqual(['vob.db']);
  });

  it('leaves an SQLite database that is not a VOB byte-identical, even for a command that writes', async () => {
    const foreign = join(dir, 'foreign.vob');
    mkdirSync(foreign);
    const db = new BetterSqlite3(join(foreign, 'vob.db'));
    db.exec('CREATE TABLE other (x)');
    db.close();
    const before = sha(join(foreign, 'vob.db'));
    for (const args of [['lstype', '--kind', 'brtype'], ['mkbrtype', 'dev'], ['ls']]) {
      const r = await msite([...args, '--vob', foreign], { home });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^msite: error: not a VOB: /);
    }
    expect(sha(join(foreign, 'vob.db'))).toBe(before);
    expect(readdirSync(foreign)).toEqual(['vob.db']);
  });

  it('a read-only command opens a current VOB read-only: its database is not written', async () => {
    const cur = join(dir, 'current.vob');
    await ok(['mkvob', '--tag', 'cur', cur], { home });
    await ok(['mkbrtype', '--vob', cur, 'dev'], { home });
    // Fold the write-ahead log into the database, so any later write would change the file itself.
    const db = new BetterSqlite3(join(cur, 'vob.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = sha(join(cur, 'vob.db'));
    for (const args of [['lstype', '--kind', 'brtype'], ['lsreplica'], ['lshistory'], ['lsepoch'], ['describe', 'brtype:dev'], ['ls']]) {
      await ok([...args, '--vob', cur], { home });
    }
    expect(sha(join(cur, 'vob.db'))).toBe(before);
    expect(existsSync(join(cur, 'vob.db-wal')) ? statSync(join(cur, 'vob.db-wal')).size : 0).toBe(0);
  });
});

describe('a site home msite may not write', () => {
  const dir = tempDir();

  it('names the path that cannot be written, in one line (a parent that is a file: fails for root too)', async () => {
    writeFileSync(join(dir, 'plainfile'), 'x');
    const home = join(dir, 'plainfile', 'home');
    const r = await msite(['mkvob', '--tag', 't', join(dir, 't.vob')], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.stderr).toContain(home);
    expect(r.stderr).toMatch(/not a directory/);
  });

  // chmod does not stop root, so as root the home is made immutable (chattr +i), which does;
  // where neither is possible the test is skipped, and test/core/errors.test.ts covers the mapping.
  const home = join(dir, 'locked');
  mkdirSync(home);
  const root = process.getuid?.() === 0;
  const locked = ((): boolean => {
    if (!root) {
      execFileSync('chmod', ['0555', home]);
      return true;
    }
    try {
      execFileSync('chattr', ['+i', home], { stdio: 'ignore' });
    } catch {
      return false;
    }
    afterAll(() => execFileSync('chattr', ['-i', home], { stdio: 'ignore' }));
    return true;
  })();

  it.skipIf(!locked)('says which path cannot be written, not "internal error: EACCES"', async () => {
    const r = await msite(['mkvob', '--tag', 't', join(home, 't.vob')], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).not.toMatch(/internal error|EACCES|EPERM/);
    expect(r.stderr).toMatch(new RegExp(`^msite: error: cannot [a-z ]+ ${home}\\S*: permission denied \\(`));
    expect(readdirSync(home)).toEqual([]);
  });
});

describe('control characters in names', () => {
  const dir = tempDir();
  const home = join(dir, 'home');
  const from = join(dir, 'content');

  beforeAll(async () => {
    await ok(['mkvob', '--tag', 'c', join(dir, 'c.vob')], { home });
    writeFileSync(from, 'x\n');
  });

  it.each([
    ['an element name with a newline', ['mkelem', '--auto', '--from', from, 'a\nb.c'], /invalid element name "a\\nb\.c"/],
    ['an element name with an escape', ['mkdir', '--auto', 'x\u001b[31m'], /invalid element name "x\\x1b\[31m"/],
    ['a type name with a newline', ['mkbrtype', 'dev\nfake'], /invalid brtype name "dev\\nfake"/],
    ['a label type with a tab', ['mklbtype', 'REL\t1'], /invalid lbtype name "REL\\t1"/],
    ['a VOB tag with an escape', ['mkvob', '--tag', 'v\u001b', join(dir, 'v.vob')], /invalid VOB tag "v\\x1b"/],
    ['a replica name with a newline', ['mkvob', '--tag', 'w', '--replica', 'r\nx', join(dir, 'w.vob')], /invalid replica name "r\\nx"/],
    ['a comment with an escape', ['mkbrtype', '-c', 'see \u001b[2J', 'dev'], /invalid comment "see \\x1b\[2J"/],
  ])('refuses %s, on one line, changing nothing', async (_what, args, message) => {
    const before = snapshot(join(dir, 'c.vob'));
    const r = await msite(args, { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).toMatch(message);
    expect(snapshot(join(dir, 'c.vob'))).toEqual(before);
    expect(existsSync(join(dir, 'v.vob')) || existsSync(join(dir, 'w.vob'))).toBe(false);
  });

  it('keeps a comment on several lines, as MultiSite does', async () => {
    await ok(['mkbrtype', '-c', 'first line\nsecond\tline', 'multi'], { home });
    const types = (await ok(['lstype', '--kind', 'brtype', '--json'], { home })).stdout;
    expect((JSON.parse(types) as { name: string; comment: string }[]).find((t) => t.name === 'multi')!.comment).toBe(
      'first line\nsecond\tline',
    );
  });

  it('prints a usage error holding a control character on one line too', async () => {
    const r = await msite(['lstype', '--kind', 'br\ntype'], { home });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).toContain('"br\\ntype"');
  });
});

describe('temp files left by a killed export', () => {
  const dir = tempDir();

  it('are removed by the next export into that directory, and only those', async () => {
    const [a] = await family(dir, ['a', 'b']);
    const out = join(dir, 'outgoing');
    mkdirSync(out);
    const dead = spawnSync('true').pid;
    const here = hostname();
    const name = (pid: number, host: string) => `.sync_a_2026-11-22T095226Z_${pid}_1~msite-tmp~${pid}~${host}~1`;
    const orphan = name(dead, here);
    const running = name(process.pid, here);
    const elsewhereOld = name(4242, 'another-host');
    const elsewhereNew = name(4243, 'another-host');
    const notOurs = '.sync_a_2026-11-22T095226Z_1_1.tmp';
    for (const n of [orphan, running, elsewhereOld, elsewhereNew, notOurs]) writeFileSync(join(out, n), 'half a packet');
    const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    utimesSync(join(out, elsewhereOld), twoDaysAgo, twoDaysAgo);
    await a!.run('mkbrtype', 'dev');
    const r = await a!.run('syncreplica', '--export', '--out', out, 'b');
    expect(r.stderr).toContain(`removed ${join(out, orphan)}`);
    const left = readdirSync(out);
    expect(left).not.toContain(orphan);
    expect(left).not.toContain(elsewhereOld);
    expect(left).toEqual(expect.arrayContaining([running, elsewhereNew, notOurs]));
    expect(left.filter((n) => n.startsWith('sync_'))).toHaveLength(1);
  });
});

describe('msite serve on a port in use', () => {
  const dir = tempDir();
  let taken: Server;
  let port = 0;

  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('fails with one line, exit 1, before creating anything in the home', () => {
    const home = join(dir, 'fresh-home');
    const r = bounded(['serve', '--port', '0', '--admin-port', String(port)], home, 20_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use`);
    expect(existsSync(home)).toBe(false);
  });

  it('leaves an existing home as it was', async () => {
    const home = join(dir, 'home');
    await ok(['mkvob', '--tag', 's', join(dir, 's.vob')], { home });
    const before = readdirSync(home).sort();
    const r = bounded(['serve', '--port', '0', '--admin-port', String(port)], home, 20_000);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(readdirSync(home).sort()).toEqual(before);
  });
});
