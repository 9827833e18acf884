import { hostname } from 'node:os';
import type { Database } from 'better-sqlite3';

/** A claim older than this is taken over whoever holds it: no delivery attempt runs this long. */
export const DEFAULT_CLAIM_STALE_MS = 6 * 60 * 60 * 1000;

export interface AttemptRecord {
  order: string;
  destination: string;
  hop: string;
  at: number;
  outcome: 'delivered' | 'failed';
  /** Bytes written on the wire (headers included; a resumed upload only its remainder). */
  bytes: number;
  /** The size of the packet the attempt carried (the order's `size`); 0 when not recorded. */
  packetBytes: number;
  seconds: number;
  errorCode?: string;
  errorMessage?: string;
}

function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The shipping server's bookkeeping in site.db (tables of shippingSchema.ts): which orders are
 * claimed, and every delivery attempt. Given the site's open database; every write is one statement
 * or one transaction.
 */
export class OrderLedger {
  private readonly me: string;

  constructor(
    private readonly db: Database,
    private readonly staleMs: number = DEFAULT_CLAIM_STALE_MS,
  ) {
    this.me = `${hostname()}:${process.pid}`;
  }

  /**
   * Claims `orderFile` for this process. Returns false when another live server holds it. A claim
   * left by a process that has died on this host, or older than the staleness bound, is taken over.
   */
  claim(orderFile: string, now: number): boolean {
    return this.db
      .transaction(() => {
        const held = this.db.prepare('SELECT pid, host, claimed_at FROM order_claim WHERE order_file = ?').get(orderFile) as
          { pid: number; host: string; claimed_at: number } | undefined;
        if (held) {
          const dead = held.host === hostname() && !processRuns(held.pid);
          if (!dead && now - held.claimed_at < this.staleMs) return false;
          this.db.prepare('DELETE FROM order_claim WHERE order_file = ?').run(orderFile);
        }
        this.db
          .prepare('INSERT INTO order_claim (order_file, claimed_by, pid, host, claimed_at) VALUES (?, ?, ?, ?, ?)')
          .run(orderFile, this.me, process.pid, hostname(), now);
        return true;
      })
      .immediate();
  }

  /** Drops this process's claim on `orderFile`. */
  release(orderFile: string): void {
    this.db.prepare('DELETE FROM order_claim WHERE order_file = ? AND claimed_by = ?').run(orderFile, this.me);
  }

  record(a: AttemptRecord): void {
    this.db
      .prepare(
        `INSERT INTO order_attempt (order_name, destination, attempted_at, outcome, error_code, error_message, hop, bytes, packet_bytes, seconds)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(a.order, a.destination, a.at, a.outcome, a.errorCode ?? null, a.errorMessage ?? null, a.hop, a.bytes, a.packetBytes, a.seconds);
  }

  /** Every attempt recorded for an order (by its file name), oldest first. */
  attempts(order: string): AttemptRecord[] {
    const rows = this.db.prepare('SELECT * FROM order_attempt WHERE order_name = ? ORDER BY seq').all(order) as {
      order_name: string;
      destination: string;
      attempted_at: number;
      outcome: 'delivered' | 'failed';
      error_code: string | null;
      error_message: string | null;
      hop: string | null;
      bytes: number | null;
      packet_bytes: number | null;
      seconds: number | null;
    }[];
    return rows.map((r) => ({
      order: r.order_name,
      destination: r.destination,
      hop: r.hop ?? '',
      at: r.attempted_at,
      outcome: r.outcome,
      bytes: r.bytes ?? 0,
      packetBytes: r.packet_bytes ?? 0,
      seconds: r.seconds ?? 0,
      ...(r.error_code !== null ? { errorCode: r.error_code } : {}),
      ...(r.error_message !== null ? { errorMessage: r.error_message } : {}),
    }));
  }
}
