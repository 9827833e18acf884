import type { Database, Statement } from 'better-sqlite3';

/**
 * Prepared statements of one connection, by their SQL, kept for the life of the handle: preparing
 * costs more than running most of ours, and bulk paths run the same few per row.
 */
export class StatementCache {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  /** The statement for `sql`, prepared on first use. */
  get(sql: string): Statement {
    let st = this.statements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.statements.set(sql, st);
    }
    return st;
  }

  /** Forgets them all: before the connection closes, or a VACUUM (which no statement may be running across). */
  clear(): void {
    this.statements.clear();
  }
}
