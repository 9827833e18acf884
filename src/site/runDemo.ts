import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/atomicFile.js';
import { StateError } from '../core/errors.js';
import { processAlive } from '../core/processAlive.js';
import { msiteInvocation } from '../schedule/msiteInvocation.js';
import { receiptHandlerPath } from './receiptHandlerScript.js';
import { describeSite, type SiteDescription } from './describeSite.js';
import { SiteDatabase } from './siteDatabase.js';
import { SiteHome } from './siteHome.js';

/**
 * Runs one msite command (`args`, as typed after `msite`) at the site home `home`; rejects, with what
 * the command said, when it fails. The CLI passes its own `main`, in-process, so each step of the
 * demo is exactly what an administrator would type.
 */
export type DemoCommand = (home: string, args: readonly string[]) => Promise<void>;

export interface DemoOptions {
  /** Default: each command in a child process of the built msite (slower: a Node start each). */
  run?: DemoCommand;
  /** Stops the set-up between two steps (Ctrl-C while it runs): what was made is stopped and removed. */
  signal?: AbortSignal;
  /** Where the temporary directory is made. Default the system's temp directory. */
  tmpDir?: string;
  /**
   * Milliseconds between two scripted changes at random sites once the family runs. Default 4 s; 0
   * makes none (a test waiting for every lag to reach zero).
   */
  changeEveryMs?: number;
  /** Told each line of what the demo does (set-up steps, changes). Default: nothing. */
  say?: (line: string) => void;
  /** How long a daemon has to stop before it is killed. Default 30 s (its own grace is 5 s). */
  stopTimeoutMs?: number;
}

export interface DemoSite {
  /** The replica's name: boston_hub, sanfran_hub, bangalore. */
  name: string;
  /** Its site's host name (site init's): `<name>-host`. */
  host: string;
  home: string;
  /** The dashboard: the daemon's admin listener, `http://127.0.0.1:PORT/`. */
  url: string;
  /** The daemon's peer listener on loopback. */
  peerUrl: string;
  /** The daemon's process. */
  pid: number;
}

export interface Demo {
  /** The temporary directory holding the homes, the VOB storages and the packets carried by hand at set-up. */
  root: string;
  /** The VOB's tag at every site. */
  tag: string;
  sites: DemoSite[];
  /** The three dashboards, in the order of `sites`. */
  urls: string[];
  homes: string[];
  /** Names of the jobs every site runs every minute. */
  jobs: { export: string; poll: string };
  /**
   * Stops the changes, then every daemon (SIGTERM: each stops cleanly), then removes `root` unless
   * `keep`. Calling it again returns the same promise.
   */
  stop(options?: { keep?: boolean }): Promise<void>;
  /** Resolves with a message if a daemon exits while the demo runs (it should not). */
  readonly failed: Promise<string>;
}

export const DEMO_TAG = '/vobs/dev';
export const DEMO_SITES = ['boston_hub', 'sanfran_hub', 'bangalore'] as const;
const EXPORT_JOB = 'Demo Sync Export';
const POLL_JOB = 'Demo Sync Poll';

/**
 * The sites' every-minute jobs: seed 000's job 17 (task 13, `sync_export_list -quiet 1 -all`) with a
 * restart frequency of one minute, and a shipping poll so a delivery that failed is tried again.
 */
const DEMO_JOBS = `Job.Begin
Job.Id: 20
Job.Name: "${EXPORT_JOB}"
Job.Description.Begin:
Every minute, export update packets to all sibling replicas and deliver them.
Job.Description.End:
Job.Schedule.Daily.Frequency: 1
Job.Schedule.FirstStartTime: 00:00:00
Job.Schedule.StartTimeRestartFrequency: 00:01:00
Job.DeleteWhenCompleted: FALSE
Job.Task: 13
Job.Args: -quiet 1 -all
Job.End

Job.Begin
Job.Id: 21
Job.Name: "${POLL_JOB}"
Job.Description.Begin:
Every minute, try again the deliveries that are due.
Job.Description.End:
Job.Schedule.Daily.Frequency: 1
Job.Schedule.FirstStartTime: 00:00:30
Job.Schedule.StartTimeRestartFrequency: 00:01:00
Job.DeleteWhenCompleted: FALSE
Job.Task: 13
Job.Args: -quiet 1 -poll
Job.End
`;

/** The demo was stopped (its AbortSignal) before its set-up was done; nothing of it is left. */
export class DemoStoppedError extends StateError {
  constructor() {
    super('the demo was stopped during its set-up; its homes are removed');
  }
}

