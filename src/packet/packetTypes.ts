/**
 * The shapes of a packet: the header anyone can read without the body (lspacket, dependency sorting)
 * and the body (ops + content). The byte layout is in packetFile.ts, the body encoding in packetBody.ts.
 */

/**
 * Version of the file layout and body encoding. A reader refuses another major and accepts a newer
 * minor. 2.0: plain msgpack op chunks, with op data as the oplog stores it (fields by position).
 */
export const PACKET_FORMAT = { major: 2, minor: 0 } as const;

/**
 * The streamed layout (packetStream.ts), which exports write: the same prefix, header and signature,
 * and a body written and read in bounded chunks. 3.0 was the first; 4.0 adds records a 3.x reader
 * does not know (blobs in the pool's stored form, deltas between versions), and reads 3.0 as well.
 * Readers read every major from 2; writePacket (bodies built in memory: tests) still writes 2.0.
 */
export const STREAM_FORMAT = { major: 4, minor: 0 } as const;

/**
 * What creation packets are written in: 5.0 carries the VOB's database as runs of its pages, those
 * that compress through the compressor and those that do not (the content pool's deflated blobs,
 * kept in the database's pages) in the stored section (packetStream.ts). Update packets hold nothing
 * 5.0 added and are still written as STREAM_FORMAT, so an msite that reads up to 4 keeps reading
 * them. Creation packets of 2.0 to 4.0 still import.
 */
export const CREATION_FORMAT = { major: 5, minor: 0 } as const;

/** Whether a packet of this format major has a streamed body (packetStream.ts). */
export function isStreamFormat(major: number): boolean {
  return major === 3 || major === STREAM_FORMAT.major || major === CREATION_FORMAT.major;
}

export type PacketKind = 'update' | 'creation';

/** Oplog ids by origin replica OID. */
export type EpochRow = Record<string, number>;

/** A replica's reported actual row and when it was reported. */
export interface ReplicaFact {
  row: EpochRow;
  at: number;
}

export interface PacketHeader {
  kind: PacketKind;
  /** VOB family OID. */
  family: string;
  /** Logical packet OID, shared by all fragments. */
  packet: string;
  /** Exporting replica OID; the packet is signed with its key. */
  origin: string;
  originName: string;
  targets: { oid: string; name: string }[];
  /** Per-sender packet sequence number. */
  sequence: number;
  /** 1-based: fragment 2 of 3. */
  fragment: { index: number; count: number };
  /** What the target must already have applied, per origin. */
  requires: EpochRow;
  /** The sender's actual row at export. */
  senderRow: EpochRow;
  /** Replica OID -> newest reported actual row. */
  facts: Record<string, ReplicaFact>;
  /** Origin OID -> [first, last] oplog ids in the body (inclusive); every op of the body lies in its origin's range. */
  ranges: Record<string, [number, number]>;
  /** Number of ops in the body (computed by writePacket). */
  opCount: number;
  /** Hex SHA-256 of the stored (compressed) body bytes (computed by writePacket). */
  bodySha256: string;
  /** Stored body bytes (computed by writePacket). */
  bodyLength: number;
  /** Ms since epoch. */
  createdAt: number;
  comment: string;
  /** Sender's recovery incarnation (ms timestamp or counter). */
  incarnation: number;
  /** Room for later header fields (e.g. restore requests). */
  extra?: Record<string, unknown>;
}

/** What writePacket is given: the header without the fields it computes from the body. */
export type PacketHeaderInput = Omit<PacketHeader, 'bodySha256' | 'bodyLength' | 'opCount'>;

/**
 * One oplog entry on the wire. `id` is a positive integer, `at` an integer (ms since epoch).
 * `data` is any msgpack value (objects, arrays, strings, numbers, booleans, null, Uint8Array...);
 * byte strings come back as Buffers (a Uint8Array), and an object key `__proto__` comes back as
 * `__proto_` (msgpackr's guard against prototype pollution). Data given as a RawMsgpack (bytes of
 * one msgpack value) is written as those bytes and read back as the value they encode.
 */
export interface WireOp {
  origin: string;
  id: number;
  kind: string;
  data: unknown;
  at: number;
  /** Read ops only: the exact bytes `data` was decoded from (one msgpack value, no records). */
  encoded?: Uint8Array;
}

/** A file version's content, named by the hex SHA-256 of `bytes` (writePacket checks it unless `verified`). */
export interface PacketBlob {
  sha: string;
  bytes: Uint8Array;
  /**
   * The caller has checked that `sha` is the SHA-256 of `bytes` (an export's blobs come from the
   * content pool, which verifies every blob it reads), so writePacket need not hash them again.
   */
  verified?: boolean;
  /**
   * Optional similarity key, e.g. the element or branch OID: blobs with the same group are stored
   * next to each other, in the given order, so the compressor finds what consecutive versions share.
   * Not stored; blobs without one are ordered by content. Read blobs never have it.
   */
  group?: string;
}

/** A creation packet's file: `sha` is its name (the pool's), not checked against `bytes`. */
export interface PacketFile {
  sha: string;
  bytes: Uint8Array;
}

export interface PacketBody {
  /** In the caller's order (the sender's application order, which is causal); kept exactly. */
  ops: WireOp[];
  /**
   * Content the ops need (file versions by SHA-256). Stored once per SHA and reordered so similar
   * content is adjacent: a read body has each SHA once, in stored order, not the caller's.
   */
  blobs: PacketBlob[];
  /**
   * Creation packets only: the whole VOB. Files keep their order. Format 2 carries the new replica's
   * key as a file; formats 4 and 5 as `replicaKey`.
   */
  creation?: { database: Uint8Array; files: PacketFile[]; replicaKey?: Uint8Array };
}
