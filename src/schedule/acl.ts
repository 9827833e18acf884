import { DefinitionError, type DefinitionProblem } from './definitionError.js';
import { ScheduleAccessError } from './scheduleAccessError.js';

/**
 * The scheduler ACL, as ClearCase's `schedule -get -acl` shows it: one entry a line,
 *
 *     Everyone: Read
 *     User:alice: Change
 *     User:root: Full
 *
 * Read lets a user see jobs and tasks; Change also lets them set, edit, run and delete jobs; Full also
 * lets them change the ACL. A user gets the higher of their own entry and Everyone's. `#` lines are
 * comments.
 */

export const ACCESS_LEVELS = ['read', 'change', 'full'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

export type AclPrincipal = { readonly everyone: true } | { readonly user: string };

export interface AclEntry {
  principal: AclPrincipal;
  access: AccessLevel;
}

const rank = (level: AccessLevel): number => ACCESS_LEVELS.indexOf(level);
const label = (level: AccessLevel): string => level[0]!.toUpperCase() + level.slice(1);

/** The ACL of a new store: everyone may read, the owner (the site's administrator) has full access. */
export function defaultAcl(owner: string): AclEntry[] {
  return [
    { principal: { everyone: true }, access: 'read' },
    { principal: { user: owner }, access: 'full' },
  ];
}

/**
 * Reads ACL text.
 *
 * @throws DefinitionError naming the line of each bad or repeated entry.
 */
export function parseAcl(text: string, file?: string): AclEntry[] {
  const problems: DefinitionProblem[] = [];
  const entries: AclEntry[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const line = i + 1;
    const trimmed = raw.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const m = /^(Everyone|User:([^\s:]+))\s*:\s*(\S+)$/i.exec(trimmed);
    const access = m ? ACCESS_LEVELS.find((l) => l === m[3]!.toLowerCase()) : undefined;
    if (!m || !access) {
      problems.push({
        line,
        message:
          'an ACL entry must be "Everyone: <access>" or "User:<name>: <access>" with access Read, Change ' +
          `or Full, got ${JSON.stringify(trimmed)}`,
      });
      return;
    }
    const principal: AclPrincipal = m[2] === undefined ? { everyone: true } : { user: m[2] };
    const key = 'user' in principal ? `User:${principal.user}` : 'Everyone';
    const first = seen.get(key);
    if (first !== undefined) {
      problems.push({ line, message: `${key} given twice (first at line ${first})` });
      return;
    }
    seen.set(key, line);
    entries.push({ principal, access });
  });
  if (problems.length > 0) throw new DefinitionError(problems, file);
  return entries;
}

export function printAcl(entries: readonly AclEntry[]): string {
  return entries.map((e) => `${'user' in e.principal ? `User:${e.principal.user}` : 'Everyone'}: ${label(e.access)}\n`).join('');
}

/** The access the ACL grants a user: the higher of their entry and Everyone's; undefined if neither. */
export function accessOf(entries: readonly AclEntry[], user: string): AccessLevel | undefined {
  let best: AccessLevel | undefined;
  for (const e of entries) {
    const applies = 'everyone' in e.principal || e.principal.user === user;
    if (applies && (best === undefined || rank(e.access) > rank(best))) best = e.access;
  }
  return best;
}

/** @throws ScheduleAccessError unless the ACL grants `user` at least `needed`. */
export function requireAccess(entries: readonly AclEntry[], user: string, needed: AccessLevel): void {
  const granted = accessOf(entries, user);
  if (granted === undefined || rank(granted) < rank(needed)) {
    throw new ScheduleAccessError(user, needed, granted ?? 'none');
  }
}