/** Runs `msite ARGS --home HOME` in a child process of the built msite; rejects with its error line. */
const childCommand: DemoCommand = (home, args) => {
  const msite = msiteInvocation();
  return new Promise((resolveRun, rejectRun) => {
    const child = spawn(msite.command, [...msite.args, ...args, '--home', home], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
    child.once('error', rejectRun);
    child.once('close', (code) =>
      code === 0 ? resolveRun() : rejectRun(new StateError(`demo step failed: msite ${args.join(' ')}: ${err.trim()}`)),
    );
  });
};

interface Daemon {
  child: ChildProcess;
  exited: Promise<number | null>;
  adminUrl: string;
  peerUrl: string;
}

/**
 * Starts `msite serve` for `home` as a child process on free loopback ports, in its own process
 * group: a Ctrl-C at the terminal reaches the demo only, which then stops each daemon once (a
 * daemon signalled twice exits at once, without its clean stop).
 */
function serve(home: string): Promise<Daemon> {
  const msite = msiteInvocation();
  const child = spawn(msite.command, [...msite.args, 'serve', '--home', home, '--port', '0', '--admin-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    // Stopped with the demo however it ends: a demo killed with SIGKILL cannot stop them itself.
    env: { ...process.env, MSITE_HOME: home, MSITE_STOP_WITH_PARENT: String(process.pid) },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return new Promise((resolveServe, rejectServe) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      const admin = /msite serve: listening on (http:\S+)\n/.exec(out);
      const peer = /msite serve: peers on port (\d+)\n/.exec(out);
      if (admin && peer) resolveServe({ child, exited, adminUrl: `${admin[1]}/`, peerUrl: `https://127.0.0.1:${peer[1]}` });
    });
    child.once('error', rejectServe);
    void exited.then((code) => rejectServe(new StateError(`msite serve for ${home} exited ${code}: ${err.trim()}`)));
  });
}

/** Ends a daemon: SIGTERM (its clean stop), SIGKILL after `timeoutMs`. */
async function stopDaemon(d: Daemon, timeoutMs: number): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  d.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), timeoutMs)));
  if ((await Promise.race([d.exited, late])) === 'late') {
    d.child.kill('SIGKILL');
    await d.exited;
  }
  clearTimeout(timer);
}

/** shipping.conf with its RECEIPT-HANDLER line (site init writes it commented) in force, and `extra` lines added. */
function editShippingConf(homeDir: string, extra: readonly string[]): void {
  const file = join(homeDir, 'shipping.conf');
  const handler = receiptHandlerPath(homeDir);
  const text = readFileSync(file, 'utf8').replace(`#RECEIPT-HANDLER -default ${handler}`, `RECEIPT-HANDLER -default ${handler}`);
  writeFileAtomic(file, `${text}${extra.map((l) => `${l}\n`).join('')}`);
}

