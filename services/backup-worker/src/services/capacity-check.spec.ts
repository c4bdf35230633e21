import { expect } from 'chai';
import { CapacityGuard, RepositoryFullError, checkFits, estimateBackup, formatBytes, reserveOf, type FileSystemSpace } from './capacity-check.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const repo = { id: 7, name: 'Primary', path: '/srv/vaultflow/primary' };

describe('capacity check', () => {
  describe('estimateBackup', () => {
    it('is nothing for nothing to read, and never less than the bytes read', () => {
      expect(estimateBackup([])).to.deep.equal({ bytes_to_read: 0, bytes_needed: 0 });
      const e = estimateBackup([{ disk: 2000, mode: 'full', bytes: 100 * MiB }, { disk: 2001, mode: 'incremental', bytes: 64 * 1024 }]);
      expect(e.bytes_to_read).to.equal(100 * MiB + 64 * 1024);
      expect(e.bytes_needed).to.be.greaterThan(e.bytes_to_read);
    });

    it('adds the records of every 64 KiB chunk and a slack per disk', () => {
      const one = estimateBackup([{ disk: 1, mode: 'full', bytes: 64 * 1024 }]);
      expect(one.bytes_needed).to.equal(64 * 1024 + 160 + MiB);
      const two = estimateBackup([{ disk: 1, mode: 'full', bytes: 64 * 1024 + 1 }]);
      expect(two.bytes_needed).to.equal(64 * 1024 + 1 + 2 * 160 + MiB);
    });
  });

  describe('checkFits', () => {
    it('keeps 1% of the file system free, at most 1 GiB', () => {
      expect(reserveOf({ total: 100 * MiB, available: 0 })).to.equal(MiB);
      expect(reserveOf({ total: 10_000 * GiB, available: 0 })).to.equal(GiB);
    });

    it('fits exactly when the need plus the reserve is what is free', () => {
      const space: FileSystemSpace = { total: 100 * MiB, available: 11 * MiB };
      expect(checkFits({ bytes_to_read: 0, bytes_needed: 10 * MiB }, space)).to.deep.equal({ fits: true, reserve: MiB, shortfall: 0 });
      expect(checkFits({ bytes_to_read: 0, bytes_needed: 10 * MiB + 1 }, space)).to.deep.equal({ fits: false, reserve: MiB, shortfall: 1 });
    });
  });

  it('formatBytes reads like a person would write it', () => {
    expect(formatBytes(12)).to.equal('12 B');
    expect(formatBytes(1536)).to.equal('1.5 KiB');
    expect(formatBytes(300 * MiB)).to.equal('300 MiB');
    expect(formatBytes(2.25 * GiB)).to.equal('2.3 GiB');
  });

  describe('CapacityGuard', () => {
    it('passes a backup that fits and returns its estimate', async () => {
      const guard = new CapacityGuard(async () => ({ total: 1000 * GiB, available: 500 * GiB }));
      const e = await guard.assertFits(repo, [{ disk: 2000, mode: 'full', bytes: 40 * GiB }]);
      expect(e.bytes_to_read).to.equal(40 * GiB);
    });

    it('refuses, before anything is written, a backup that may not fit, naming the repository and the figures', async () => {
      const guard = new CapacityGuard(async () => ({ total: 100 * GiB, available: 2 * GiB }));
      let err: unknown;
      try {
        await guard.assertFits(repo, [{ disk: 2000, mode: 'full', bytes: 3 * GiB }, { disk: 2001, mode: 'incremental', bytes: 10 * MiB }]);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(RepositoryFullError);
      const full = err as RepositoryFullError;
      expect(full.code).to.equal('REPOSITORY_FULL');
      expect(full.transient).to.equal(false);
      expect(full.message).to.contain('"Primary"').and.contain('/srv/vaultflow/primary').and.contain('2.0 GiB free').and.contain('from 2 disk(s)');
      expect(full.figures).to.include({ repository_id: 7, available: 2 * GiB, reserve: GiB, bytes_to_read: 3 * GiB + 10 * MiB });
      expect(full.figures.needed).to.be.greaterThan(3 * GiB + 10 * MiB);
    });

    it('measures the nearest existing folder of a repository not created yet', async () => {
      const asked: string[] = [];
      const guard = new CapacityGuard(async (p) => {
        asked.push(p);
        if (p !== '/srv') throw Object.assign(new Error('no such folder'), { code: 'ENOENT' });
        return { total: GiB, available: GiB / 2 };
      });
      await guard.assertFits({ ...repo, path: '/srv/vaultflow/new/repo' }, [{ disk: 1, mode: 'full', bytes: MiB }]);
      expect(asked).to.deep.equal(['/srv/vaultflow/new/repo', '/srv/vaultflow/new', '/srv/vaultflow', '/srv']);
    });

    it('passes other statfs errors on', async () => {
      const guard = new CapacityGuard(async () => {
        throw Object.assign(new Error('stale file handle'), { code: 'ESTALE' });
      });
      let err: unknown;
      try {
        await guard.assertFits(repo, []);
      } catch (e) {
        err = e;
      }
      expect((err as NodeJS.ErrnoException).code).to.equal('ESTALE');
    });
  });
});
