import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MsiteError } from '../../src/core/errors.js';
import { actualRow, setEstimate } from '../../src/replication/epochs.js';
import { exportUpdate } from '../../src/replication/exportUpdate.js';
import { importPackets } from '../../src/replication/importPackets.js';
import { exportReplica, importReplica } from '../../src/replication/mkreplica.js';
import { mkvob } from '../../src/replication/mkvob.js';
import { mklabel } from '../../src/vob/commands/annotations.js';
import { checkin, checkout } from '../../src/vob/commands/checkouts.js';
import { chmaster } from '../../src/vob/commands/chmaster.js';
import { mkelem } from '../../src/vob/commands/elements.js';
import { mktype, rename } from '../../src/vob/commands/types.js';
import { readOplog } from '../../src/vob/ops/applyOp.js';
import type { Vob } from '../../src/vob/vob.js';

/** One thing that happens in a run: a change at a replica, an export over a link, or an import. */
type Step =
  | { t: 'mktype'; at: number; name: number }
  | { t: 'rename'; at: number; name: number; to: number }
  | { t: 'file'; at: number; file: number; text: string }
  | { t: 'label'; at: number; name: number; file: number }
  | { t: 'export'; link: number; drop: boolean; dup: boolean }
  | { t: 'import'; at: number; pick: number };

const step = (replicas: number): fc.Arbitrary<Step> =>
  fc.oneof(
    fc.record({ t: fc.constant('mktype' as const), at: fc.nat(replicas - 1), name: fc.nat(3) }),
    fc.record({ t: fc.constant('rename' as const), at: fc.nat(replicas - 1), name: fc.nat(3), to: fc.nat(3) }),
    fc.record({ t: fc.constant('file' as const), at: fc.nat(replicas - 1), file: fc.nat(2), text: fc.string({ maxLength: 40 }) }),
    fc.record({ t: fc.constant('label' as const), at: fc.nat(replicas - 1), name: fc.nat(3), file: fc.nat(2) }),
    fc.record({ t: fc.constant('export' as const), link: fc.nat(20), drop: fc.boolean(), dup: fc.boolean() }),
    fc.record({ t: fc.constant('import' as const), at: fc.nat(replicas - 1), pick: fc.nat(5) }),
  );

const scenario = fc.integer({ min: 3, max: 4 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    // A random spanning tree (each replica i > 0 links to one before it) plus random extra links.
    tree: fc.tuple(...Array.from({ length: n - 1 }, (_, i) => fc.nat(i))),
    extra: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 }),
    policy: fc.constantFrom('rename', 'converge'),
    steps: fc.array(step(n), { minLength: 5, maxLength: 40 }),
  }),
);

/** Everything that must agree between replicas, by OID; names too under `converge`. */
function state(vob: Vob, withNames: boolean): unknown {
  const all = (sql: string) => vob.db.prepare(sql).all();
  return {
    types: all(`SELECT oid, kind, master, shared ${withNames ? ', name' : ''} FROM type ORDER BY oid`),
    replicas: all(`SELECT oid, master, host ${withNames ? ', name' : ''} FROM replica ORDER BY oid`),
    elements: all('SELECT oid, kind, master FROM element ORDER BY oid'),
    branches: all('SELECT oid, element, brtype, master, last_number FROM branch ORDER BY oid'),
    versions: all('SELECT oid, branch, number, content FROM version ORDER BY oid'),
    dirents: all('SELECT version, name, element FROM dirent ORDER BY version, name'),
    labels: all('SELECT lbtype, element, version FROM label ORDER BY lbtype, element'),
    oplog: readOplog(vob)
      .map((e) => `${e.origin}:${e.id}:${e.kind}`)
      .sort(),
    actual: actualRow(vob),
  };
}

function attempt(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    // Random steps often ask for what cannot be done (not master, name taken): that is refused, and fine.
    if (!(err instanceof MsiteError)) throw err;
  }
}