/**
 * `msite demo`: three sites (boston_hub, sanfran_hub, bangalore) in temporary homes under one new
 * directory, one VOB family (`/vobs/dev`), each site with its identity and its daemon on loopback.
 * boston_hub and sanfran_hub reach each other directly; bangalore is reached only through a ROUTE via
 * sanfran_hub's host (so what goes between boston_hub and bangalore is sealed for its destination
 * and relayed). Every site imports each packet as it arrives (RECEIPT-HANDLER) and exports to its
 * siblings every minute (job "Demo Sync Export"). A little scripted work at each site, seed 002's
 * label-type clash among it (boston_hub and sanfran_hub both make V2.0: the one imported second is
 * renamed with a warning), then a new change every few seconds at a random site until `stop`.
 *
 * The daemons are child `msite serve` processes, as at real sites: each has its own claim on its
 * home, signal handling and scheduler, and stopping one is exactly `kill PID`.
 *
 * @throws StateError when a step fails (what is set up so far is stopped and removed).
 */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const say = options.say ?? (() => {});
  const root = mkdtempSync(join(options.tmpDir ?? tmpdir(), 'msite-demo-'));
  const homes = DEMO_SITES.map((name) => join(root, name));
  const [boston, sanfran, bangalore] = homes as [string, string, string];
  const daemons: Daemon[] = [];
  const stopTimeoutMs = options.stopTimeoutMs ?? 30_000;
  let serial = 0;
  /** A file holding `text`, for `--from` (commands read contents from files). */
  const file = (text: string): string => {
    const dir = join(root, 'files');
    mkdirSync(dir, { recursive: true });
    const p = join(dir, `f${++serial}`);
    writeFileSync(p, text);
    return p;
  };
  const run = options.run ?? childCommand;
  let settingUp = true;
  const at = async (home: string, ...args: string[]): Promise<void> => {
    if (settingUp && options.signal?.aborted) throw new DemoStoppedError();
    say(`[${home.slice(root.length + 1)}]$ msite ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
    await run(home, args);
  };
  const cleanUp = async (keep: boolean): Promise<void> => {
    await Promise.all(daemons.map((d) => stopDaemon(d, stopTimeoutMs)));
    if (keep) return;
    // Receipt handlers run detached from their daemon and may still be importing: let them finish
    // rather than pull their home from under them.
    const deadline = Date.now() + stopTimeoutMs;
    while (Date.now() < deadline && homes.some(importing)) await new Promise((r) => setTimeout(r, 100));
    // Retried: a handler that just ended may still be closing its files. A handler spawned just before
    // its daemon stopped may not hold its lock yet and write into its home after the removal (seen on a
    // loaded machine): remove again until the directory stays gone for half a second.
    for (;;) {
      try {
        rmSync(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
      } catch (err) {
        if (Date.now() >= deadline) throw err;
      }
      await new Promise((r) => setTimeout(r, 500));
      if (!existsSync(root) || Date.now() >= deadline) break;
    }
  };

  try {
    say('# One VOB at boston_hub, with a little history.');
    const storage = (name: string): string => join(root, 'vobs', `${name}.vob`);
    mkdirSync(join(root, 'vobs'));
    await at(boston, 'mkvob', '--tag', DEMO_TAG, '--replica', 'boston_hub', '--host', 'boston_hub-host', storage('boston_hub'));
    await at(boston, 'mkdir', '--auto', '-c', 'sources', 'src');
    await at(boston, 'mkelem', '--auto', '--from', file('int main(void) { return 0; }\n'), '-c', 'first cut', 'src/main.c');
    await at(boston, 'checkout', 'src/main.c');
    await at(boston, 'checkin', '--from', file('int main(void) { return 1; }\n'), '-c', 'exit 1', 'src/main.c');
    await at(boston, 'mklbtype', 'REL1');
    await at(boston, 'mklabel', 'REL1', 'src/main.c');

    say('# Two more replicas, each made from a signed creation packet carried by hand.');
    for (const [i, name] of (['sanfran_hub', 'bangalore'] as const).entries()) {
      const out = join(root, 'carried', name);
      mkdirSync(out, { recursive: true });
      await at(boston, 'mkreplica', '--export', '--out', out, `${name}-host:${name}`);
      const packet = join(out, readdirSync(out)[0]!);
      await at(homes[i + 1]!, 'mkreplica', '--import', '--tag', DEMO_TAG, storage(name), packet);
    }
    // sanfran_hub, made first, learns of bangalore's replica from boston_hub.
    const learn = join(root, 'carried', 'learn');
    mkdirSync(learn);
    await at(boston, 'syncreplica', '--export', '--out', learn, 'sanfran_hub');
    await at(sanfran, 'syncreplica', '--import', learn);

    say('# Each site: its identity, its daemon on loopback, its peers, and its jobs.');
    const shown = new Map<string, SiteDescription>();
    for (const [i, name] of DEMO_SITES.entries()) {
      await at(homes[i]!, 'site', 'init', '--host', `${name}-host`, '--listen', '127.0.0.1');
      shown.set(name, describeSite(SiteHome.locate(homes[i], {}, root)));
    }
    const started = await Promise.allSettled(homes.map(serve));
    for (const r of started) if (r.status === 'fulfilled') daemons.push(r.value);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [bostonD, sanfranD, bangaloreD] = daemons as [Daemon, Daemon, Daemon];
    const peer = async (home: string, name: string, d: Daemon): Promise<void> => {
      const s = shown.get(name)!;
      await at(home, 'site', 'peer', `${name}-host`, d.peerUrl, s.publicKey, ...(s.recipient ? [s.recipient] : []));
    };
    await peer(boston, 'sanfran_hub', sanfranD);
    await peer(boston, 'bangalore', bangaloreD);
    await peer(sanfran, 'boston_hub', bostonD);
    await peer(sanfran, 'bangalore', bangaloreD);
    await peer(bangalore, 'sanfran_hub', sanfranD);
    await peer(bangalore, 'boston_hub', bostonD);
    editShippingConf(boston, ['ROUTE sanfran_hub-host bangalore-host']);
    editShippingConf(sanfran, []);
    editShippingConf(bangalore, ['ROUTE sanfran_hub-host boston_hub-host']);
    const jobs = file(DEMO_JOBS);
    for (const home of homes) await at(home, 'schedule', '--set', jobs);

    say('# A little work at each site on its own branch, and two label types named V2.0 (seed 002).');
    for (const [home, name] of [
      [sanfran, 'sanfran_hub'],
      [bangalore, 'bangalore'],
    ] as const) {
      await at(home, 'mkbrtype', '-c', `${name} development`, `${name}_dev`);
      await at(home, 'mkbranch', `${name}_dev`, 'src/main.c');
      await at(home, 'checkout', `src/main.c@@/main/${name}_dev`);
      await at(home, 'checkin', '--from', file(`int main(void) { return 2; } /* ${name} */\n`), '-c', `${name} fix`, 'src/main.c');
    }
    for (const [home, name] of [
      [boston, 'boston_hub'],
      [sanfran, 'sanfran_hub'],
      [bangalore, 'bangalore'],
    ] as const) {
      await at(home, 'mklbtype', latestLabel(name));
      await at(home, 'mklabel', latestLabel(name), latestPath(name));
    }
    await at(boston, 'mklbtype', '-c', 'release 2.0 (boston)', 'V2.0');
    await at(sanfran, 'mklbtype', '-c', 'release 2.0 (sanfran)', 'V2.0');
  } catch (err) {
    await cleanUp(false);
    throw err;
  }
  settingUp = false;

  const sites: DemoSite[] = DEMO_SITES.map((name, i) => ({
    name,
    host: `${name}-host`,
    home: homes[i]!,
    url: daemons[i]!.adminUrl,
    peerUrl: daemons[i]!.peerUrl,
    pid: daemons[i]!.child.pid!,
  }));

  // A change every few seconds at a random site: a checkin on its branch, every other one also moving
  // its _LATEST label there. One at a time; a failure (a busy VOB) is told and the next one goes on.
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let changes = 0;
  const change = async (): Promise<void> => {
    const i = Math.floor(Math.random() * DEMO_SITES.length);
    const name = DEMO_SITES[i]!;
    const home = homes[i]!;
    changes++;
    try {
      await at(home, 'checkout', branchPath(name));
      await at(home, 'checkin', '--from', file(`/* change ${changes} at ${name} */\n`), '-c', `change ${changes}`, 'src/main.c');
      if (changes % 2 === 0) await at(home, 'mklabel', '--replace', latestLabel(name), latestPath(name));
    } catch (err) {
      say(`# change ${changes} at ${name} failed: ${(err as Error).message}`);
      await run(home, ['uncheckout', branchPath(name)]).catch(() => undefined);
    }
  };
  const every = options.changeEveryMs ?? 4_000;
  const next = (): void => {
    if (stopping || every === 0) return;
    timer = setTimeout(() => {
      running = change().finally(next);
    }, every);
  };
  next();

  const failed = Promise.race(
    daemons.map((d, i) =>
      d.exited.then((code) =>
        // Exits the demo's own stop asked for are not failures: this promise then never settles.
        stopping ? new Promise<string>(() => {}) : `the daemon of ${DEMO_SITES[i]} exited ${code} (see ${join(homes[i]!, 'log')})`,
      ),
    ),
  );
  let stopped: Promise<void> | undefined;
  return {
    root,
    tag: DEMO_TAG,
    sites,
    urls: sites.map((s) => s.url),
    homes: [...homes],
    jobs: { export: EXPORT_JOB, poll: POLL_JOB },
    failed,
    stop: (stopOptions = {}) => {
      stopped ??= (async () => {
        stopping = true;
        clearTimeout(timer);
        await running;
        await cleanUp(stopOptions.keep ?? false);
      })();
      return stopped;
    },
  };
}

/** Whether a live process holds one of the home's VOB locks (a sync_receive or sync_export_list). */
function importing(homeDir: string): boolean {
  if (!existsSync(join(homeDir, 'site.db'))) return false;
  const site = SiteDatabase.open(homeDir);
  try {
    const pids = site.db.prepare('SELECT pid FROM vob_lock').pluck().all() as number[];
    return pids.some((pid) => processAlive(pid));
  } finally {
    site.close();
  }
}

/** The branch a site works on: boston_hub on /main, the others on their own. */
function branchPath(name: string): string {
  return name === 'boston_hub' ? 'src/main.c' : `src/main.c@@/main/${name}_dev`;
}

/** The latest version on a site's branch. */
function latestPath(name: string): string {
  return name === 'boston_hub' ? 'src/main.c@@/main/LATEST' : `src/main.c@@/main/${name}_dev/LATEST`;
}

/** The label type each site moves to its latest version. */
function latestLabel(name: string): string {
  return `${name.replace(/_hub$/, '').toUpperCase()}_LATEST`;
}
