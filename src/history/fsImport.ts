import { lstatSync, readdirSync, readFileSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { hasControlChar } from '../core/controlChars.js';
import { InvalidInputError, StateError, writeFailure } from '../core/errors.js';
import { newOid, type Oid } from '../core/ids.js';
import { DEFAULT_CONFIG_SPEC, type ConfigSpec } from '../vob/configSpec.js';
import { ContentPool, type PoolEntry } from '../vob/contentPool.js';
import { branchToChange } from '../vob/commands/checkouts.js';
import { importSteps, type ImportStep } from '../vob/commands/importVersions.js';
import type { VersionMode } from '../vob/ops/schemas.js';
import { getElement, latestVersion, typeByName } from '../vob/queries.js';
import { resolvePath, selectVersion, visibleEntries } from '../vob/resolvePath.js';
import type { ElementRow } from '../vob/rows.js';
import type { Vob } from '../vob/vob.js';
import { readLinkBytes, versionModeOf } from '../view/viewFiles.js';

export interface FsImportOptions {
  /** Import the contents of source directories, all the way down (clearfsimport's -recurse). */
  recurse?: boolean;
  /** Remove names of files and directories that are not in the source directory any more. */
  rmname?: boolean;
  /** Make a new version even where the content and mode are those of the selected version. */
  identical?: boolean;
  /** Report what would be done, and change nothing. */
  preview?: boolean;
  comment?: string;
  config?: ConfigSpec;
  /**
   * Elements checked out in the view the import is made for (fsImportInView): a new version of one,
   * or a new version of a checked-out directory, is refused before anything changes, as
   * clearfsimport refuses checked-out elements.
   */
  checkedOut?: ReadonlySet<Oid>;
  /** Source paths (absolute) never imported: a view's admin directory, when a view imports from itself. */
  skip?: ReadonlySet<string>;
  warn?: (message: string) => void;
}

export type FsImportAction = 'new element' | 'new version' | 'unchanged' | 'removed name';

export interface FsImportEntry {
  action: FsImportAction;
  /** The VOB path. */
  path: string;
  kind: 'file' | 'directory';
}

export interface FsImportResult {
  preview: boolean;
  entries: FsImportEntry[];
  newElements: number;
  newVersions: number;
  removedNames: number;
  unchanged: number;
}

/** Thrown inside the transaction to take back everything a preview did. */
class PreviewDone extends Error {}

interface DirPlan {
  element: Oid;
  /** The branch its next version goes on and that version's number: known for new directories (their /main), found when needed for others. */
  branch: { oid: Oid; next: number } | undefined;
  entries: Map<string, Oid>;
  changed: boolean;
  isNew: boolean;
}

/**
 * Imports files and directory trees into a VOB directory, as ClearCase's clearfsimport: a new element
 * for each name the directory does not have, a new version where the bytes or the mode (executable,
 * symlink) differ from the version the config spec selects (`identical`: everywhere), and under
 * `rmname` the names of what the source directories no longer hold removed. A SOURCE ending in `/.`
 * brings its contents into TARGET-DIR itself. Everything is written in one transaction through the
 * bulk path (importSteps), so an import changes all it reports or nothing; `preview` reports and
 * takes it all back.
 */
export function fsImport(vob: Vob, sources: readonly string[], targetDir: string, options: FsImportOptions = {}): FsImportResult {
  const result: FsImportResult = {
    preview: options.preview === true,
    entries: [],
    newElements: 0,
    newVersions: 0,
    removedNames: 0,
    unchanged: 0,
  };
  if (!sources.length) throw new InvalidInputError('fsimport needs at least one SOURCE');
  const config = options.config;
  const comment = options.comment ?? '';
  const warn = options.warn ?? (() => {});
  const stat = (path: string): Stats => {
    try {
      return lstatSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') throw new InvalidInputError(`cannot read source ${path}: no such file or directory`);
      throw writeFailure(err, 'read', path) ?? err;
    }
  };
  for (const s of sources) stat(s.replace(/\/\.$/, '') || '/');
  try {
    vob.transaction(() => {
      const target = resolvePath(vob, targetDir, config);
      if (target.element.kind !== 'directory') throw new InvalidInputError(`"${target.path}" is not a directory`);
      const ops: ImportStep['ops'][number][] = [];
      const contents: PoolEntry[] = [];
      const eltypes = { file: typeByName(vob, 'eltype', 'file')!.oid, directory: typeByName(vob, 'eltype', 'directory')!.oid };
      const dirs = new Map<string, DirPlan>();
      const checkedOut = options.checkedOut ?? new Set<Oid>();
      const refused: string[] = [];
      const skip = options.skip ?? new Set<string>();

      const report = (action: FsImportAction, path: string, kind: 'file' | 'directory'): void => {
        result.entries.push({ action, path, kind });
        if (action === 'new element') result.newElements++;
        else if (action === 'new version') result.newVersions++;
        else if (action === 'removed name') result.removedNames++;
        else result.unchanged++;
      };
      const vobPath = (dir: string, name: string): string => (dir === '.' ? name : `${dir}/${name}`);
      /** The plan of an existing VOB directory, its entries as the config spec shows them. */
      const existingDir = (path: string, element: ElementRow): DirPlan => {
        let plan = dirs.get(path);
        if (!plan) {
          plan = {
            element: element.oid,
            branch: undefined,
            entries: visibleEntries(vob, element, path, config ?? DEFAULT_CONFIG_SPEC),
            changed: false,
            isNew: false,
          };
          dirs.set(path, plan);
        }
        return plan;
      };
      const newElement = (kind: 'file' | 'directory', dir: DirPlan, name: string): { element: Oid; branch: Oid } => {
        const element = newOid();
        const branch = newOid();
        ops.push({ kind: 'importelem', data: { element, kind, eltype: eltypes[kind], branch, version: newOid(), comment } });
        dir.entries.set(name, element);
        dir.changed = true;
        return { element, branch };
      };

      const importEntry = (source: string, dirPath: string, dir: DirPlan, name: string): void => {
        if (skip.has(resolve(source))) {
          warn(`not imported: ${source}: a view's own administration directory`);
          return;
        }
        if (!validName(name)) {
          warn(`not imported: ${JSON.stringify(source)}: a name a VOB cannot hold`);
          return;
        }
        const st = stat(source);
        const path = vobPath(dirPath, name);
        const existing = dir.entries.get(name);
        const element = existing ? getElement(vob, existing) : undefined;
        if (st.isDirectory()) {
          let plan: DirPlan;
          if (element && element.kind !== 'directory') {
            warn(`not imported: ${source} is a directory and "${path}" a file`);
            return;
          }
          if (element) plan = existingDir(path, element);
          else {
            const made = newElement('directory', dir, name);
            plan = { element: made.element, branch: { oid: made.branch, next: 1 }, entries: new Map(), changed: true, isNew: true };
            dirs.set(path, plan);
            report('new element', path, 'directory');
          }
          if (options.recurse) importContents(source, path, plan);
          return;
        }
        if (!st.isFile() && !st.isSymbolicLink()) {
          warn(`not imported: ${source} is neither a file, a directory nor a symbolic link`);
          return;
        }
        if (element && element.kind !== 'file') {
          warn(`not imported: ${source} is a file and "${path}" a directory`);
          return;
        }
        if (element && checkedOut.has(element.oid)) {
          refused.push(path);
          return;
        }
        // A symbolic link is imported as one, its target the content, wherever it points: never followed.
        const bytes = st.isSymbolicLink() ? readLinkBytes(source) : readFileSync(source);
        const mode: VersionMode = versionModeOf(st);
        const sha = ContentPool.hash(bytes);
        let branch: { oid: Oid; number: number; base?: string | null };
        if (!element) {
          const made = newElement('file', dir, name);
          branch = { oid: made.branch, number: 1 };
          report('new element', path, 'file');
        } else {
          const selected = selectVersion(vob, element, path, config ?? DEFAULT_CONFIG_SPEC);
          if (selected && selected.version.content === sha && (selected.version.mode ?? null) === mode && !options.identical) {
            report('unchanged', path, 'file');
            return;
          }
          const { branch: b } = branchToChange(vob, path, { config, comment });
          branch = { oid: b.oid, number: b.last_number + 1, base: latestVersion(vob, b).content };
          report('new version', path, 'file');
        }
        // A vendor drop changes a little of each file it changes: stored as a delta against the version before, when that pays.
        contents.push({ sha, bytes, base: branch.base });
        ops.push({
          kind: 'mkversion',
          data: { branch: branch.oid, version: newOid(), number: branch.number, content: sha, comment, mode },
        });
      };

      const importContents = (sourceDir: string, dirPath: string, plan: DirPlan): void => {
        const names = readdirSync(sourceDir)
          .filter((name) => !skip.has(resolve(sourceDir, name)))
          .sort();
        for (const name of names) importEntry(join(sourceDir, name), dirPath, plan, name);
        if (!options.rmname) return;
        const present = new Set(names);
        for (const [name, el] of [...plan.entries]) {
          if (present.has(name)) continue;
          plan.entries.delete(name);
          plan.changed = true;
          report('removed name', vobPath(dirPath, name), getElement(vob, el)?.kind ?? 'file');
        }
      };

      const targetPlan = existingDir(target.path, target.element);
      for (const source of sources) {
        if (/(^|\/)\.$/.test(source)) {
          const dir = source.replace(/\/?\.$/, '') || '.';
          if (!stat(dir).isDirectory()) throw new InvalidInputError(`"${source}": ${dir} is not a directory`);
          importContents(dir, target.path, targetPlan);
        } else {
          importEntry(source, target.path, targetPlan, basename(source.replace(/\/+$/, '')));
        }
      }

      for (const [path, plan] of dirs) if (plan.changed && checkedOut.has(plan.element)) refused.push(path);
      if (refused.length > 0) {
        const names = refused.map((p) => `"${p}"`);
        throw new StateError(
          `cannot import into "${target.path}": ${names.length > 5 ? `${names.slice(0, 5).join(', ')} and ${names.length - 5} more are` : `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'}`} checked out in this view`,
          { hint: 'check them in or uncheckout them first', data: { checkedOut: refused } },
        );
      }
      for (const [path, plan] of dirs) {
        if (!plan.changed) continue;
        const entries = [...plan.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        // Found now, not when the directory was first met: a -mkbranch rule makes a branch, and only a directory that changes needs one.
        const branch =
          plan.branch ?? (({ branch: b }) => ({ oid: b.oid, next: b.last_number + 1 }))(branchToChange(vob, path, { config, comment }));
        ops.push({ kind: 'mkdirversion', data: { branch: branch.oid, version: newOid(), number: branch.next, entries, comment } });
        if (!plan.isNew) report('new version', path, 'directory');
      }
      if (ops.length) importSteps(vob, [{ contents, ops }]);
      if (options.preview) throw new PreviewDone();
    });
  } catch (err) {
    if (!(err instanceof PreviewDone)) throw err;
  }
  return result;
}

function validName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('@@') && !hasControlChar(name) && name.length <= 255;
}
