import { InvalidInputError, NotFoundError } from '../core/errors.js';
import type { Oid } from '../core/ids.js';
import { DEFAULT_CONFIG_SPEC, parseBranchSelector, ruleApplies, type BranchSpec, type ConfigRule, type ConfigSpec } from './configSpec.js';
import { assertEntryName } from './names.js';
import {
  branchesOf,
  checkoutsOfElement,
  dirEntries,
  getBranch,
  getElement,
  getVersion,
  mainBranch,
  rootElement,
  typeByName,
  versionByNumber,
} from './queries.js';
import type { BranchRow, CheckoutRow, ElementRow, VersionRow } from './rows.js';
import type { Vob } from './vob.js';

/** What a path names: an element and, unless only the element or a branch was asked for, a version. */
export interface Resolved {
  element: ElementRow;
  /** The element path from the VOB root, normalized (`.` for the root). */
  path: string;
  /** The selected version (for a checkout, the version it was checked out from). */
  version: VersionRow | undefined;
  branch: BranchRow | undefined;
  /** Set when the version is this replica's checkout (config rule CHECKEDOUT). */
  checkout: CheckoutRow | undefined;
  /** The config rule that chose the version; undefined for version-extended names. */
  rule: ConfigRule | undefined;
  /** What followed `@@`, if anything: `element` for `p@@`, `branch` for `p@@/main/dev`. */
  extended: 'element' | 'branch' | 'version' | undefined;
}

/** Splits `src/a.c@@/main/3` into the normalized element path and the text after `@@`. */
export function splitExtendedName(input: string): { path: string; extension: string | undefined } {
  const at = input.indexOf('@@');
  const rawPath = at < 0 ? input : input.slice(0, at);
  const extension = at < 0 ? undefined : input.slice(at + 2);
  const parts = rawPath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new InvalidInputError(`bad path "${input}": ".." is not supported in VOB paths`);
  return { path: parts.length ? parts.join('/') : '.', extension };
}

/** Finds the element's branch named by a branch spec, or undefined. */
export function findBranch(vob: Vob, element: Oid, spec: BranchSpec): BranchRow | undefined {
  let branch: BranchRow | undefined;
  if (spec.anywhere) {
    // `.../a/b`: any branch of type a, then its sub-branch of type b.
    const first = typeByName(vob, 'brtype', spec.names[0]!);
    branch = first ? branchesOf(vob, element).find((b) => b.brtype === first.oid) : undefined;
  } else {
    branch = mainBranch(vob, element);
  }
  for (const name of spec.names.slice(1)) {
    if (!branch) return undefined;
    const type = typeByName(vob, 'brtype', name);
    if (!type) return undefined;
    const parent: BranchRow = branch;
    branch = branchesOf(vob, element).find(
      (b) => b.brtype === type.oid && b.parent_version !== null && getVersion(vob, b.parent_version)!.branch === parent.oid,
    );
  }
  return branch;
}

/** A version a config rule selects, with its branch and, for CHECKEDOUT, the checkout. */
export interface Selection {
  version: VersionRow;
  branch: BranchRow;
  checkout: CheckoutRow | undefined;
}

/** The version one rule selects of `element` (whether or not its pattern matches), or undefined. */
export function selectByRule(vob: Vob, element: ElementRow, rule: ConfigRule, spec: ConfigSpec): Selection | undefined {
  const selector = rule.selector;
  switch (selector.kind) {
    case 'checkedout': {
      const co = checkoutsOfElement(vob, element.oid, vob.self)[0];
      if (!co || (spec.ownsCheckout && !spec.ownsCheckout(co.oid))) return undefined;
      const branch = getBranch(vob, co.branch)!;
      return { version: versionByNumber(vob, branch.oid, branch.last_number)!, branch, checkout: co };
    }
    case 'latest':
    case 'number': {
      const branch = findBranch(vob, element.oid, selector.branch);
      if (!branch) return undefined;
      const version =
        selector.kind === 'latest' && rule.time !== undefined
          ? latestAt(vob, branch.oid, rule.time)
          : versionByNumber(vob, branch.oid, selector.kind === 'latest' ? branch.last_number : selector.number);
      if (!version || (rule.time !== undefined && version.created_at > rule.time)) return undefined;
      return { version, branch, checkout: undefined };
    }
    case 'label': {
      const type = typeByName(vob, 'lbtype', selector.name);
      if (!type) return undefined;
      const vOid = vob.q('SELECT version FROM label WHERE lbtype = ? AND element = ?').pluck().get(type.oid, element.oid) as
        string | undefined;
      const version = vOid ? getVersion(vob, vOid) : undefined;
      return version ? { version, branch: getBranch(vob, version.branch)!, checkout: undefined } : undefined;
    }
  }
}

/** The newest version on a branch created at or before `time` (a rule's `-time`). */
function latestAt(vob: Vob, branch: Oid, time: number): VersionRow | undefined {
  return vob.q('SELECT * FROM version WHERE branch = ? AND created_at <= ? ORDER BY number DESC LIMIT 1').get(branch, time) as
    VersionRow | undefined;
}

/** The version of `element` the config spec selects, with the rule that chose it. */
export function selectVersion(
  vob: Vob,
  element: ElementRow,
  path: string,
  spec: ConfigSpec,
): (Selection & { rule: ConfigRule }) | undefined {
  for (const rule of spec.rules) {
    const applies = ruleApplies(rule, element, path);
    if (applies === undefined) continue;
    if (applies === 'none') return undefined;
    const s = selectByRule(vob, element, rule, spec);
    if (s) return { ...s, rule };
  }
  return undefined;
}

