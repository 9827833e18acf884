import { statSync } from 'node:fs';
import { defaultShippingConf, loadShippingConf, type ShippingConf } from '../shipping/shippingConf.js';

/**
 * The site's shipping.conf as the daemon's peer listener reads it: loaded again whenever the file
 * changes (so `msite site peer` takes effect without a restart), and the PEER keys indexed.
 */
export class PeerDirectory {
  private stamp = '';
  private loaded: ShippingConf = defaultShippingConf();
  private byKey = new Map<string, string>();

  constructor(readonly file: string) {}

  /**
   * The configuration now.
   *
   * @throws ShippingConfError while the file has a bad line.
   */
  conf(): ShippingConf {
    let stamp = 'absent';
    try {
      const st = statSync(this.file);
      stamp = `${st.mtimeMs}:${st.size}:${st.ino}`;
    } catch {
      // No shipping.conf: every default, no peers.
    }
    if (stamp !== this.stamp) {
      this.loaded = stamp === 'absent' ? defaultShippingConf() : loadShippingConf(this.file);
      this.byKey = new Map([...this.loaded.peers.values()].map((p) => [p.publicKey, p.host]));
      this.stamp = stamp;
    }
    return this.loaded;
  }

  /** The PEER host whose key this is; undefined for a key no PEER line names. */
  hostOf(publicKey: string): string | undefined {
    this.conf();
    return this.byKey.get(publicKey);
  }
}
