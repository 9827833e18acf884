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

/**
 * Version 5: `order_attempt.packet_bytes`, the size of the packet an attempt carried (the order's
 * `size`: the sealed file's for a sealed packet). `bytes` counts what went on the wire, request
 * headers and a resumed upload's remainder only included, so it cannot say how much data was
 * delivered; /metrics sums this column for the delivered attempts. Rows written before keep NULL.
 */
export const SHIPPING_SCHEMA_V5 = `
  ALTER TABLE order_attempt ADD COLUMN packet_bytes INTEGER;
`;
