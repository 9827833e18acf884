import { InvalidInputError, MsiteError, NotFoundError } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import { getElement, getVersion, versionId } from '../vob/queries.js';
import { resolvePath, visibleEntries } from '../vob/resolvePath.js';
import type { ElementKind, VersionRow } from '../vob/rows.js';
import type { View } from './view.js';
import { checkoutInView } from './viewCheckouts.js';
import { alreadyMerged, mergeAncestor } from './mergeAncestor.js';
import { mergeVersions, type MergeOptions, type MergeReport } from './mergeVersions.js';

/**
 * Where findmerge takes each element's from-version: `fversion` a version selector applied to every
 * element (`/main/blr/LATEST`, `.../blr/LATEST`, a label), `flatest` the latest version on a branch of
 * that type wherever it grew, `ftag` the version another view (on the same replica) selects.
 */
export type FromSpec = { fversion: string } | { flatest: string } | { ftag: View };

/** findmerge's verdict on one element. */
export interface FindMergeEntry {
  /** The element path from the VOB root. */
  path: string;
  /** The file or directory in the view. */
  file: string;
  kind: ElementKind;
  /** The from-version (`/main/blr/2`), when the element has one. */
  from?: string;
  /** The version in the view: its checkout's predecessor, or the one its config spec selects. */
  to?: string;
  /** The merge base, when a merge is needed. */
  base?: string;
  needed: boolean;
  /** Why a merge is, or is not, needed. */
  why: string;
  /** The merge to run, when needed. */
  command?: string;
  /** With --merge: what the merge did, or why it failed. */
  merge?: MergeReport;
  error?: string;
}

function selectorOf(spec: FromSpec): string | undefined {
  if ('fversion' in spec) return spec.fversion;
  if ('flatest' in spec) return `.../${spec.flatest.replace(/^brtype:/, '')}/LATEST`;
  return undefined;
}

/** The elements at and under `path` (an element path) as the view shows them, each directory before what it holds. */
function elementsUnder(view: View, path: string): { path: string; element: Oid; kind: ElementKind }[] {
  const top = view.locate(view.filePath(path));
  const out: { path: string; element: Oid; kind: ElementKind }[] = [];
  const walk = (p: string, element: Oid) => {
    const row = getElement(view.vob, element)!;
    out.push({ path: p, element, kind: row.kind });
    if (row.kind === 'file') return;
    for (const [name, child] of visibleEntries(view.vob, row, p, view.configSpec())) walk(p === '.' ? name : `${p}/${name}`, child);
  };
  walk(top.path, top.element);
  return out;
}

function fromVersion(view: View, path: string, element: Oid, spec: FromSpec): VersionRow | string {
  const selector = selectorOf(spec);
  try {
    if (selector !== undefined) {
      const v = resolvePath(view.vob, `${path}@@${selector}`, view.configSpec()).version;
      return v ?? `no version ${selector}`;
    }
    const other = (spec as { ftag: View }).ftag;
    const there = other.locate(other.filePath(path));
    if (there.element !== element) return `view "${other.tag}" has another element at "${path}"`;
    return there.version ? getVersion(view.vob, there.version)! : `view "${other.tag}" selects no version of it`;
  } catch (err) {
    if (err instanceof NotFoundError)
      return selector !== undefined ? `it has no version ${selector}` : `view "${(spec as { ftag: View }).ftag.tag}" does not see it`;
    throw err;
  }
}

/**
 * Finds, for every element at or under `path` in `view`, whether its from-version (see FromSpec)
 * still needs merging into the version the view has: it does unless it is that version or one of its
 * ancestors, by the version tree and merge arrows (pending merges of a checkout count). Each entry
 * says why, and gives the merge command to run where one is needed; a directory comes before what
 * it holds.
 */
export function findMerge(view: View, path: string, spec: FromSpec): FindMergeEntry[] {
  const { vob } = view;
  if ('ftag' in spec && spec.ftag.vob.self !== vob.self) {
    throw new InvalidInputError(`view "${spec.ftag.tag}" is on another replica`, {
      hint: 'findmerge --ftag compares views of the same replica',
    });
  }
  return elementsUnder(view, view.vobPath(path)).map(({ path: p, kind }): FindMergeEntry => {
    const file = view.filePath(p);
    const loc = view.locate(file);
    const from = fromVersion(view, p, loc.element, spec);
    if (typeof from === 'string') return { path: p, file, kind, needed: false, why: from };
    const fromName = versionId(vob, from);
    if (!loc.version) return { path: p, file, kind, from: fromName, needed: false, why: 'the view selects no version of it' };
    const to = versionId(vob, getVersion(vob, loc.version)!);
    const pair = { path: p, file, kind, from: fromName, to };
    const heads = [loc.version, ...view.pendingMerges(loc.element)];
    if (from.oid === loc.version) return { ...pair, needed: false, why: `${fromName} is the version in the view` };
    if (alreadyMerged(vob, from.oid, heads)) {
      return { ...pair, needed: false, why: `${fromName} is already merged into ${loc.checkedOut ? 'the checkout from ' : ''}${to}` };
    }
    const base = versionId(vob, mergeAncestor(vob, heads, from.oid));
    return {
      ...pair,
      base,
      needed: true,
      why: `${fromName} is not merged into ${to} (base ${base})`,
      command: `msite merge --to ${p} ${p}@@${fromName}`,
    };
  });
}

/**
 * findmerge --merge: runs every merge findMerge finds needed, checking the element out first where
 * the view has not (as ClearCase does). Directories go first, one at a time and the search made
 * again after each, so the elements a directory merge brings in are found and merged too. A merge
 * that fails (a binary file without a choice, a branch mastered elsewhere) is reported on its entry
 * and the others go on.
 */
export async function findMergeAndMerge(
  view: View,
  path: string,
  spec: FromSpec,
  options: Omit<MergeOptions, 'print'> & { comment?: string } = {},
): Promise<FindMergeEntry[]> {
  const done = new Map<string, FindMergeEntry>();
  const run = async (entry: FindMergeEntry) => {
    done.set(entry.path, entry);
    try {
      if (!view.locate(entry.file).checkedOut) await checkoutInView(view, entry.file, { comment: options.comment });
      entry.merge = await mergeVersions(view, entry.file, [`${entry.file}@@${entry.from}`], options);
    } catch (err) {
      if (!(err instanceof MsiteError)) throw err;
      entry.error = err.toLine();
    }
  };
  for (;;) {
    const dir = findMerge(view, path, spec).find((e) => e.needed && e.kind === 'directory' && !done.has(e.path));
    if (!dir) break;
    await run(dir);
  }
  for (const entry of findMerge(view, path, spec)) if (entry.needed && !done.has(entry.path)) await run(entry);
  return [...done.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
