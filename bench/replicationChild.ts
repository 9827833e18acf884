/**
 * One replication step of `npm run bench`, run in a process of its own, as `msite syncreplica`
 * runs: a fresh heap, not the bench's (which holds the whole generated history), as each git
 * command the bench compares with is a fresh process too. Prints the step's figures as JSON.
 *
 *   node dist/bench/replicationChild.js export ORIGIN_DIR OUT_DIR
 *   node dist/bench/replicationChild.js import SIBLING_DIR PACKET...
 */
import { performance } from 'node:perf_hooks';
import { exportToSibling, importIntoSibling } from './vobReplication.js';

const [step, dir, ...rest] = process.argv.slice(2);
if (!dir || (step !== 'export' && step !== 'import') || rest.length === 0) {
  console.error('usage: replicationChild.js export ORIGIN_DIR OUT_DIR | import SIBLING_DIR PACKET...');
  process.exit(2);
}
// From the start of this process: what it cost to start node and load msite before the call.
const startup = performance.now() / 1000;
const figures = step === 'export' ? await exportToSibling(dir, rest[0]!) : await importIntoSibling(dir, rest);
process.stdout.write(JSON.stringify({ ...figures, startupSeconds: startup }));
