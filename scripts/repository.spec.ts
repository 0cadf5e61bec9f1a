import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/**
 * The repository stands on its own: no code, test, script or document may reach a folder beside it
 * (a clone elsewhere must build and pass its tests). Data a test needs is copied in with its origin noted.
 */
describe('the repository stands on its own', () => {
  const root = path.resolve(__dirname, '..');
  const sibling = ['..', 'shared'].join('/'); // spelled in parts so that this file does not match itself

  it('no tracked file names a path into a sibling folder of the repository', () => {
    const files = execFileSync('git', ['ls-files', '-z'], { cwd: root, encoding: 'utf8' }).split('\0').filter(Boolean);
    expect(files.length).toBeGreaterThan(100);
    const offenders = files.filter((f) => {
      const full = path.join(root, f);
      if (!fs.existsSync(full) || fs.statSync(full).size > 2_000_000) return false;
      return fs.readFileSync(full, 'utf8').includes(sibling);
    });
    expect(offenders).toEqual([]);
  });
});
