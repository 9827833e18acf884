import { closeSync, readSync } from 'node:fs';
import { PacketError } from './packetError.js';
import { openPacketFile, readPacketHeaderInfo } from './packetFile.js';
import type { PacketHeader } from './packetTypes.js';
import { SIGNATURE_LENGTH, verify } from './replicaKeys.js';

/**
 * Reads a packet's header and checks its signature, without reading the body: the header names the
 * body's length and SHA-256 and is signed with them, so a verified header can be trusted for what it
 * says (ranges, rows, facts) while the body is checked only when it is applied. This is what lets a
 * re-import of an applied packet cost the same whatever the packet's size.
 */
export function verifyPacketHeader(path: string, publicKeyFor: (origin: string) => string | undefined): PacketHeader {
  const info = readPacketHeaderInfo(path);
  const { header } = info;
  const signedLength = info.bodyOffset - 2 - SIGNATURE_LENGTH;
  if (info.fileLength < info.bodyOffset) {
    throw new PacketError('truncated', path, `packet ${path} is truncated: it ends inside its signature`, {
      hint: 'ask the sender to resend it',
    });
  }
  const key = publicKeyFor(header.origin);
  if (key === undefined) {
    throw new PacketError(
      'unknown-signer',
      path,
      `packet ${path} is signed by replica ${header.originName} (${header.origin}), which is unknown here`,
      {
        data: { origin: header.origin },
      },
    );
  }
  const signed = Buffer.allocUnsafe(info.bodyOffset);
  const fd = openPacketFile(path);
  try {
    let off = 0;
    while (off < signed.length) {
      const n = readSync(fd, signed, off, signed.length - off, off);
      if (n === 0) break;
      off += n;
    }
  } finally {
    closeSync(fd);
  }
  const sigLength = signed.readUInt16BE(signedLength);
  const signature = signed.subarray(signedLength + 2, info.bodyOffset);
  if (sigLength !== SIGNATURE_LENGTH || !verify(key, signed.subarray(0, signedLength), signature)) {
    throw new PacketError('signature', path, `packet ${path} has a bad signature: it was changed after ${header.originName} signed it`, {
      hint: 'ask the sender to resend it',
    });
  }
  return header;
}
