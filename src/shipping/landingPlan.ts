import type { ShippingOrder } from './shippingOrder.js';

/**
 * Where a delivered packet goes at the host that received it:
 * - `incoming`: this host is a destination; the packet waits for import (`syncreplica --import --receive`);
 * - `outgoing`: other destinations are reached through this host (it is a relay); the packet waits
 *   for this host's shipping server, with an order for just those destinations;
 * - `return`: a return order has come home; the packet goes to the return bay for an administrator.
 */
export type LandingSlot = 'incoming' | 'outgoing' | 'return';

export interface Landing {
  slot: LandingSlot;
  /** The order to store beside the packet there. */
  order: ShippingOrder;
}

/**
 * What a receiver does with a packet and the order it came with, `here` being the receiving host:
 * one landing for its own delivery (or the return's arrival), one for what it must forward. Every
 * receiver (a directory bay, the daemon's) follows this, so a relay behaves the same whatever carried
 * the packet to it.
 */
export function landingPlan(order: ShippingOrder, here: string): Landing[] {
  const at = order.hops[order.hops.length - 1]?.at ?? order.createdAt;
  const pending = order.destinations.filter((d) => d.state === 'pending');
  const mine = pending.filter((d) => d.host === here);
  const onward = pending.filter((d) => d.host !== here);
  const landings: Landing[] = [];
  if (mine.length > 0) {
    landings.push({
      slot: order.kind === 'return' ? 'return' : 'incoming',
      order: { ...order, destinations: [{ host: here, state: 'delivered', attempts: 0, deliveredAt: at }] },
    });
  }
  if (onward.length > 0) {
    landings.push({
      slot: 'outgoing',
      order: { ...order, destinations: onward.map((d) => ({ host: d.host, state: 'pending' as const, attempts: 0 })) },
    });
  }
  return landings;
}
