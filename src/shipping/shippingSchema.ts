/**
 * The shipping server's tables in site.db, added by a site migration (site/siteSchema.ts):
 *
 * - `order_claim`: an order a shipping server is working on. The row is the lock: a server inserts it
 *   (one statement, so of two servers exactly one gets it), works, and deletes it. A claim whose
 *   process is gone, or older than the staleness bound, is taken over, so a crash never blocks an order.
 * - `order_attempt` gains the hop, the bytes sent and the seconds taken, for the log and the dashboard.
 */
export const SHIPPING_SCHEMA_V3 = `
  CREATE TABLE order_claim (
    order_file TEXT PRIMARY KEY,
    claimed_by TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    claimed_at INTEGER NOT NULL
  );
  ALTER TABLE order_attempt ADD COLUMN hop TEXT;
  ALTER TABLE order_attempt ADD COLUMN bytes INTEGER;
  ALTER TABLE order_attempt ADD COLUMN seconds REAL;
`;
