import type { Oid } from '../core/ids.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import { dirEntries, latestVersion, mainBranch, rootElement } from '../vob/queries.js';
import type { Vob } from '../vob/vob.js';

/** A file of a commit's tree: its element and the version that holds its bytes and mode. */
export interface FileNode {
  element: Oid;
  version: Oid;
  /** SHA-256 of the bytes. */
  content: string;
  mode: VersionMode;
}

/** A directory of a commit's tree: its element, the version listing its entries, and those entries. */
export interface DirNode {
  element: Oid;
  version: Oid;
  entries: ReadonlyMap<string, Oid>;
}

/**
 * A commit's tree as imported: files by path, directories by path (`''` is the VOB root). Nodes are
 * never changed in place, so a child commit's state copies the maps and shares the nodes.
 */
export interface TreeState {
  files: Map<string, FileNode>;
  dirs: Map<string, DirNode>;
}

export function copyState(s: TreeState): TreeState {
  return { files: new Map(s.files), dirs: new Map(s.dirs) };
}

/** The state before any commit: the VOB root as its main branch holds it (empty in a new VOB). */
export function initialState(vob: Vob): TreeState {
  const root = rootElement(vob);
  const v = latestVersion(vob, mainBranch(vob, root));
  return { files: new Map(), dirs: new Map([['', { element: root, version: v.oid, entries: dirEntries(vob, v.oid) }]]) };
}

/**
 * The state of an imported commit, rebuilt from the VOB: for each element, in each directory from
 * the root down, the version made by the nearest commit of `firstParents` (the commit and its
 * first-parent ancestors, nearest first). Every commit makes a version of each element it adds or
 * changes relative to its first parent, merged ones included, so that is the element's version in
 * the commit's tree. `commitAttype` is the attribute type naming the commit that made a version.
 */
export function rebuildState(vob: Vob, firstParents: readonly string[], commitAttype: Oid): TreeState {
  const order = new Map(firstParents.map((sha, i) => [sha, i]));
  const versions = vob.q(
    `SELECT v.oid, v.content, v.mode, a.value AS sha FROM branch b JOIN version v ON v.branch = b.oid
     JOIN attribute a ON a.object = v.oid AND a.attype = ? WHERE b.element = ?`,
  );
  const kindOf = vob.q('SELECT kind FROM element WHERE oid = ?').pluck();
  const pick = (element: Oid): { oid: Oid; content: string | null; mode: FileNode['mode'] } | undefined => {
    let best: { oid: Oid; content: string | null; mode: FileNode['mode']; sha: string } | undefined;
    let bestAt = Infinity;
    for (const row of versions.all(commitAttype, element) as { oid: Oid; content: string | null; mode: FileNode['mode']; sha: string }[]) {
      const at = order.get(row.sha);
      if (at !== undefined && at < bestAt) {
        best = row;
        bestAt = at;
      }
    }
    return best;
  };
  const state = initialState(vob);
  const walk = (path: string, element: Oid): void => {
    const v = pick(element);
    if (!v) return;
    const entries = dirEntries(vob, v.oid);
    state.dirs.set(path, { element, version: v.oid, entries });
    for (const [name, child] of entries) {
      const childPath = path === '' ? name : `${path}/${name}`;
      if (kindOf.get(child) === 'directory') walk(childPath, child);
      else {
        const f = pick(child);
        if (f) state.files.set(childPath, { element: child, version: f.oid, content: f.content!, mode: f.mode });
      }
    }
  };
  walk('', rootElement(vob));
  return state;
}
