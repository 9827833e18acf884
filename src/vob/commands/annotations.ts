import { StateError } from '../../core/errors.js';
import { newOid } from '../../core/ids.js';
import type { ConfigSpec } from '../configSpec.js';
import { applyLocal } from '../ops/applyOp.js';
import { requireType } from '../queries.js';
import { resolvePath } from '../resolvePath.js';
import { resolveObject } from '../selectors.js';
import type { Vob } from '../vob.js';

function selectedVersion(vob: Vob, path: string, config?: ConfigSpec) {
  const r = resolvePath(vob, path, config);
  if (!r.version) throw new StateError(`no version of "${r.path}" is selected`, { hint: 'name one with PATH@@/main/N' });
  return r.version;
}

/** Attaches a label to the version each path selects, all or none. */
export function mklabel(
  vob: Vob,
  lbtypeName: string,
  paths: readonly string[],
  options: { replace?: boolean; config?: ConfigSpec } = {},
): void {
  vob.transaction(() => {
    const type = requireType(vob, 'lbtype', lbtypeName.replace(/^lbtype:/, ''));
    for (const p of paths) {
      applyLocal(vob, 'mklabel', {
        lbtype: type.oid,
        version: selectedVersion(vob, p, options.config).oid,
        replace: options.replace ?? false,
      });
    }
  });
}

export function rmlabel(vob: Vob, lbtypeName: string, paths: readonly string[], options: { config?: ConfigSpec } = {}): void {
  vob.transaction(() => {
    const type = requireType(vob, 'lbtype', lbtypeName.replace(/^lbtype:/, ''));
    for (const p of paths) applyLocal(vob, 'rmlabel', { lbtype: type.oid, version: selectedVersion(vob, p, options.config).oid });
  });
}

export function mkattr(
  vob: Vob,
  attypeName: string,
  value: string,
  object: string,
  options: { replace?: boolean; config?: ConfigSpec } = {},
): void {
  const type = requireType(vob, 'attype', attypeName.replace(/^attype:/, ''));
  const target = resolveObject(vob, object, options.config);
  applyLocal(vob, 'mkattr', { attribute: newOid(), attype: type.oid, object: target.oid, value, replace: options.replace ?? false });
}

export function mkhlink(vob: Vob, hltypeName: string, from: string, to: string, options: { config?: ConfigSpec } = {}): string {
  const type = requireType(vob, 'hltype', hltypeName.replace(/^hltype:/, ''));
  const hyperlink = newOid();
  applyLocal(vob, 'mkhlink', {
    hyperlink,
    hltype: type.oid,
    from: resolveObject(vob, from, options.config).oid,
    to: resolveObject(vob, to, options.config).oid,
  });
  return hyperlink;
}
