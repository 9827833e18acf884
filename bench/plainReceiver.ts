/**
 * The reference receiver of the shipping bench: a minimal plain-HTTP server that streams each PUT body
 * to a file in DIR, fsyncs it and answers 201 — what `curl -T` uploads to. No TLS, no protocol, no
 * checks: the floor an upload over HTTP on this machine costs. Prints its port on its first line.
 *
 *   node dist/bench/plainReceiver.js DIR
 */
import { closeSync, createWriteStream, fsyncSync, openSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: plainReceiver.js DIR');
  process.exit(2);
}
const server = createServer((req, res) => {
  const fd = openSync(join(dir, 'upload'), 'w');
  pipeline(req, createWriteStream('', { fd, autoClose: false }))
    .then(() => fsyncSync(fd))
    .finally(() => closeSync(fd))
    .then(
      () => res.writeHead(201).end(),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
