import { Worker } from 'node:worker_threads';

/*
 * The worker's code is given as text (`eval`) rather than as a file beside this one, so it runs the
 * same from the built dist/ and from the TypeScript sources the tests run in-process.
 */
const WORKER_CODE = `
const { parentPort } = require('node:worker_threads');
const { deflateRawSync } = require('node:zlib');
parentPort.on('message', ({ id, bytes }) => {
  const out = deflateRawSync(bytes);
  parentPort.postMessage({ id, out }, [out.buffer]);
});
`;

/**
 * Raw deflate of blobs on a thread of its own, at zlib's defaults (what ContentPool.putWithHash
 * would do in the transaction): a git import's one heavy computation, taken off the thread that
 * parses the stream and applies ops. One thread, as the machine's other core runs git.
 */
export class DeflateWorker {
  // Not the parent's node options: `--input-type=module` would make the code an ES module, where
  // `require` is not defined.
  private readonly worker = new Worker(WORKER_CODE, { eval: true, execArgv: [] });
  private readonly waiting = new Map<number, { done: (out: Uint8Array) => void; fail: (err: Error) => void }>();
  private next = 0;

  constructor() {
    this.worker.on('message', ({ id, out }: { id: number; out: Uint8Array }) => {
      const w = this.waiting.get(id);
      this.waiting.delete(id);
      w?.done(out);
    });
    this.worker.on('error', (err) => {
      for (const w of this.waiting.values()) w.fail(err);
      this.waiting.clear();
    });
  }

  /** The raw deflate of `bytes` (which are copied to the worker and stay the caller's). */
  deflate(bytes: Uint8Array): Promise<Uint8Array> {
    const id = this.next++;
    return new Promise((done, fail) => {
      this.waiting.set(id, { done, fail });
      this.worker.postMessage({ id, bytes });
    });
  }

  /** Ends the thread; call when done, however the work ends (a running worker keeps the process alive, which pending deflates need). */
  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
