import { describe, expect, it } from 'vitest';
import { splitArgs } from '../../src/schedule/splitArgs.js';

describe('splitArgs: Job.Args as a shell splits them, without expansion', () => {
  it.each([
    ['-quiet 1 -all', ['-quiet', '1', '-all']],
    ['  -c "nightly run"   -out \'a b\' ', ['-c', 'nightly run', '-out', 'a b']],
    ['"say \\"hi\\"" it\\ is \'$HOME\' "$HOME"', ['say "hi"', 'it is', '$HOME', '$HOME']],
    ['a""b \'\' ""', ['ab', '', '']],
    ['"a\\nb"', ['a\\nb']],
    ['', []],
  ])('%j', (text, words) => {
    expect(splitArgs(text)).toEqual(words);
  });

  it('says where an unclosed quote starts', () => {
    expect(splitArgs('-c "nightly')).toEqual({ error: 'unclosed " quote at character 4' });
    expect(splitArgs("x 'y")).toEqual({ error: "unclosed ' quote at character 3" });
  });
});
