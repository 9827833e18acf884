import { hash } from 'node:crypto';

/**
 * The SHA-256 of `bytes` in lowercase hex: how content is named everywhere. One-shot `crypto.hash`
 * (Node 20.12+), about five times faster than a Hash object for the small blobs most versions are
 * (measured: 0.5 µs against 2.7 µs for 240 bytes), which counts when an import or export hashes
 * every blob it carries.
 */
export function sha256Hex(bytes: Uint8Array): string {
  return hash('sha256', bytes, 'hex');
}
