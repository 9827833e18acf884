/**
 * The reference receiver of the shipping bench: a minimal Node HTTP server that streams each PUT body
 * to a file in DIR, fsyncs it and answers 201 — what `curl -T` uploads to. No protocol, no checks: the
 * floor an upload to a Node process costs on this machine. With HOME (a site home) it serves HTTPS
 * with that site's key and certificate, no client certificate asked: the floor with TLS. Prints its
 * port on its first line.
 *
 *   node dist/bench/plainReceiver.js DIR [HOME]
 */
import { closeSync, createWriteStream, fsyncSync, openSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { loadSiteIdentity } from '../src/shipping/siteIdentity.js';

const [dir, home] = process.argv.slice(2);
if (!dir) {
  console.error('usage: plainReceiver.js DIR [HOME]');
  process.exit(2);
}
const receive = (req: IncomingMessage, res: ServerResponse): void => {
  const fd = openSync(join(dir, 'upload'), 'w');
  pipeline(req, createWriteStream('', { fd, autoClose: false }))
    .then(() => fsyncSync(fd))
    .finally(() => closeSync(fd))
    .then(
      () => res.writeHead(201).end(),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
};
const identity = home === undefined ? undefined : loadSiteIdentity(home);
if (home !== undefined && !identity) throw new Error(`${home} has no site identity`);
const server = identity ? createHttpsServer({ key: identity.key, cert: identity.cert }, receive) : createServer(receive);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
