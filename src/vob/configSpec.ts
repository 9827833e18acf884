import { InvalidInputError } from '../core/errors.js';

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
  | { kind: 'label'; name: string };

export interface ConfigRule {
  pattern: string;
  selector: Selector;
  /** Branch type to create at the selected version when checking out through this rule. */
  mkbranch: string | undefined;
  line: number;
  matches(path: string): boolean;
}

export interface ConfigSpec {
  source: string;
  rules: ConfigRule[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

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

/**
 * Parses a config spec: one rule per line, `element PATTERN SELECTOR [-mkbranch BRTYPE]`, `#`
 * comments and blank lines ignored. Errors name the source and line.
 */
export function parseConfigSpec(text: string, source = 'config spec'): ConfigSpec {
  const rules: ConfigRule[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    const body = raw.replace(/#.*$/, '').trim();
    if (body === '') return;
    const fail = (why: string): never => {
      throw new InvalidInputError(`${source}, line ${line}: ${why}`, {
        data: { source, line },
        hint: 'rules are "element PATTERN SELECTOR [-mkbranch BRTYPE]"',
      });
    };
    const words = body.split(/\s+/);
    if (words[0] !== 'element') fail(`unknown rule "${words[0]}"`);
    if (words.length < 3) fail('a rule needs a pattern and a version selector');
    const selector = parseSelector(words[2]!) ?? fail(`bad version selector "${words[2]}"`);
    let mkbranch: string | undefined;
    const extra = words.slice(3);
    if (extra.length > 0) {
      if (extra[0] !== '-mkbranch' || extra.length !== 2) fail(`unexpected "${extra.join(' ')}"`);
      if (!NAME.test(extra[1]!)) fail(`bad branch type name "${extra[1]}"`);
      mkbranch = extra[1];
    }
    rules.push({ pattern: words[1]!, selector, mkbranch, line, matches: compilePattern(words[1]!) });
  });
  if (rules.length === 0) throw new InvalidInputError(`${source}: no rules`, { hint: 'a config spec needs at least one element rule' });
  return { source, rules };
}

export const DEFAULT_CONFIG_SPEC: ConfigSpec = parseConfigSpec(DEFAULT_CONFIG_SPEC_TEXT, 'default config spec');