/** The entries a directory shows through the config spec: its checkout's working set, or a version's. */
export function visibleEntries(vob: Vob, dir: ElementRow, path: string, spec: ConfigSpec): Map<string, Oid> {
  const s = selectVersion(vob, dir, path, spec);
  if (!s) throw new NotFoundError('version of directory', path, { hint: 'the config spec selects no version of it' });
  if (s.checkout?.entries) return new Map(Object.entries(JSON.parse(s.checkout.entries) as Record<string, Oid>));
  return dirEntries(vob, s.version.oid);
}

/** One name in a directory as the config spec shows it; reads one row, not the whole listing. */
export function lookupEntry(vob: Vob, dir: ElementRow, path: string, spec: ConfigSpec, name: string): Oid | undefined {
  const s = selectVersion(vob, dir, path, spec);
  if (!s) throw new NotFoundError('version of directory', path, { hint: 'the config spec selects no version of it' });
  if (s.checkout?.entries) return (JSON.parse(s.checkout.entries) as Record<string, Oid>)[name];
  return vob.q('SELECT element FROM dirent WHERE version = ? AND name = ?').pluck().get(s.version.oid, name) as Oid | undefined;
}

/** Walks a normalized element path from the root through the config spec to its element. */
export function lookupElement(vob: Vob, path: string, spec: ConfigSpec): ElementRow {
  let element = getElement(vob, rootElement(vob))!;
  if (path === '.') return element;
  const parts = path.split('/');
  let walked = '';
  for (const part of parts) {
    if (element.kind !== 'directory') throw new NotFoundError('element', path, { hint: `"${walked}" is not a directory` });
    const next = lookupEntry(vob, element, walked || '.', spec, part);
    walked = walked ? `${walked}/${part}` : part;
    if (!next) throw new NotFoundError('element', path);
    element = getElement(vob, next)!;
  }
  return element;
}

/**
 * Resolves a path or version-extended name (`p`, `p@@`, `p@@/main/dev`, `p@@/main/dev/3`,
 * `p@@/main/LATEST`, `p@@LABEL`) to its element and version. A plain path takes the version the
 * config spec selects (the default spec when none is given).
 */
export function resolvePath(vob: Vob, input: string, spec: ConfigSpec = DEFAULT_CONFIG_SPEC): Resolved {
  const { path, extension } = splitExtendedName(input);
  const element = lookupElement(vob, path, spec);
  const base = { element, path, checkout: undefined, rule: undefined };
  if (extension === undefined) {
    const s = selectVersion(vob, element, path, spec);
    return { ...base, version: s?.version, branch: s?.branch, checkout: s?.checkout, rule: s?.rule, extended: undefined };
  }
  if (extension === '') return { ...base, version: undefined, branch: undefined, extended: 'element' };
  const malformed = () =>
    new InvalidInputError(`malformed version-extended name "${input}"`, {
      data: { input },
      hint: 'use PATH@@/main/BRANCH/N, PATH@@/main/LATEST, PATH@@/main/BRANCH or PATH@@LABEL',
    });
  if (extension.startsWith('/') || extension.startsWith('.../')) {
    const parsed = parseBranchSelector(extension, true);
    if (!parsed) throw malformed();
    const branch = findBranch(vob, element.oid, parsed.branch);
    if (!branch) throw new NotFoundError('branch', `${path}@@${extension.replace(/\/(\d+|LATEST)$/, '')}`);
    if (parsed.version === undefined) return { ...base, version: undefined, branch, extended: 'branch' };
    const number = parsed.version === 'LATEST' ? branch.last_number : parsed.version;
    const version = versionByNumber(vob, branch.oid, number);
    if (!version) throw new NotFoundError('version', input);
    return { ...base, version, branch, extended: 'version' };
  }
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(extension)) throw malformed();
  const type = typeByName(vob, 'lbtype', extension);
  if (!type) throw new NotFoundError('lbtype', extension);
  const vOid = vob.q('SELECT version FROM label WHERE lbtype = ? AND element = ?').pluck().get(type.oid, element.oid) as string | undefined;
  if (!vOid) throw new NotFoundError('version labeled', `${path}@@${extension}`);
  const version = getVersion(vob, vOid)!;
  return { ...base, version, branch: getBranch(vob, version.branch), extended: 'version' };
}

/** Resolves the parent directory of a new name, and checks the name. */
export function resolveParent(
  vob: Vob,
  input: string,
  spec: ConfigSpec = DEFAULT_CONFIG_SPEC,
): { parent: Resolved; name: string; path: string } {
  const { path, extension } = splitExtendedName(input);
  if (extension !== undefined) throw new InvalidInputError(`"${input}" is a version-extended name; give a plain path`);
  if (path === '.') throw new InvalidInputError('the VOB root already exists');
  const slash = path.lastIndexOf('/');
  const name = path.slice(slash + 1);
  assertEntryName(name);
  const parentPath = slash < 0 ? '.' : path.slice(0, slash);
  const parent = resolvePath(vob, parentPath, spec);
  if (parent.element.kind !== 'directory') throw new InvalidInputError(`"${parentPath}" is not a directory`);
  return { parent, name, path };
}
