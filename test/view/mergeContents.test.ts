import { describe, expect, it } from 'vitest';
import { MergeBinaryError } from '../../src/view/mergeBinaryError.js';
import { isText, mergeContents } from '../../src/view/mergeContents.js';

const b = (s: string) => Buffer.from(s);
const ours = (s: string) => ({ label: 'f.c (checked out)', bytes: b(s) });
const theirs = (s: string) => ({ label: 'f.c@@/main/blr/2', bytes: b(s) });

describe('mergeContents', () => {
  const base = 'a\nb\nc\nd\ne\n';

  it('takes changes from both sides where they do not overlap', () => {
    const r = mergeContents('f.c', b(base), ours('A\nb\nc\nd\ne\n'), theirs('a\nb\nc\nd\nE\nf\n'));
    expect(r).toMatchObject({ how: 'merged', conflicts: [] });
    expect(r.bytes.toString()).toBe('A\nb\nc\nd\nE\nf\n');
  });

  it('writes a conflict block naming both versions, and says which lines it holds', () => {
    const r = mergeContents('f.c', b(base), ours('a\nb\nOURS\nd\ne\n'), theirs('a\nb\nTHEIRS\nd\ne'));
    expect(r.bytes.toString()).toBe('a\nb\n<<<<<<< f.c (checked out)\nOURS\n=======\nTHEIRS\n>>>>>>> f.c@@/main/blr/2\nd\ne');
    expect(r.conflicts).toEqual([{ start: 3, end: 7 }]);
  });

  it('takes the same change once, and resolves conflicts to a chosen side', () => {
    expect(mergeContents('f.c', b(base), ours('a\nX\nc\nd\ne\n'), theirs('a\nX\nc\nd\ne\n')).how).toBe('none');
    const same = mergeContents('f.c', b(base), ours('a\nX\nc\nd\nO\n'), theirs('a\nX\nc\nd\nT\n'), { choose: 'theirs' });
    expect(same.bytes.toString()).toBe('a\nX\nc\nd\nT\n');
    expect(same.conflicts).toEqual([]);
  });

  it('is trivial when one side did not change, binary or not', () => {
    const bin = Buffer.from([0, 1, 2, 0xff]);
    expect(mergeContents('x', b(base), ours(base), { label: 't', bytes: bin })).toMatchObject({ how: 'trivial', bytes: bin });
    expect(mergeContents('x', bin, { label: 'o', bytes: bin }, theirs('new'))).toMatchObject({ how: 'trivial' });
    expect(mergeContents('x', bin, ours('o'), { label: 't', bytes: bin })).toMatchObject({ how: 'none' });
  });

  it('refuses binary files unless a contributor is chosen', () => {
    const nul = Buffer.from('a\0b');
    const badUtf8 = Buffer.from([0x61, 0xc3, 0x28]);
    expect(isText(nul)).toBe(false);
    expect(isText(badUtf8)).toBe(false);
    expect(isText(b('héllo\n'))).toBe(true);
    expect(() => mergeContents('img.png', b(base), { label: 'o', bytes: nul }, theirs('x'))).toThrow(MergeBinaryError);
    expect(() => mergeContents('img.png', b(base), ours('y'), { label: 't', bytes: badUtf8 })).toThrow(
      /cannot merge "img.png": it is not a text file/,
    );
    expect(mergeContents('img.png', b(base), { label: 'o', bytes: nul }, theirs('x'), { choose: 'ours' })).toMatchObject({
      how: 'chosen',
      bytes: nul,
    });
    expect(mergeContents('img.png', b(base), { label: 'o', bytes: nul }, theirs('x'), { choose: 'theirs' }).bytes.toString()).toBe('x');
  });
});
