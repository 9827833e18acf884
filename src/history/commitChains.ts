/** A commit to import, as `git rev-list --parents` lists it. */
export interface NewCommit {
  sha: string;
  parents: string[];
  subject: string;
}

/** A line of history that becomes one branch type: a ref's first-parent line, or a merged line. */
export interface Chain {
  key: string;
  /** The ref whose first-parent line this is; undefined for a line only a merge reaches. */
  ref: string | undefined;
  /** What to name its branch type after. */
  name: string;
  /** The commit before its oldest new commit (its first parent), if any: where its branch starts. */
  base: string | undefined;
}

/**
 * Which branch type each new commit's versions go on. Versions of one element on one branch form a
 * line, so each branch type must take one line of history: a ref's first-parent line (the default
 * branch's first, then other branches, then tags, each stopping where an earlier line or an
 * imported commit is met), then each line that only a merge reaches, walked from the merge's other
 * parent and named after the branch the merge message names (else `git_<commit>`).
 */
export function assignChains(
  commits: readonly NewCommit[],
  refs: readonly { ref: string; sha: string; name: string }[],
): { chainOf: Map<string, Chain>; chains: Chain[] } {
  const byId = new Map(commits.map((c) => [c.sha, c]));
  const chainOf = new Map<string, Chain>();
  const chains: Chain[] = [];
  const walk = (start: string, chain: Chain): void => {
    let sha: string | undefined = start;
    let oldest: NewCommit | undefined;
    while (sha !== undefined && byId.has(sha) && !chainOf.has(sha)) {
      const c: NewCommit = byId.get(sha)!;
      chainOf.set(sha, chain);
      oldest = c;
      sha = c.parents[0];
    }
    if (!oldest) return;
    chain.base = oldest.parents[0];
    chains.push(chain);
  };
  const perRef = new Map<string, Chain>();
  for (const r of refs) {
    if (!byId.has(r.sha) || chainOf.has(r.sha)) continue;
    const chain: Chain = { key: `ref:${r.ref}`, ref: r.ref, name: r.name, base: undefined };
    perRef.set(r.ref, chain);
    walk(r.sha, chain);
  }
  // Newest first, so a line merged into a merged line is met after the line that merges it.
  for (const c of commits) {
    if (!chainOf.has(c.sha)) continue;
    for (const p of c.parents.slice(1)) {
      if (!byId.has(p) || chainOf.has(p)) continue;
      walk(p, { key: `side:${p}`, ref: undefined, name: mergedBranchName(c.subject) ?? `git_${p.slice(0, 10)}`, base: undefined });
    }
  }
  // Anything still unplaced (no ref reaches it but through a parent already placed): its own line.
  for (const c of commits) {
    if (!chainOf.has(c.sha)) walk(c.sha, { key: `side:${c.sha}`, ref: undefined, name: `git_${c.sha.slice(0, 10)}`, base: undefined });
  }
  return { chainOf, chains };
}

/** The branch a merge commit's subject says it merged: "Merge branch 'x'", "Merge pull request #1 from u/x". */
export function mergedBranchName(subject: string): string | undefined {
  const m = /^Merge (?:remote-tracking )?branch '([^']+)'/.exec(subject) ?? /^Merge pull request #\d+ from [^/\s]+\/(\S+)/.exec(subject);
  return m?.[1];
}
