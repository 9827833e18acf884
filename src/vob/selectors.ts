import { InvalidInputError } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import type { ConfigSpec } from './configSpec.js';
import { describeType } from './mastership.js';
import { branchPath, requireReplica, requireType, versionId } from './queries.js';
import { resolvePath } from './resolvePath.js';
import { isTypeKind, type TypeKind } from './rows.js';
import type { Vob } from './vob.js';

export type ObjectKind = TypeKind | 'replica' | 'element' | 'branch' | 'version';

/** An object named on the command line, resolved to its OID. */
export interface ResolvedObject {
  kind: ObjectKind;
  oid: Oid;
  description: string;
}

const KIND_PREFIX = /^(lbtype|brtype|attype|hltype|eltype|replica):(.*)$/;

/**
 * Splits a `kind:NAME[@VOB]` selector. Returns undefined for anything else (a path).
 * The `@VOB` part names the VOB the object lives in; callers that open VOBs use it.
 */
export function parseKindSelector(text: string): { kind: TypeKind | 'replica'; name: string; vob: string | undefined } | undefined {
  const m = KIND_PREFIX.exec(text);
  if (!m) return undefined;
  const [name, vob] = splitVobSuffix(m[2]!);
  if (name === '') throw new InvalidInputError(`bad selector "${text}": no name after "${m[1]}:"`);
  return { kind: m[1] as TypeKind | 'replica', name, vob };
}

function splitVobSuffix(text: string): [string, string | undefined] {
  const at = text.indexOf('@');
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** The VOB named by `@VOB` in any of the selectors, so commands can open it without --vob. */
export function vobFromSelectors(selectors: readonly string[]): string | undefined {
  for (const s of selectors) {
    const parsed = parseKindSelector(s);
    if (parsed?.vob) return parsed.vob;
  }
  return undefined;
}

export function resolveTypeSelector(vob: Vob, text: string, expected?: TypeKind) {
  const parsed = parseKindSelector(text);
  if (!parsed || parsed.kind === 'replica') {
    throw new InvalidInputError(`bad type selector "${text}"`, { hint: `use ${expected ?? 'KIND'}:NAME, e.g. lbtype:REL1` });
  }
  if (expected && parsed.kind !== expected) throw new InvalidInputError(`"${text}" is not a ${expected}`);
  return requireType(vob, parsed.kind, parsed.name);
}

/**
 * Resolves any object selector: `kind:NAME` for types and replicas, else a path or
 * version-extended name (`p@@` element, `p@@/main/dev` branch, `p@@/main/3` or a plain path: version).
 */
export function resolveObject(vob: Vob, text: string, spec?: ConfigSpec): ResolvedObject {
  const parsed = parseKindSelector(text);
  if (parsed) {
    if (parsed.kind === 'replica') {
      const r = requireReplica(vob, parsed.name);
      return { kind: 'replica', oid: r.oid as unknown as Oid, description: `replica "${r.name}"` };
    }
    if (!isTypeKind(parsed.kind)) throw new InvalidInputError(`bad selector "${text}"`);
    const t = requireType(vob, parsed.kind, parsed.name);
    return { kind: t.kind, oid: t.oid, description: describeType(t) };
  }
  const r = resolvePath(vob, text, spec);
  if (r.extended === 'element') return { kind: 'element', oid: r.element.oid, description: `element "${r.path}"` };
  if (r.extended === 'branch')
    return { kind: 'branch', oid: r.branch!.oid, description: `branch "${r.path}@@${branchPath(vob, r.branch!)}"` };
  if (!r.version) throw new InvalidInputError(`no version of "${r.path}" is selected`, { hint: 'name one with PATH@@/main/N' });
  return { kind: 'version', oid: r.version.oid, description: `version "${r.path}@@${versionId(vob, r.version)}"` };
}
