import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidInputError } from '../core/errors.js';
import { parseDateTime } from '../core/parseDateTime.js';

/**
 * A branch named in a selector: `/main/dev` is the full path from main; `.../dev` is a branch of type
 * dev anywhere in the tree.
 */
export interface BranchSpec {
  anywhere: boolean;
  names: string[];
}

export type Selector =
  | { kind: 'checkedout' }
  | { kind: 'latest'; branch: BranchSpec }
  | { kind: 'number'; branch: BranchSpec; number: number }
  | { kind: 'label'; name: string }
  /** `-none`: the elements the rule matches have no version (a view does not load them); later rules are not tried. */
  | { kind: 'none' }
  /** `-error`: selecting a version of an element the rule matches is an error (the rule names what must not be used). */
  | { kind: 'error' };

export interface ConfigRule {
  pattern: string;
  selector: Selector;
  /** Branch type to create at the selected version when checking out through this rule. */
  mkbranch: string | undefined;
  /** `-time DATE`: only versions created at or before this moment (ms since the epoch). */
  time: number | undefined;
  /** `-nocheckout`: a version this rule selects may not be checked out. */
  nocheckout: boolean;
  /** `element -file …` / `element -directory …`: the rule applies to elements of that kind only. */
  elementKind: 'file' | 'directory' | undefined;
  line: number;
  /** The file the rule is in (an included file's name for its rules). */
  source: string;
  /** The rule as written, words separated by one space: what `ls` shows as the rule that selected. */
  text: string;
  matches(path: string): boolean;
}

