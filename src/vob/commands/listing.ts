import { InvalidInputError, StateError } from '../../core/errors.js';
import type { ConfigSpec, Selector } from '../configSpec.js';
import { DEFAULT_CONFIG_SPEC } from '../configSpec.js';
import { mergeArrowsOf, type MergeArrows } from '../mergeArrows.js';
import { branchPath, branchesOf, getElement, labelsOfVersion, replicaName, versionId } from '../queries.js';
import { resolvePath, selectVersion, visibleEntries } from '../resolvePath.js';
import type { VersionRow } from '../rows.js';
import type { Vob } from '../vob.js';

export interface LsEntry {
  name: string;
  path: string;
  kind: 'file' | 'directory';
  /** The selected version (`/main/3`), `CHECKEDOUT from /main/3`, or null when none is selected. */
  version: string | null;
  checkedOut: boolean;
  rule: string | null;
  /** How the selected file version is loaded: `executable`, `symlink` (its content is the target), or null (a plain file). */
  mode: 'executable' | 'symlink' | null;
}

/** The entries of a directory as the config spec shows them, each with its selected version. */
export function ls(vob: Vob, dirPath: string, config: ConfigSpec = DEFAULT_CONFIG_SPEC): LsEntry[] {
  const dir = resolvePath(vob, dirPath, config);
  if (dir.element.kind !== 'directory') throw new InvalidInputError(`"${dir.path}" is not a directory`);
  const entries = visibleEntries(vob, dir.element, dir.path, config);
  return [...entries].map(([name, oid]) => {
    const path = dir.path === '.' ? name : `${dir.path}/${name}`;
    const element = getElement(vob, oid)!;
    const s = selectVersion(vob, element, path, config);
    return {
      name,
      path,
      kind: element.kind,
      version: s ? versionId(vob, s.version) : null,
      checkedOut: Boolean(s?.checkout),
      rule: s ? `element ${s.rule.pattern} ${ruleText(s.rule.selector)}` : null,
      mode: s?.version.mode ?? null,
    };
  });
}

function ruleText(sel: Selector): string {
  switch (sel.kind) {
    case 'checkedout':
      return 'CHECKEDOUT';
    case 'none':
      return '-none';
    case 'error':
      return '-error';
    case 'label':
      return sel.name;
    case 'latest':
    case 'number':
      return `${sel.branch.anywhere ? '...' : ''}/${sel.branch.names.join('/')}/${sel.kind === 'latest' ? 'LATEST' : sel.number}`;
  }
}

/**
 * The exact bytes of the file version a path or version-extended name selects, a chunk at a time
 * (ContentPool.chunks): a version of any size is never whole in memory. The path is resolved at
 * once, so a bad one throws here, before any byte is handed out; damaged content throws at the end.
 */
export function catChunks(vob: Vob, path: string, config?: ConfigSpec): AsyncIterable<Buffer> {
  return vob.pool.chunks(selectedContent(vob, path, config));
}

/** The exact bytes of the file version a path selects, whole: for versions known to be small. */
export function cat(vob: Vob, path: string, config?: ConfigSpec): Buffer {
  return vob.pool.get(selectedContent(vob, path, config));
}

function selectedContent(vob: Vob, path: string, config: ConfigSpec | undefined): string {
  const r = resolvePath(vob, path, config);
  if (r.element.kind !== 'file') throw new InvalidInputError(`"${r.path}" is a directory`, { hint: `list it with msite ls ${r.path}` });
  if (!r.version) throw new StateError(`no version of "${r.path}" is selected`, { hint: 'name one with PATH@@/main/N' });
  return r.version.content!;
}

export interface VtreeEntry {
  version: string;
  branch: string;
  number: number;
  labels: string[];
  /** Its merge arrows: versions merged into it, and versions it was merged into. */
  merges: MergeArrows;
  oid: string;
  creator: string;
  at: string;
  comment: string;
}

/** Every version of the element at `path`, branch by branch, each with its labels. */
export function lsvtree(vob: Vob, path: string, config?: ConfigSpec): VtreeEntry[] {
  const r = resolvePath(vob, path, config);
  const out: VtreeEntry[] = [];
  for (const branch of branchesOf(vob, r.element.oid)) {
    const bpath = branchPath(vob, branch);
    const versions = vob.q('SELECT * FROM version WHERE branch = ? ORDER BY number').all(branch.oid) as VersionRow[];
    for (const v of versions) {
      out.push({
        version: `${r.path}@@${bpath}/${v.number}`,
        branch: bpath,
        number: v.number,
        labels: labelsOfVersion(vob, v.oid),
        merges: mergeArrowsOf(vob, v.oid),
        oid: v.oid,
        creator: replicaName(vob, v.creator),
        at: new Date(v.created_at).toISOString(),
        comment: v.comment,
      });
    }
  }
  return out.sort((a, b) => (a.branch === b.branch ? a.number - b.number : a.branch < b.branch ? -1 : 1));
}
