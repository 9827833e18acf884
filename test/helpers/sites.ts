import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { json, msite, ok, type RunResult } from './cli.js';

/** One site home with one replica of the test VOB, driven through the CLI (in-process). */
export interface Site {
  name: string;
  home: string;
  /** Where this site writes packets it exports. */
  outbox: string;
  run(...args: string[]): Promise<RunResult>;
  try(...args: string[]): Promise<RunResult>;
  json<T = unknown>(...args: string[]): Promise<T>;
  /** Exports what `targets` lack into a fresh directory of this site's outbox; returns the packet paths. */
  exportTo(...targets: string[]): Promise<string[]>;
}

let batch = 0;

export function site(root: string, name: string): Site {
  const home = join(root, name);
  const outbox = join(root, `${name}-out`);
  mkdirSync(outbox, { recursive: true });
  const s: Site = {
    name,
    home,
    outbox,
    run: (...args) => ok(args, { home }),
    try: (...args) => msite(args, { home }),
    json: (...args) => json(args, { home }),
    async exportTo(...targets) {
      const dir = join(outbox, `b${++batch}`);
      mkdirSync(dir);
      const r = await s.json<{ packets: string[] }>('syncreplica', '--export', '--out', dir, ...targets);
      return r.packets;
    },
  };
  return s;
}

/**
 * A VOB family of replicas: the first site makes the VOB, and each other site imports a creation
 * packet exported by the first.
 */
export async function family(root: string, names: readonly string[], options: { policy?: string } = {}): Promise<Site[]> {
  const [first, ...rest] = names.map((n) => site(root, n));
  await first!.run(
    'mkvob',
    '--tag',
    '/vobs/dev',
    '--replica',
    first!.name,
    ...(options.policy ? ['--name-policy', options.policy] : []),
    join(root, `${first!.name}.vob`),
  );
  for (const s of rest) {
    const dir = join(root, `${s.name}-creation`);
    mkdirSync(dir);
    const { packets } = await first!.json<{ packets: string[] }>('mkreplica', '--export', '--out', dir, `${s.name}-host:${s.name}`);
    await s.run('mkreplica', '-import', '-tag', '/vobs/dev', '-vob', join(root, `${s.name}.vob`), packets[0]!);
  }
  // Replicas made earlier learn of the later ones (their replica objects) from the first site.
  for (const s of rest) {
    const packets = await first!.exportTo(s.name);
    if (packets.length) await s.run('syncreplica', '--import', ...packets);
  }
  return [first!, ...rest];
}

/** Types of one kind at a site, as `name=oid` pairs sorted by name. */
export async function typeNames(s: Site, kind: string): Promise<string[]> {
  return (await s.json<{ name: string; oid: string }[]>('lstype', '--kind', kind)).map((t) => `${t.name}=${t.oid}`).sort();
}
