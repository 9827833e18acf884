import { readdirSync } from 'node:fs';
import { InvalidInputError } from '../core/errors.js';
import { branchPath, elementPath, getBranch, getElement, latestVersion, replicaName, versionId } from '../vob/queries.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import type { CheckoutRow, VersionRow } from '../vob/rows.js';
import type { LoadedRow, View } from './view.js';
import { VIEW_ADMIN_DIR } from './viewDatabase.js';
import { fileState, statOrUndefined } from './viewFiles.js';

/** One name in a view directory as `ls` shows it. */
export interface ViewLsEntry {
  name: string;
  /** Element path from the view's root. */
  path: string;
  kind: 'file' | 'directory';
  /** The version loaded (`/main/3`); for a checkout, the version checked out. Null for view-private. */
  version: string | null;
  /** The rule that selected it; null for view-private and hijacked files. */
  rule: string | null;
  checkedOut: boolean;
  hijacked: boolean;
  viewPrivate: boolean;
  /** How update wrote the file: null (a plain file, a directory, or view-private), `executable` or `symlink`. */
  mode: VersionMode;
}

/** The loaded rows at or below an element path. */
function loadedUnder(view: View, vobPath: string): Map<string, LoadedRow> {
  const rows = (
    vobPath === '.'
      ? view.db.prepare('SELECT * FROM loaded').all()
      : view.db.prepare("SELECT * FROM loaded WHERE path = ? OR path BETWEEN ? || '/' AND ? || '0'").all(vobPath, vobPath, vobPath)
  ) as LoadedRow[];
  return new Map(rows.map((r) => [r.path, r]));
}

/**
 * The names in a directory of the view (or one file) as ClearCase's `ls` shows them in a snapshot
 * view: each loaded file and directory with its version and the rule that selected it, a file changed
 * without a checkout as hijacked, and what update did not load as view-private.
 */
export async function lsView(view: View, path: string): Promise<ViewLsEntry[]> {
  const vobPath = view.vobPath(path);
  const dir = view.filePath(vobPath);
  const st = statOrUndefined(dir);
  if (!st) throw new InvalidInputError(`${path}: no such file or directory in view "${view.tag}"`);
  const loaded = loadedUnder(view, vobPath);
  const names = st.isDirectory()
    ? readdirSync(dir)
        .filter((n) => !(vobPath === '.' && n === VIEW_ADMIN_DIR))
        .sort()
        .map((n) => ({ name: n, path: vobPath === '.' ? n : `${vobPath}/${n}` }))
    : [{ name: vobPath.slice(vobPath.lastIndexOf('/') + 1), path: vobPath }];
  const out: ViewLsEntry[] = [];
  for (const { name, path: p } of names) {
    const row = loaded.get(p);
    const isDir = statOrUndefined(view.filePath(p))?.isDirectory() ?? false;
    const base = { name, path: p, kind: isDir ? ('directory' as const) : ('file' as const) };
    if (!row) {
      out.push({ ...base, version: null, rule: null, checkedOut: false, hijacked: false, viewPrivate: true, mode: null });
      continue;
    }
    const checkout = view.checkoutOf(row.element);
    const version = versionText(view, row.version);
    if (checkout) {
      out.push({ ...base, version, rule: 'CHECKEDOUT', checkedOut: true, hijacked: false, viewPrivate: false, mode: row.mode ?? null });
      continue;
    }
    const hijacked = row.kind === 'file' && (await fileState(view.filePath(p), row)).state === 'changed';
    out.push({
      ...base,
      version,
      rule: hijacked ? null : row.rule,
      checkedOut: false,
      hijacked,
      viewPrivate: false,
      mode: row.mode ?? null,
    });
  }
  return out;
}

function versionText(view: View, oid: string): string | null {
  const v = view.vob.q('SELECT * FROM version WHERE oid = ?').get(oid) as VersionRow | undefined;
  return v ? versionId(view.vob, v) : null;
}

/**
 * The view-private files and directories at or below `path`: what is in the view's tree that update
 * did not load (new files, `.keep` copies). A view-private directory is listed, not its contents.
 */
export function lsPrivate(view: View, path: string = view.root): string[] {
  const top = view.vobPath(path);
  const loaded = loadedUnder(view, top);
  const out: string[] = [];
  const walk = (p: string) => {
    const dir = view.filePath(p);
    for (const name of readdirSync(dir).sort()) {
      if (p === '.' && name === VIEW_ADMIN_DIR) continue;
      const child = p === '.' ? name : `${p}/${name}`;
      const isDir = statOrUndefined(view.filePath(child))?.isDirectory() ?? false;
      if (!loaded.has(child)) out.push(child);
      else if (isDir) walk(child);
    }
  };
  if (statOrUndefined(view.filePath(top))?.isDirectory()) walk(top);
  return out;
}

/** One checkout as `lsco` lists it. */
export interface ViewCheckoutListing {
  path: string;
  /** The branch (`/main/dev`) and the version checked out (`/main/dev/2`). */
  branch: string;
  version: string;
  reserved: boolean;
  replica: string;
  /** This view's tag when the checkout is this view's; null for another view's or another replica's. */
  view: string | null;
  comment: string;
}

/**
 * Checkouts, as ClearCase's `lsco`: by default those of elements at or below `path`, made at any
 * replica; `me` keeps only this view's; `all` looks at the whole VOB.
 */
export function lsco(view: View, path: string, options: { me?: boolean; all?: boolean } = {}): ViewCheckoutListing[] {
  const { vob } = view;
  const top = options.all ? '.' : view.vobPath(path);
  const mine = new Map(view.checkouts().map((c) => [c.checkout as string, c.path]));
  const rows = vob.q('SELECT * FROM checkout ORDER BY created_at, oid').all() as CheckoutRow[];
  const out: ViewCheckoutListing[] = [];
  for (const co of rows) {
    if (options.me && !mine.has(co.oid)) continue;
    const branch = getBranch(vob, co.branch)!;
    const element = getElement(vob, branch.element)!;
    const p = mine.get(co.oid) ?? elementPath(vob, element.oid);
    if (top !== '.' && p !== top && !p.startsWith(`${top}/`)) continue;
    out.push({
      path: p,
      branch: branchPath(vob, branch),
      version: versionId(vob, latestVersion(vob, branch)),
      reserved: co.reserved === 1,
      replica: replicaName(vob, co.replica),
      view: mine.has(co.oid) ? view.tag : null,
      comment: co.comment,
    });
  }
  return out;
}
