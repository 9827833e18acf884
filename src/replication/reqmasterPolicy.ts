import { InvalidInputError } from '../core/errors.js';
import { getBranch, getType, replicaName, requireReplica } from '../vob/queries.js';
import { masteredObject } from '../vob/mastership.js';
import type { Vob } from '../vob/vob.js';

/** Any replica of the family, in the ACL. */
export const ANY_REPLICA = '*';

/**
 * This replica's policy for requests for mastership, as MultiSite keeps it per VOB replica: off by
 * default; the ACL names the replicas that may ask (by OID, or `*`); objects (branch types,
 * branches) may be denied one by one. Local to this replica: it does not replicate.
 */
export interface ReqmasterPolicy {
  enabled: boolean;
  acl: string[];
  denied: string[];
}

const ENABLED = 'reqmaster_enabled';
const ACL = 'reqmaster_acl';
const DENIED = 'reqmaster_denied';

/** This replica's policy for requests for mastership. */
export function reqmasterPolicy(vob: Vob): ReqmasterPolicy {
  return {
    enabled: vob.meta(ENABLED) === '1',
    acl: JSON.parse(vob.meta(ACL) ?? '[]') as string[],
    denied: JSON.parse(vob.meta(DENIED) ?? '[]') as string[],
  };
}

/** `reqmaster --enable|--disable`. */
export function setReqmasterEnabled(vob: Vob, enabled: boolean): void {
  vob.setMeta(ENABLED, enabled ? '1' : '0');
}

/**
 * `reqmaster --acl --set FILE`: one replica name a line (or `*` for any replica of the family); `#`
 * starts a comment. Every name must be a replica of the family; a bad file changes nothing.
 */
export function setReqmasterAcl(vob: Vob, text: string): string[] {
  const names = text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => l !== '');
  const oids = names.map((n) => (n === ANY_REPLICA ? ANY_REPLICA : requireReplica(vob, n.replace(/^replica:/, '')).oid));
  vob.setMeta(ACL, JSON.stringify([...new Set(oids)]));
  return reqmasterAcl(vob);
}

/** `reqmaster --acl --get`: the ACL's entries, replicas by name. */
export function reqmasterAcl(vob: Vob): string[] {
  return reqmasterPolicy(vob).acl.map((e) => (e === ANY_REPLICA ? e : replicaName(vob, e)));
}

/**
 * `reqmaster --deny|--allow OBJECT`: a branch type or a branch, by OID (resolved by the caller). Types and
 * branches are allowed by default. Returns the object's description.
 */
export function setReqmasterDenied(vob: Vob, object: string, deny: boolean): string {
  const type = getType(vob, object);
  if (!(type?.kind === 'brtype' || getBranch(vob, object)))
    throw new InvalidInputError('reqmaster --deny and --allow take branch types and branches', {
      hint: 'name brtype:NAME or PATH@@/main/BRANCH',
    });
  const denied = new Set(reqmasterPolicy(vob).denied);
  if (deny) denied.add(object);
  else denied.delete(object);
  vob.setMeta(DENIED, JSON.stringify([...denied]));
  return masteredObject(vob, object).description;
}
