import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, msite, ok, tempDir } from '../helpers/cli.js';

const root = tempDir('msite-listeners-');
const held: Server[] = [];
afterAll(() => {
  for (const s of held) s.close();
});

/** Holds a loopback port, as another program would. */
async function takenPort(): Promise<number> {
  const s = createServer();
  held.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as { port: number }).port;
}

describe('msite serve listeners', () => {
  it('fails on an admin port in use before creating the home', async () => {
    const home = join(root, 'fresh');
    const port = await takenPort();
    const r = await msite(['serve', '--port', '0', '--admin-port', String(port)], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      `msite: error: cannot listen on 127.0.0.1:${port}: the port is in use (choose another port with --admin-port, or stop what uses it)\n`,
    );
    expect(existsSync(home)).toBe(false);
  });

  it('fails on a peer port in use before writing anything, and runs both listeners otherwise', async () => {
    const home = join(root, 'site');
    await ok(['site', 'init', '--host', 'boston_hub', '--listen', '127.0.0.1'], { home });
    const port = await takenPort();
    const r = await msite(['serve', '--port', String(port), '--admin-port', '0'], { home });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(`^msite: error: cannot listen on 127\\.0\\.0\\.1:${port}: the port is in use \\(choose another port with --port,`),
    );
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
    expect(existsSync(join(home, 'shipping', '.uploads'))).toBe(false);

    // With free ports: the admin listener answers plain HTTP on loopback, the peer listener TLS only.
    const child = spawn(process.execPath, [BIN, 'serve', '--home', home, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const ports = await new Promise<[number, number]>((resolvePorts, rejectPorts) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /^msite serve: listening on http:\/\/127\.0\.0\.1:(\d+)\nmsite serve: peers on port (\d+)\n/.exec(out);
        if (m) resolvePorts([Number(m[1]), Number(m[2])]);
      });
      child.once('exit', (code) => rejectPorts(new Error(`serve exited ${code}`)));
    });
    try {
      const health = (await (await fetch(`http://127.0.0.1:${ports[0]}/api/health`)).json()) as { peerPort: number };
      expect(health.peerPort).toBe(ports[1]);
      // Plain HTTP to the peer listener gets no answer: it speaks TLS only.
      await expect(fetch(`http://127.0.0.1:${ports[1]}/receipts/x`)).rejects.toThrow();
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    expect(existsSync(join(home, 'daemon.json'))).toBe(false);
  });
});
