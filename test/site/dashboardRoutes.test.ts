import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/core/clock.js';
import { ScheduleStore } from '../../src/schedule/scheduleStore.js';
import { registerDashboardRoutes } from '../../src/site/dashboardRoutes.js';
import type { DashboardSnapshot } from '../../src/site/dashboardTypes.js';
import { useMsiteHttp } from '../../src/site/httpErrors.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';
import { family } from '../helpers/sites.js';

const app = Fastify();
afterAll(async () => {
  await app.close();
});

/** Reads server-sent events from `body` until `count` `snapshot` events came; returns their data. */
async function snapshots(body: ReadableStream<Uint8Array>, count: number, meanwhile: () => Promise<void>): Promise<DashboardSnapshot[]> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const got: DashboardSnapshot[] = [];
  let text = '';
  while (got.length < count) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0) {
      const event = text.slice(0, end);
      text = text.slice(end + 2);
      const data = /^event: snapshot\ndata: (.*)$/s.exec(event);
      if (data) {
        got.push(JSON.parse(data[1]!) as DashboardSnapshot);
        if (got.length === 1) await meanwhile();
      }
    }
  }
  await reader.cancel();
  return got;
}

describe('dashboard routes', () => {
  it('a 503 page naming npm run build until built; assets by name only; a snapshot event at once and one per change', async () => {
    const root = tempDir('msite-dash-routes-');
    const [boston] = await family(root, ['boston_hub']);
    const home = SiteHome.locate(boston!.home, {}, root);
    const web = join(root, 'web');
    useMsiteHttp(app);
    registerDashboardRoutes(app, {
      home,
      store: ScheduleStore.open(home.database().db),
      clock: systemClock,
      timeZone: undefined,
      webRoot: web,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const url = `http://127.0.0.1:${port}`;

    const unbuilt = await fetch(`${url}/`);
    expect(unbuilt.status).toBe(503);
    expect(unbuilt.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await unbuilt.text()).toContain('npm run build');

    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>dash</title>');
    writeFileSync(join(web, 'assets', 'index-abc.js'), 'export {};');
    writeFileSync(join(root, 'secret.js'), 'secret');
    const index = await fetch(`${url}/`);
    expect([index.status, index.headers.get('content-type'), await index.text()]).toEqual([
      200,
      'text/html; charset=utf-8',
      '<!doctype html><title>dash</title>',
    ]);
    const asset = await fetch(`${url}/assets/index-abc.js`);
    expect([asset.status, asset.headers.get('content-type')]).toEqual([200, 'text/javascript; charset=utf-8']);
    for (const bad of ['..%2F..%2Fsecret.js', '..%2F..%2Fsite.db', '..%2Fassets%2Findex-abc.js', 'index-abc.exe']) {
      const r = await fetch(`${url}/assets/${bad}`);
      expect(r.status, bad).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
    }
    expect((await fetch(`${url}/api/dashboard`, { method: 'POST' })).status).toBe(405);

    const snapshot = (await (await fetch(`${url}/api/dashboard`)).json()) as DashboardSnapshot;
    expect(snapshot.vobs.map((v) => v.tag)).toEqual(['/vobs/dev']);
    expect(snapshot.limits.conflicts).toBeGreaterThan(0);

    // A change to the VOB reaches an open event stream without being asked for.
    const events = await fetch(`${url}/api/events`);
    expect(events.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const [first, second] = await snapshots(events.body!, 2, async () => {
      await boston!.run('mklbtype', 'LIVE');
    });
    expect(second!.vobs[0]!.actualRow['boston_hub']).toBe(first!.vobs[0]!.actualRow['boston_hub']! + 1);
  });
});