export interface ConfigSpec {
  source: string;
  rules: ConfigRule[];
  /** Load rules, for snapshot views; other commands ignore them. */
  loads: LoadRule[];
  /** The text parsed (without its included files). */
  text: string;
  /**
   * In a view: whether one of this replica's checkouts (by OID) is the view's own. `CHECKEDOUT`
   * then selects only those, so a view never shows another view's checkout at the same site.
   * Unset: every checkout made at this replica.
   */
  ownsCheckout?: (checkout: string) => boolean;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Whether `rule` is the one that decides for `element` at `path` (its pattern and element kind
 * match): undefined when it does not apply, 'none' when it gives the element no version, else
 * 'select' (its selector may still find no version, and the next rule is tried). Throws for an
 * `-error` rule, naming it.
 */
export function ruleApplies(rule: ConfigRule, element: { kind: string }, path: string): 'select' | 'none' | undefined {
  if (!rule.matches(path) || (rule.elementKind !== undefined && rule.elementKind !== element.kind)) return undefined;
  if (rule.selector.kind === 'none') return 'none';
  if (rule.selector.kind === 'error') {
    throw new InvalidInputError(`${rule.source}, line ${rule.line}: "${rule.text}" forbids selecting a version of "${path}"`, {
      data: { source: rule.source, line: rule.line, path },
      hint: 'change the config spec, or leave the element alone',
    });
  }
  return 'select';
}

/** The config spec used when none is given: what is checked out here, else the latest on main. */
export const DEFAULT_CONFIG_SPEC_TEXT = 'element * CHECKEDOUT\nelement * /main/LATEST\n';

/**
 * Parses a branch path with an optional version, as used in selectors and after `@@`:
 * `/main/dev/3`, `/main/dev/LATEST`, `.../dev/LATEST`, or (when `allowBranchOnly`) `/main/dev`.
 * Returns undefined for text that is not of that shape.
 */
export function parseBranchSelector(
  text: string,
  allowBranchOnly: boolean,
): { branch: BranchSpec; version: number | 'LATEST' | undefined } | undefined {
  let anywhere = false;
  let rest: string;
  if (text.startsWith('.../')) {
    anywhere = true;
    rest = text.slice(4);
  } else if (text.startsWith('/')) {
    rest = text.slice(1);
  } else {
    return undefined;
  }
  const parts = rest.split('/');
  if (parts.some((p) => p === '')) return undefined;
  const last = parts[parts.length - 1]!;
  let version: number | 'LATEST' | undefined;
  if (last === 'LATEST') version = 'LATEST';
  else if (/^\d+$/.test(last)) version = Number(last);
  if (version !== undefined) parts.pop();
  if (parts.length === 0 || !parts.every((p) => NAME.test(p) && p !== 'LATEST')) return undefined;
  if (!anywhere && parts[0] !== 'main') return undefined;
  if (version === undefined && !allowBranchOnly) return undefined;
  return { branch: { anywhere, names: parts }, version };
}

export function parseSelector(text: string): Selector | undefined {
  if (text === 'CHECKEDOUT') return { kind: 'checkedout' };
  if (text === '-none') return { kind: 'none' };
  if (text === '-error') return { kind: 'error' };
  const b = parseBranchSelector(text, false);
  if (b) return b.version === 'LATEST' ? { kind: 'latest', branch: b.branch } : { kind: 'number', branch: b.branch, number: b.version! };
  if (NAME.test(text) && text !== 'LATEST') return { kind: 'label', name: text };
  return undefined;
}

/**
 * Element patterns: `*` matches everything; a pattern without `/` matches the element's name
 * (`*.c`); a pattern with `/` matches the path from the VOB root, `...` standing for any number of
 * directories (`src/...` is src and all below it).
 */
export function compilePattern(pattern: string): (path: string) => boolean {
  const clean = pattern.replace(/^\.?\//, '');
  if (clean === '*' || clean === '...') return () => true;
  const glob = (s: string) =>
    s
      .split('...')
      .map((part) =>
        part
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]'),
      )
      .join('.*');
  if (!clean.includes('/')) {
    const re = new RegExp(`^${glob(clean)}$`);
    return (path) => re.test(path.slice(path.lastIndexOf('/') + 1));
  }
  const re = new RegExp(`^${glob(clean).replace(/\/\.\*$/, '(?:/.*)?')}$`);
  return (path) => re.test(path);
}

/** A `load` rule of a snapshot view: what part of the VOB is copied into the view. */
export interface LoadRule {
  /** As written; the view makes it a path from the VOB root (a leading `/` or the VOB's tag is dropped). */
  path: string;
  source: string;
  line: number;
}

export interface ParseOptions {
  /**
   * Where `include FILE` names are taken from when relative; default the directory of `source` when
   * it is a file path, else the working directory.
   */
  baseDir?: string;
}

/** How deep `include` may nest: deeper is taken to be a file including itself. */
const MAX_INCLUDE_DEPTH = 16;

/**
 * Parses a config spec, one rule per line, `#` comments and blank lines ignored:
 *
 * - `element [-file|-directory] PATTERN SELECTOR [-time DATE] [-mkbranch BRTYPE] [-nocheckout]`: the
 *   first rule whose pattern matches an element (of that kind, when given) and whose selector finds a
 *   version of it selects that version. `-time DATE` limits the rule to versions created at or before
 *   DATE (`.../dev/LATEST -time 2026-11-22T10:00` is the latest on dev at that moment); `-mkbranch`
 *   makes a checkout through the rule branch first; `-nocheckout` refuses a checkout of what the rule
 *   selects. The selector `-none` gives the elements it matches no version, `-error` makes selecting
 *   one an error.
 * - `time DATE` … `end time`: rules between take `-time DATE` unless they have their own.
 * - `mkbranch BRTYPE [-override]` … `end mkbranch [BRTYPE]`: rules between take `-mkbranch BRTYPE`
 *   unless they have their own (with `-override`, they take it anyway). Blocks of one kind do not
 *   nest: ClearCase makes a cascade of branches from nested mkbranch blocks, which is refused here
 *   with a clear error rather than given another meaning.
 * - `load PATH`: in a snapshot view, loads PATH and all below it (`load /` the whole VOB).
 * - `include FILE`: the rules of FILE, in place (relative to the including file's directory).
 *
 * A bad line throws one InvalidInputError naming the file and line (the included file's for a line
 * there), so nothing is applied from a spec with any error in it.
 */
export function parseConfigSpec(text: string, source = 'config spec', options: ParseOptions = {}): ConfigSpec {
  const rules: ConfigRule[] = [];
  const loads: LoadRule[] = [];
  const baseDir = options.baseDir ?? (source.includes('/') || existsSync(source) ? dirname(resolve(source)) : process.cwd());
  const blocks: Blocks = {};
  parseInto(text, source, baseDir, rules, loads, 0, blocks);
  const open = blocks.time ?? blocks.mkbranch;
  if (open) {
    throw new InvalidInputError(`${open.source}, line ${open.line}: the ${blocks.time ? 'time' : 'mkbranch'} block is not ended`, {
      data: { source: open.source, line: open.line },
      hint: `end it with "end ${blocks.time ? 'time' : 'mkbranch'}"`,
    });
  }
  if (rules.length === 0) throw new InvalidInputError(`${source}: no rules`, { hint: 'a config spec needs at least one element rule' });
  return { source, rules, loads, text };
}

/** The `time` and `mkbranch` blocks open where the parse is: what they give the rules inside. */
interface Blocks {
  time?: { time: number; source: string; line: number };
  mkbranch?: { brtype: string; override: boolean; source: string; line: number };
}

function parseInto(
  text: string,
  source: string,
  baseDir: string,
  rules: ConfigRule[],
  loads: LoadRule[],
  depth: number,
  blocks: Blocks,
): void {
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const body = raw.replace(/#.*$/, '').trim();
    if (body === '') return;
    const fail = (why: string): never => {
      throw new InvalidInputError(`${source}, line ${line}: ${why}`, {
        data: { source, line },
        hint: 'rules are "element [-file|-directory] PATTERN SELECTOR [-time DATE] [-mkbranch BRTYPE] [-nocheckout]", time and mkbranch blocks, "load PATH" and "include FILE"',
      });
    };
    const words = body.split(/\s+/);
    const date = (text: string): number => {
      try {
        return parseDateTime(text, '-time date');
      } catch (err) {
        return fail((err as Error).message);
      }
    };
    if (words[0] === 'time') {
      if (words.length !== 2) fail('a time block names one date');
      if (blocks.time) fail(`a time block is already open (line ${blocks.time.line}): end it first`);
      blocks.time = { time: date(words[1]!), source, line };
      return;
    }
    if (words[0] === 'mkbranch') {
      const override = words[2] === '-override';
      if (words.length !== (override ? 3 : 2)) fail('a mkbranch block names one branch type, and may be followed by -override');
      if (!NAME.test(words[1]!)) fail(`bad branch type name "${words[1]}"`);
      if (blocks.mkbranch)
        fail(`a mkbranch block is already open (line ${blocks.mkbranch.line}): nested mkbranch blocks are not supported`);
      blocks.mkbranch = { brtype: words[1]!, override, source, line };
      return;
    }
    if (words[0] === 'end') {
      const what = words[1];
      if (what === 'time') {
        if (words.length > 3) fail('"end time" may be followed by a date only');
        if (!blocks.time) fail('"end time" without a time block');
        delete blocks.time;
      } else if (what === 'mkbranch') {
        if (words.length > 3) fail('"end mkbranch" may be followed by the branch type only');
        if (!blocks.mkbranch) fail('"end mkbranch" without a mkbranch block');
        if (words[2] !== undefined && words[2] !== blocks.mkbranch!.brtype) {
          fail(`"end mkbranch ${words[2]}" ends the block of ${blocks.mkbranch!.brtype} (line ${blocks.mkbranch!.line})`);
        }
        delete blocks.mkbranch;
      } else {
        fail('"end" ends a time or mkbranch block: "end time", "end mkbranch"');
      }
      return;
    }
    if (words[0] === 'load') {
      if (words.length !== 2) fail('a load rule names one path');
      loads.push({ path: words[1]!, source, line });
      return;
    }
    if (words[0] === 'include') {
      if (words.length !== 2) fail('an include rule names one file');
      if (depth >= MAX_INCLUDE_DEPTH) fail(`includes nest deeper than ${MAX_INCLUDE_DEPTH} (does a file include itself?)`);
      const file = resolve(baseDir, words[1]!);
      let included: string;
      try {
        included = readFileSync(file, 'utf8');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return fail(`cannot read included file ${file}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
      }
      parseInto(included, file, dirname(file), rules, loads, depth + 1, blocks);
      return;
    }
    if (words[0] !== 'element') fail(`unknown rule "${words[0]}"`);
    const kindWord = words[1] === '-file' || words[1] === '-directory' ? words[1] : undefined;
    const at = kindWord ? 2 : 1;
    if (words.length < at + 2) fail('a rule needs a pattern and a version selector');
    const pattern = words[at]!;
    const selector = parseSelector(words[at + 1]!) ?? fail(`bad version selector "${words[at + 1]}"`);
    let mkbranch: string | undefined;
    let time: number | undefined;
    let nocheckout = false;
    const extra = words.slice(at + 2);
    while (extra.length > 0) {
      const option = extra.shift()!;
      if (option === '-nocheckout' && !nocheckout) {
        nocheckout = true;
        continue;
      }
      const value = extra.shift() ?? fail(`unexpected "${option}": it needs a value`);
      if (option === '-mkbranch' && mkbranch === undefined) {
        if (!NAME.test(value)) fail(`bad branch type name "${value}"`);
        mkbranch = value;
      } else if (option === '-time' && time === undefined) {
        time = date(value);
      } else {
        fail(`unexpected "${[option, value].join(' ')}"`);
      }
    }
    if ((selector.kind === 'none' || selector.kind === 'error') && (mkbranch || time !== undefined || nocheckout)) {
      fail(`${words[at + 1]} selects no version: -time, -mkbranch and -nocheckout mean nothing with it`);
    }
    const selects = selector.kind !== 'none' && selector.kind !== 'error';
    if (selects && blocks.mkbranch && (mkbranch === undefined || blocks.mkbranch.override)) mkbranch = blocks.mkbranch.brtype;
    if (selects && blocks.time && time === undefined) time = blocks.time.time;
    rules.push({
      pattern,
      selector,
      mkbranch,
      time,
      nocheckout,
      elementKind: kindWord === '-file' ? 'file' : kindWord === '-directory' ? 'directory' : undefined,
      line,
      source,
      text: words.join(' '),
      matches: compilePattern(pattern),
    });
  });
}

export const DEFAULT_CONFIG_SPEC: ConfigSpec = parseConfigSpec(DEFAULT_CONFIG_SPEC_TEXT, 'default config spec');
