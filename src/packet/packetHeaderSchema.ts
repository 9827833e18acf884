import { z } from 'zod';
import type { PacketHeader, PacketHeaderInput } from './packetTypes.js';

const count = z.int().min(0);
const name = z.string().max(4096);
const oid = z.string().min(1).max(256);
const row = z.record(oid, count);

const headerObject = z.object({
  kind: z.enum(['update', 'creation']),
  family: oid,
  packet: oid,
  origin: oid,
  originName: name,
  targets: z.array(z.object({ oid, name })),
  sequence: count,
  fragment: z
    .object({ index: z.int().min(1), count: z.int().min(1) })
    .refine((f) => f.index <= f.count, { message: 'fragment index is beyond the fragment count' }),
  requires: row,
  senderRow: row,
  facts: z.record(oid, z.object({ row, at: z.int() })),
  ranges: z.record(
    oid,
    z.tuple([count, count]).refine(([first, last]) => first <= last, { message: 'range ends before it starts' }),
  ),
  opCount: count,
  bodySha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected a hex SHA-256'),
  bodyLength: count,
  createdAt: z.int(),
  comment: z.string(),
  incarnation: count,
  extra: z.record(z.string(), z.unknown()).optional(),
});

/**
 * The header as a reader checks it. Unknown fields (from a newer minor format) are dropped; `extra`
 * is the place for added fields that must survive.
 */
export const packetHeaderSchema = headerObject;

/** What writePacket is given: the header without the fields it computes from the body. */
export const packetHeaderInputSchema = headerObject.omit({ opCount: true, bodySha256: true, bodyLength: true });

/** The first problem of a failed parse, as "field.path: message", for one-line errors. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'is invalid';
  const where = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  return `field ${where}: ${issue.message}`;
}

// The schemas and the interfaces must describe the same things; these fail to compile if they drift.
const _header: (h: z.infer<typeof packetHeaderSchema>) => PacketHeader = (h) => h;
const _headerBack: (h: PacketHeader) => z.infer<typeof packetHeaderSchema> = (h) => h;
const _input: (h: z.infer<typeof packetHeaderInputSchema>) => PacketHeaderInput = (h) => h;
void _header;
void _headerBack;
void _input;
