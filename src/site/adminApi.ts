import type { FastifyInstance } from 'fastify';
import { isoTime, type Clock } from '../core/clock.js';
import { jobStatus } from '../schedule/jobStatus.js';
import type { Scheduler } from '../schedule/scheduler.js';
import type { ScheduleStore } from '../schedule/scheduleStore.js';
import { refuseOtherMethods } from './httpErrors.js';

/** What the admin routes read. */
export interface AdminContext {
  home: string;
  scheduler: Scheduler;
  store: ScheduleStore;
  clock: Clock;
  startedAt: number;
  timeZone: string | undefined;
  /** The admin listener's port. */
  port(): number;
  /** The peer listener's port; undefined when it does not run. */
  peerPort(): number | undefined;
}

const jobParams = { type: 'object', properties: { job: { type: 'string', minLength: 1 } }, required: ['job'] } as const;

/**
 * The admin API, on the admin listener (127.0.0.1 only: it has no authentication of its own):
 * `GET /api/health`, `GET /api/schedule/jobs`, `GET /api/schedule/jobs/:job/status`,
 * `POST /api/schedule/jobs/:job/run` (body optional: `{"user": NAME}` to have the ACL checked for NAME).
 * `:job` is an id or a %-encoded name. `ctx` is read at each request, so routes may be added before
 * the daemon it describes is complete.
 */
export function registerAdminRoutes(app: FastifyInstance, ctx: () => AdminContext): void {
  app.get('/api/health', () => {
    const c = ctx();
    const peerPort = c.peerPort();
    return {
      status: 'ok',
      pid: process.pid,
      home: c.home,
      port: c.port(),
      ...(peerPort !== undefined ? { peerPort } : {}),
      startedAt: isoTime(c.startedAt),
      running: c.scheduler.active().map((r) => r.jobId),
    };
  });
  app.get('/api/schedule/jobs', () => {
    const c = ctx();
    const now = c.clock.now();
    return { jobs: c.store.getJobs().map((j) => jobStatus(c.store, j.id!, now, c.timeZone)) };
  });
  app.get<{ Params: { job: string } }>('/api/schedule/jobs/:job/status', { schema: { params: jobParams } }, (req) => {
    const c = ctx();
    return jobStatus(c.store, req.params.job, c.clock.now(), c.timeZone);
  });
  app.post<{ Params: { job: string }; Body: { user?: string } | undefined }>(
    '/api/schedule/jobs/:job/run',
    {
      schema: {
        params: jobParams,
        body: { type: 'object', properties: { user: { type: 'string' } } },
      },
      // The body is optional: none is an empty object.
      preValidation: async (req) => {
        req.body ??= {};
      },
    },
    async (req, reply) => {
      const c = ctx();
      if (req.body?.user !== undefined) c.store.requireAccess(req.body.user, 'change');
      const run = c.scheduler.runJob(req.params.job);
      void reply.code(202);
      return {
        run: { jobId: run.jobId, jobName: run.jobName, processId: run.processId, started: isoTime(run.started), command: run.command },
      };
    },
  );
  refuseOtherMethods(app, '/api/health', ['GET']);
  refuseOtherMethods(app, '/api/schedule/jobs', ['GET']);
  refuseOtherMethods(app, '/api/schedule/jobs/:job/status', ['GET']);
  refuseOtherMethods(app, '/api/schedule/jobs/:job/run', ['POST']);
}
