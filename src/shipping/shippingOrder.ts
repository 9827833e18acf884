import { z } from 'zod';
import { InvalidInputError } from '../core/errors.js';

/**
 * A shipping order: the file `sh_o_<packet>` that travels beside its packet from bay to bay. It says what
 * the packet is (name, SHA-256, size), where it goes (destinations, each with its own state), how it has
 * travelled (hops), and until when it may (expiry). It is JSON, versioned by `format`: a reader accepts
 * fields it does not know, so a later msite can add some without breaking an older relay.
 */

/** The order file's name for a packet: MultiSite's `sh_o_` prefix. */
export const ORDER_PREFIX = 'sh_o_';

export function orderFileName(packetName: string): string {
  return `${ORDER_PREFIX}${packetName}`;
}

const destinationState = z.enum(['pending', 'delivered', 'returned']);
export type DestinationState = z.infer<typeof destinationState>;

const destinationSchema = z.looseObject({
  host: z.string().min(1),
  state: destinationState,
  attempts: z.number().int().nonnegative().default(0),
  lastError: z.string().optional(),
  /** ms since the epoch; absent: try at the next pass. */
  nextTry: z.number().optional(),
  deliveredAt: z.number().optional(),
  /** Whether `lastError` may pass by itself (a later try) or needs an administrator (a permanent error). */
  errorKind: z.enum(['transient', 'permanent']).optional(),
  /** The host the last attempt handed the packet to (the ROUTE's next hop, else the destination). */
  lastHop: z.string().optional(),
});
export type OrderDestination = z.infer<typeof destinationSchema>;

const hopSchema = z.looseObject({ host: z.string().min(1), at: z.number() });
export type OrderHop = z.infer<typeof hopSchema>;

export const shippingOrderSchema = z.looseObject({
  format: z.literal(1),
  kind: z.enum(['delivery', 'return']).default('delivery'),
  packet: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  class: z.string().min(1),
  /** The host that made the order; a return goes back to it. */
  origin: z.string().min(1),
  destinations: z.array(destinationSchema).min(1),
  /** Hosts the packet has been stored at, origin first. */
  hops: z.array(hopSchema).default([]),
  createdAt: z.number(),
  expiresAt: z.number(),
  notify: z.array(z.string()).default([]),
  comment: z.string().optional(),
  /**
   * The packet is sealed (age, sealedPacket.ts) for these hosts: only they can read it, and `sha256`
   * and `size` are the sealed file's.
   */
  sealedFor: z.array(z.string()).optional(),
  /** For a return order: when, where and why the delivery order it was made from expired. */
  returned: z
    .looseObject({
      at: z.number(),
      by: z.string(),
      /** The destinations the packet never reached. */
      undelivered: z.array(z.string()),
      expiredAt: z.number(),
    })
    .optional(),
});
export type ShippingOrder = z.infer<typeof shippingOrderSchema>;

/**
 * Parses an order file's text.
 *
 * @throws InvalidInputError naming `source` when it is not JSON or not an order.
 */
export function parseShippingOrder(text: string, source = 'shipping order'): ShippingOrder {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidInputError(`${source} is not a shipping order: not JSON`, { data: { source } });
  }
  const r = shippingOrderSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new InvalidInputError(
      `${source} is not a shipping order: ${issue ? `${issue.path.join('.') || 'order'}: ${issue.message}` : 'malformed'}`,
      {
        data: { source },
      },
    );
  }
  return r.data;
}

/** The order's file text: one JSON document, stable key order as given. */
export function serializeShippingOrder(order: ShippingOrder): string {
  return `${JSON.stringify(order, null, 2)}\n`;
}
