import { describe, expect, it } from 'vitest';
import { buildProgram, COMMANDS_ALONE } from '../../src/cli/main.js';
import { processIo } from '../../src/cli/context.js';

describe('msite main', () => {
  it('a command main() loads alone is registered by that module, as it is among all the others', async () => {
    const all = (await buildProgram(processIo)).commands.map((c) => c.name());
    expect(new Set(all).size).toBe(all.length);
    for (const name of Object.keys(COMMANDS_ALONE)) {
      const alone = await buildProgram(processIo, name);
      expect(alone.commands.map((c) => c.name())).toEqual([name]);
      expect(all).toContain(name);
    }
  });
});
