import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlreadyExistsError, StorageError } from '../../src/core/errors.js';
import { createRegisteredVob } from '../../src/site/createRegisteredVob.js';
import { importRegisteredReplica } from '../../src/site/importRegisteredReplica.js';
import { registerNewVob } from '../../src/site/registerNewVob.js';
import { SiteHome } from '../../src/site/siteHome.js';
import { tempDir } from '../helpers/cli.js';

describe('registerNewVob', () => {
  it('registers a created VOB; a failed creation leaves neither storage nor claim', async () => {
    const root = tempDir('msite-register-');
    const home = SiteHome.locate(join(root, 'home'), {}, root);

    // The creation fails after writing into a directory that did not exist: all of it goes.
    const failing = (dir: string): never => {
      mkdirSync(join(dir, 'pool'), { recursive: true });
      writeFileSync(join(dir, 'vob.db'), 'half');
      throw new StorageError('disk full');
    };
    expect(() => registerNewVob(home, '/vobs/a', join(root, 'a.vob'), failing)).toThrow('disk full');
    expect(existsSync(join(root, 'a.vob'))).toBe(false);
    // In an empty directory it found: the directory stays, empty.
    mkdirSync(join(root, 'empty.vob'));
    expect(() => registerNewVob(home, '/vobs/a', join(root, 'empty.vob'), failing)).toThrow('disk full');
    expect(readdirSync(join(root, 'empty.vob'))).toEqual([]);
    expect(home.registrations()).toEqual([]);

    // A storage path that holds something is refused and left as it was.
    mkdirSync(join(root, 'full.vob'));
    writeFileSync(join(root, 'full.vob', 'notes.txt'), 'mine\n');
    expect(() => createRegisteredVob(home, join(root, 'full.vob'), { tag: '/vobs/a' })).toThrow(StorageError);
    expect(readdirSync(join(root, 'full.vob'))).toEqual(['notes.txt']);
    // A creation packet that is not one: no storage, tag free.
    writeFileSync(join(root, 'not-a-packet'), 'hello\n');
    await expect(importRegisteredReplica(home, join(root, 'b.vob'), join(root, 'not-a-packet'), '/vobs/a')).rejects.toThrow();
    expect(existsSync(join(root, 'b.vob'))).toBe(false);
    expect(home.registrations()).toEqual([]);

    const vob = createRegisteredVob(home, join(root, 'a.vob'), { tag: '/vobs/a' });
    vob.close();
    expect(home.registry()).toMatchObject([{ tag: '/vobs/a', path: join(root, 'a.vob'), state: 'ready' }]);
    // A taken tag is refused before anything is made.
    expect(() => createRegisteredVob(home, join(root, 'c.vob'), { tag: '/vobs/a' })).toThrow(AlreadyExistsError);
    expect(existsSync(join(root, 'c.vob'))).toBe(false);
    // A directory another VOB is being created in is not claimed twice.
    home.claimTag('/vobs/d', join(root, 'd.vob'));
    expect(() => home.claimTag('/vobs/e', join(root, 'd.vob'))).toThrow(`VOB storage already exists: "${join(root, 'd.vob')}"`);
    home.releaseClaim('/vobs/d');
    expect(home.resolveVob('/vobs/a', root)).toBe(join(root, 'a.vob'));
  });
});
