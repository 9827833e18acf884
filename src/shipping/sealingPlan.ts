import { NotFoundError } from '../core/errors.js';
import { DEFAULT_CLASS, nextHop, type ShippingConf } from './shippingConf.js';

/** The hosts a packet is sealed for, and their age recipients (one file any of them opens). */
export interface SealingPlan {
  hosts: string[];
  recipients: string[];
}

/**
 * The recipients of `hosts`, from their PEER lines.
 *
 * @throws NotFoundError naming the first host with no PEER line or no recipient on it.
 */
export function recipientsOf(conf: ShippingConf, hosts: readonly string[], why: string): SealingPlan {
  const unique = [...new Set(hosts)];
  const recipients = unique.map((host) => {
    const recipient = conf.peers.get(host)?.recipient;
    if (recipient === undefined) {
      throw new NotFoundError('age recipient of host', host, {
        hint: `${why}; give its recipient, as its msite site show prints it: msite site peer ${host} URL PUBLIC-KEY RECIPIENT`,
      });
    }
    return recipient;
  });
  return { hosts: unique, recipients };
}

/**
 * Whether a packet for `destinations` is sealed when its order is made at `here`: when any of them is
 * reached through a relay (a ROUTE's next hop), so that every bay after this one holds ciphertext only.
 * The file is then sealed for every destination, so one file serves them all. Direct deliveries go
 * over TLS to the destination itself and are not sealed.
 *
 * @throws NotFoundError when a destination has no recipient in its PEER line (the caller writes nothing).
 */
export function sealingPlan(
  conf: ShippingConf,
  destinations: readonly string[],
  options: { here: string; sclass?: string },
): SealingPlan | undefined {
  const cls = options.sclass ?? DEFAULT_CLASS;
  // A route through this host is a cycle, which the shipping server reports; it relays nothing.
  const relayed = destinations.filter((d) => d !== options.here && ![d, options.here].includes(nextHop(conf, d, cls)));
  if (relayed.length === 0) return undefined;
  return recipientsOf(
    conf,
    destinations.filter((d) => d !== options.here),
    `packets for ${relayed.join(', ')} go through ${[...new Set(relayed.map((d) => nextHop(conf, d, cls)))].join(', ')} and are sealed for their destinations`,
  );
}
