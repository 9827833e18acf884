import type { ShippingOrder } from './shippingOrder.js';

/** One host a packet can be handed to: a `PEER` of shipping.conf. */
export interface Hop {
  host: string;
  /** Where its daemon's peer listener is, e.g. `https://sanfran:7071`. */
  url: string;
  /** Its site key (the key its TLS certificate is made from), as shipping.conf's PEER line writes it. */
  publicKey: string;
}

/** What one delivery hands over. */
export interface DeliveryRequest {
  hop: Hop;
  /** The packet on disk, in the sender's bay. */
  packetPath: string;
  /** The order as it travels on: this hop already appended to `hops`. */
  order: ShippingOrder;
  /** Told the bytes the receiver holds as they grow (for progress and the log). */
  onProgress?: (bytesHeld: number, size: number) => void;
}

/** The receiver's word that the whole packet arrived, matched its SHA-256, and is durable in a bay. */
export interface DeliveryReceipt {
  /** Bytes this attempt sent (less than the size when it resumed an earlier one). */
  bytesSent: number;
  /** The name the packet was stored under at the receiver (a taken name gets a new one). */
  storedAs: string;
}

/**
 * Moves a packet and its order to the next hop. The shipping server decides what goes where and when;
 * a transport only carries one packet to one hop, resuming what an earlier attempt left at that hop.
 * Every transport passes test/shipping/transportConformance.ts.
 */
export interface Transport {
  /**
   * Delivers `request.packetPath` with its order to `request.hop`. Resolves only once the receiver has
   * confirmed the whole packet durable with the order's SHA-256; the caller may then delete its copy.
   *
   * @throws MsiteError: transient (connection refused, reset, timeout) when a later attempt may succeed,
   * permanent when the receiver refused the packet (unknown peer, bad name, too large, SHA-256 mismatch).
   */
  deliver(request: DeliveryRequest, signal?: AbortSignal): Promise<DeliveryReceipt>;
}