describe('convergence under loss, duplication and reordering (property)', () => {
  it('after a final exchange every replica holds the same objects and no op is lost', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async ({ n, tree, extra, policy, steps }) => {
        const dir = mkdtempSync(join(tmpdir(), 'msite-prop-'));
        const vobs: Vob[] = [];
        try {
          const names = Array.from({ length: n }, (_, i) => `r${i}`);
          const first = mkvob(join(dir, 'r0.vob'), { tag: 'p', replicaName: 'r0', namePolicy: policy });
          vobs.push(first);
          const creation = join(dir, 'creation');
          mkdirSync(creation);
          const packets = await exportReplica(
            first,
            names.slice(1).map((name) => ({ host: `${name}-host`, name })),
            { out: creation },
          );
          for (const [i, p] of packets.entries()) vobs.push(await importReplica(join(dir, `r${i + 1}.vob`), p, { tag: 'p' }));
          // Each replica gets a directory whose main branch it masters, to make files in.
          for (let i = 0; i < n; i++) mkelem(first, `d${i}`, { kind: 'directory', auto: true });
          for (let i = 1; i < n; i++) chmaster(first, names[i]!, [`d${i}@@/main`]);

          const links: [number, number][] = tree.map((parent, i) => [parent, i + 1] as [number, number]);
          for (const [a, b] of extra) if (a !== b) links.push([a, b]);
          const inbox: string[][] = vobs.map(() => []);
          let seq = 0;
          const send = async (from: number, to: number, drop: boolean, dup: boolean) => {
            const out = join(dir, `x${++seq}`);
            mkdirSync(out);
            for (const p of (await exportUpdate(vobs[from]!, [names[to]!], { out })).packets) {
              if (drop) continue;
              inbox[to]!.splice(seq % (inbox[to]!.length + 1), 0, p);
              if (dup) {
                const copy = join(out, `dup_${basename(p)}`);
                copyFileSync(p, copy);
                inbox[to]!.push(copy);
              }
            }
          };
          const receive = async (at: number, count: number) => {
            const batch = inbox[at]!.splice(0, Math.max(1, count));
            if (batch.length === 0) return;
            const outcomes = await importPackets(vobs[at]!, batch);
            for (const o of outcomes) {
              expect(['applied', 'already-applied', 'deferred'], `${o.path}: ${o.reason}`).toContain(o.result);
              if (o.result === 'deferred') inbox[at]!.push(o.path);
            }
          };

          for (const s of steps) {
            const v = 'at' in s ? vobs[s.at]! : undefined;
            switch (s.t) {
              case 'mktype':
                attempt(() => mktype(v!, 'lbtype', [`L${s.name}`]));
                break;
              case 'rename':
                attempt(() => rename(v!, `lbtype:L${s.name}`, `L${s.to}`));
                break;
              case 'file': {
                const path = `d${s.at}/f${s.file}`;
                const text = new TextEncoder().encode(s.text);
                attempt(() => {
                  try {
                    checkout(v!, path);
                    checkin(v!, path, { content: text });
                  } catch (err) {
                    if (err instanceof MsiteError && /not found/.test(err.message))
                      mkelem(v!, path, { auto: true, master: true, content: text });
                    else throw err;
                  }
                });
                break;
              }
              case 'label':
                attempt(() => mklabel(v!, `L${s.name}`, [`d${s.at}/f${s.file}`], { replace: true }));
                break;
              case 'export': {
                const [a, b] = links[s.link % links.length]!;
                if (s.link % 2) await send(a, b, s.drop, s.dup);
                else await send(b, a, s.drop, s.dup);
                break;
              }
              case 'import':
                await receive(s.at, s.pick);
                break;
            }
          }

          // The final exchange, on the same topology with no loss: each side first learns what the
          // other really has (as chepoch -actual does), then packets flow until nothing changes.
          for (let round = 0; round < 2 * n + 2; round++) {
            // An origin missing from a row means none of its ops: 0.
            const full = (v: Vob) => ({ ...Object.fromEntries(vobs.map((o) => [o.self, 0])), ...actualRow(v) });
            for (const [a, b] of links) {
              setEstimate(vobs[a]!, vobs[b]!.self, full(vobs[b]!));
              setEstimate(vobs[b]!, vobs[a]!.self, full(vobs[a]!));
            }
            for (const [a, b] of links) {
              await send(a, b, false, false);
              await send(b, a, false, false);
            }
            for (let i = 0; i < n; i++) await receive(i, inbox[i]!.length);
          }
          const states = vobs.map((v) => state(v, policy === 'converge'));
          for (let i = 1; i < n; i++) expect(states[i], `r${i} vs r0`).toEqual(states[0]);
        } finally {
          for (const v of vobs) v.close();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
      { numRuns: Number(process.env.MSITE_PROPERTY_RUNS ?? 40) },
    );
  });
});
