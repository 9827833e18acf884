import { Command } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { processIo } from '../../src/cli/context.js';
import { buildProgram, COMMAND_MODULES } from '../../src/cli/main.js';

describe('msite main', () => {
  it('each command module registers exactly the commands COMMAND_MODULES names for it, and a command is built with its module alone', async () => {
    const all = (await buildProgram(processIo)).commands.flatMap((c) => [c.name(), ...c.aliases()]);
    expect(new Set(all).size).toBe(all.length);
    for (const m of COMMAND_MODULES) {
      const program = new Command('msite');
      (await m.load())(program, processIo);
      expect(program.commands.flatMap((c) => [c.name(), ...c.aliases()])).toEqual(m.names);
    }
    expect(COMMAND_MODULES.flatMap((m) => m.names).sort()).toEqual([...all].sort());
    const alone = await buildProgram(processIo, 'sync_receive');
    expect(alone.commands.map((c) => c.name())).toEqual(['sync_export_list', 'sync_receive']);
    expect((await buildProgram(processIo, 'help')).commands.length).toBe((await buildProgram(processIo)).commands.length);
  });
});
