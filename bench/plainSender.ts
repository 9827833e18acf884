/**
 * The TLS reference of the shipping bench: one HTTPS PUT of FILE to URL from Node (no client
 * certificate, the server's not checked), streamed from disk; exits once the server has answered.
 * Beside bench/plainReceiver.ts over HTTPS it is what TLS alone costs two Node processes here, with
 * no protocol, order or hash on top.
 *
 *   node dist/bench/plainSender.js FILE URL
 */
import { createReadStream, statSync } from 'node:fs';
import { request } from 'node:https';
import { pipeline } from 'node:stream/promises';

const [file, url] = process.argv.slice(2);
if (!file || !url) {
  console.error('usage: plainSender.js FILE URL');
  process.exit(2);
}
const req = request(url, {
  method: 'PUT',
  rejectUnauthorized: false,
  headers: { 'content-length': String(statSync(file).size) },
});
req.on('response', (res) => {
  res.resume();
  if (res.statusCode !== 201) process.exitCode = 1;
});
await pipeline(createReadStream(file), req);
