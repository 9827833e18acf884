import type { Duplex } from 'node:stream';
import { Agent, type AgentOptions, type RequestOptions } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { certificateKeyText } from './peerKey.js';

/** The server at the other end presented a certificate made from another key than its PEER line's. */
export class PeerKeyMismatch extends Error {
  constructor(
    readonly expected: string,
    readonly presented: string | undefined,
  ) {
    super(
      `the server presented ${presented === undefined ? 'no Ed25519 certificate' : `key ${presented}`}, its PEER line says ${expected}`,
    );
  }
}

/**
 * An HTTPS agent for one peer: it presents this site's certificate, and hands a connection to a
 * request only once the server's certificate has been checked to be made from `expectedKey` (the
 * PEER line's): pinned by key, no CA, and not one byte of a request goes to another server. Every
 * socket it made is kept in `sockets`, for the bytes sent.
 */
export class PinnedAgent extends Agent {
  readonly made: TLSSocket[] = [];

  constructor(
    private readonly expectedKey: string,
    options: AgentOptions & { key: string; cert: string },
  ) {
    super({ ...options, rejectUnauthorized: false });
  }

  override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    const socket = connect({ ...(options as object), rejectUnauthorized: false });
    this.made.push(socket);
    let settled = false;
    const done = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      socket.off('error', onError);
      if (err) {
        socket.destroy();
        callback?.(err, socket);
      } else {
        callback?.(null, socket);
      }
    };
    const onError = (err: Error): void => done(err);
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      const presented = certificateKeyText(socket.getPeerX509Certificate());
      done(presented === this.expectedKey ? null : new PeerKeyMismatch(this.expectedKey, presented));
    });
    return undefined;
  }

  /** Bytes written on every connection this agent made. */
  get bytesWritten(): number {
    return this.made.reduce((sum, s) => sum + s.bytesWritten, 0);
  }
}
