import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { processAlive, processIdentity } from '../../src/core/processAlive.js';

describe('processAlive with a process identity', () => {
  it('tells the process that recorded an identity from another one holding the same pid', async () => {
    const mine = processIdentity();
    expect(mine).toMatch(/^[0-9a-f-]+:\d+$/);
    expect(processIdentity()).toBe(mine);
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      const theirs = processIdentity(child.pid);
      expect(theirs).toBeDefined();
      expect(processAlive(child.pid!, theirs)).toBe(true);
      expect(processAlive(child.pid!)).toBe(true);
      // A record naming this pid with another process's identity: the pid was reused, the holder is gone.
      expect(processAlive(child.pid!, mine)).toBe(false);
      // Recorded in another boot: never the same process.
      expect(processAlive(child.pid!, `00000000-0000-0000-0000-000000000000:${theirs!.split(':')[1]}`)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    expect(processAlive(child.pid!, processIdentity(child.pid))).toBe(false);
    expect(processAlive(0)).toBe(false);
  });
});
