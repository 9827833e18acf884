import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Clock } from '../core/clock.js';
import { newOid, type Oid, type ReplicaOid } from '../core/ids.js';
import { mergeHltypeOp } from './mergeArrows.js';
import type { NamePolicy } from './nameConflicts.js';
import { assertObjectName, assertVobTag } from './names.js';
import { applyLocal } from './ops/applyOp.js';
import { Vob } from './vob.js';

export interface CreateVobOptions {
  tag: string;
  /** Name of the first replica; MultiSite calls it `original` until an administrator renames it. */
  replicaName?: string;
  /** Host the replica lives on; defaults to this machine's name. */
  host?: string;
  clock?: Clock;
  synchronous?: 'full' | 'normal';
  /** The replica's public key, carried by its replica object so siblings can check its packets. */
  publicKey?: string;
  /** How the family settles name clashes on import (default `rename`, as MultiSite). */
  namePolicy?: NamePolicy;
}

/** Element types every VOB starts with, and the kind of element each is for. */
const PREDEFINED_ELTYPES = [
  ['file', 'file'],
  ['text_file', 'file'],
  ['directory', 'directory'],
] as const;

/**
 * Creates a new VOB family with its first replica in `dir`: the replica object, the predefined
 * element types, the `main` branch type, the root directory and the `Merge` hyperlink type, each made by its op (so the oplog
 * tells the whole story from id 1). On failure the half-made directory is removed.
 */
export function createVob(dir: string, options: CreateVobOptions): Vob {
  const replicaName = options.replicaName ?? 'original';
  assertObjectName(replicaName, 'replica');
  assertVobTag(options.tag);
  const vob = Vob.createStorage(dir, { clock: options.clock, synchronous: options.synchronous });
  try {
    vob.transaction(() => {
      const self = newOid() as unknown as ReplicaOid;
      vob.setMeta('family', newOid());
      vob.setMeta('self', self);
      vob.setMeta('tag', options.tag);
      vob.setMeta('name_policy', options.namePolicy ?? 'rename');
      vob.setMeta('incarnation', String(vob.clock.now()));
      applyLocal(vob, 'mkreplica', {
        replica: self,
        name: replicaName,
        host: options.host ?? hostname(),
        publicKey: options.publicKey ?? null,
      });
      const eltypes = new Map<string, Oid>();
      for (const [name, elkind] of PREDEFINED_ELTYPES) {
        const type = newOid();
        applyLocal(vob, 'mktype', { type, kind: 'eltype', name, elkind, comment: 'predefined element type' });
        eltypes.set(name, type);
      }
      const main = newOid();
      applyLocal(vob, 'mktype', { type: main, kind: 'brtype', name: 'main', comment: 'predefined branch type' });
      vob.setMeta('main_brtype', main);
      applyLocal(vob, 'mkelem', {
        element: newOid(),
        kind: 'directory',
        eltype: eltypes.get('directory')!,
        branch: newOid(),
        version: newOid(),
        parentCheckout: null,
        name: '.',
      });
      applyLocal(vob, 'mktype', mergeHltypeOp(vob));
    });
  } catch (err) {
    vob.close();
    rmSync(vob.dir, { recursive: true, force: true });
    throw err;
  }
  return vob;
}
