import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { RepositoryError } from '@vaultflow/backup-repository';
import { connectVsphere } from '@vaultflow/backup-worker';
import { startVcsim, type Vcsim } from '@vaultflow/testing';
import { PermanentError } from '../../services/backup-worker/src/services/permanent-error.js';
import { UploadSession } from '../../services/backup-worker/src/services/restore-upload.js';
import { noise, sha256, waitFor } from '../support/backup-lab.js';
import { vcsimEndpoint } from '../support/vcenter-lab.js';

// Restores to a datastore, the backup worker's UploadSession driven directly against the vCenter
// simulator: an upload that fails once its PUT has begun leaves no partial file under the image's
// name and fails with its own error; a refusal before the PUT deletes nothing. First, the
// simulator's /folder DELETE (infra/vcsim) that the cleanup relies on.

const MiB = 1 << 20;
const DS = 'LocalDS_0';

/** The error a promise rejects with (fails the test when it resolves). */
async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('restore upload to a datastore (UploadSession against vcsim)', function () {
  this.timeout(60_000);
  let vc: Vcsim;
  let client: Awaited<ReturnType<typeof connectVsphere>>;
  let session: UploadSession;
  let dsRoot: string;

  /** The local file behind `[LocalDS_0] <rel>` (the simulator's datastore is a local directory). */
  const local = (rel: string) => path.join(dsRoot, rel);
  /** The status of a /folder request for `[LocalDS_0] <rel>`, with the session's cookie unless `anonymous`. */
  async function folder(rel: string, method = 'GET', anonymous = false): Promise<number> {
    const { url, headers } = client.datastoreFileRequest(`[${DS}] ${rel}`, vc.datacenter, { flat: false });
    const res = await fetch(url, { method, headers: anonymous ? {} : headers });
    await res.arrayBuffer();
    return res.status;
  }

  before(async () => {
    vc = await startVcsim({ vms: 1, disks: 1, diskMb: 1 });
    dsRoot = path.dirname(path.dirname((await vc.info()).vms[0]!.disks[0]!.flatPath));
    client = await connectVsphere({ ...vcsimEndpoint(vc), tls_thumbprint: null });
    session = new UploadSession(client, vc.datacenter);
  });
  after(async () => {
    await session?.close();
    await vc?.stop();
  });

  it('the simulator\'s /folder DELETE removes a file (204), then answers 404; files only, with a session', async () => {
    await mkdir(local('scratch'), { recursive: true });
    await writeFile(local('scratch/a.img'), 'abc');
    expect(await folder('scratch/a.img', 'DELETE', true)).to.equal(401);
    expect(existsSync(local('scratch/a.img'))).to.equal(true);
    expect(await folder('scratch/a.img', 'DELETE')).to.equal(204);
    expect(existsSync(local('scratch/a.img'))).to.equal(false);
    expect(await folder('scratch/a.img', 'DELETE')).to.equal(404);
    expect(await folder('scratch/a.img')).to.equal(404);
    expect(await folder('scratch', 'DELETE')).to.equal(400); // a directory
    expect(existsSync(local('scratch'))).to.equal(true);
  });

  it('an upload that fails midway removes the partial file and fails with the upload\'s own error', async () => {
    const rel = 'restored/b1-disk-2000.img';
    const file = local(rel);
    const image = noise(4 * MiB, 0.4);
    const boom = new RepositoryError('CHUNK_CORRUPT', 'chunk c0ffee: sha256 mismatch'); // the repository's read failing
    let partial = 0;
    async function* failing() {
      yield image.subarray(0, MiB);
      // fail only once the simulator has written part of the image: there is a partial file to clean up
      partial = await waitFor(async () => {
        const s = await stat(file).catch(() => undefined);
        return s && s.size > 0 ? s.size : undefined;
      }, 'part of the image on the datastore', 20_000, 10);
      throw boom;
    }
    let sent = 0;
    const err = await rejection(session.upload(`[${DS}] ${rel}`, Readable.from(failing()), image.length, false, (n) => (sent = n)));
    expect(err).to.equal(boom);
    expect(partial).to.be.within(1, MiB);
    expect(sent).to.equal(MiB);
    expect(existsSync(file), 'the partial file is still on the datastore').to.equal(false);
    expect(await folder(rel)).to.equal(404);
    // nothing is left that would refuse the next attempt, which writes the whole image
    await session.upload(`[${DS}] ${rel}`, Readable.from([image]), image.length, false, () => undefined);
    expect(sha256(await readFile(file))).to.equal(sha256(image));
  });

  it('refuses an existing file without overwrite before any PUT, and deletes nothing', async () => {
    const rel = 'restored/kept.img';
    await mkdir(path.dirname(local(rel)), { recursive: true });
    await writeFile(local(rel), 'an image from another restore');
    let read = false;
    const body = new Readable({
      read() {
        read = true;
        this.push(null);
      },
    });
    const err = await rejection(session.upload(`[${DS}] ${rel}`, body, 10, false, () => undefined));
    expect(err).to.be.instanceOf(PermanentError);
    expect((err as Error).message).to.contain('exists already');
    expect(read, 'the body was read: the PUT began').to.equal(false);
    expect(await readFile(local(rel), 'utf8')).to.equal('an image from another restore');
  });
});
