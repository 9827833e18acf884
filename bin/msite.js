#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

// A reader that stops early (`msite cat big | head`) closes the pipe: end quietly, as a Unix tool
// killed by SIGPIPE does (status 128 + 13), not with an error about a write nobody wants.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(141);
  throw err;
});

process.exitCode = await main(process.argv.slice(2));
