import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { NbdDiskReader } from './nbd-disk-reader.js';
import { launchNbdkit, NbdkitError, sweepStaleNbdkitDirs, type NbdkitProcess } from './nbdkit-launcher.js';
import { NbdkitDiskReader } from './nbdkit-launcher-reader.js';
import { NbdError } from './nbd-error.js';

// The per-disk nbdkit launcher against the real nbdkit: it serves on a private Unix socket, stops
// cleanly, leaves nothing behind when it cannot start, and dies with its parent even on SIGKILL.

const MiB = 1024 * 1024;
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
/** True while the process runs (a zombie waiting for a reaper does not count). */
const processAlive = (pid: number): boolean => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};
const launchDirs = async (): Promise<string[]> => (await readdir(tmpdir())).filter((n) => n.startsWith('vaultflow-nbdkit-')).sort();

async function rejection(p: Promise<unknown>): Promise<NbdkitError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).to.be.instanceOf(NbdkitError);
  return err as NbdkitError;
}

describe('nbdkit launcher (integration)', function () {
  this.timeout(30_000);
  let dir: string;
  let image: Buffer;
  let imagePath: string;
  const procs: NbdkitProcess[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vaultflow-launcher-'));
    // 4 MiB: data, a 2 MiB hole, data; the hole stays sparse in the file
    image = Buffer.concat([randomBytes(MiB), Buffer.alloc(2 * MiB), randomBytes(MiB)]);
    imagePath = join(dir, 'disk.raw');
    await writeFile(imagePath, Buffer.alloc(0));
    const { open } = await import('node:fs/promises');
    const fh = await open(imagePath, 'r+');
    await fh.write(image.subarray(0, MiB), 0, MiB, 0);
    await fh.write(image.subarray(3 * MiB), 0, MiB, 3 * MiB);
    await fh.truncate(4 * MiB);
    await fh.close();
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.stop();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the file plugin read-only on a private socket; block status finds the hole; stop ends it and removes its directory', async () => {
    const p = await launchNbdkit({ args: { filters: [], plugin: 'file', params: [`file=${imagePath}`] } });
    procs.push(p);
    expect(p.running).to.equal(true);
    expect(p.socket.startsWith(p.dir)).to.equal(true);
    expect(statSync(p.dir).mode & 0o777).to.equal(0o700);
    const reader = await NbdDiskReader.open({ address: { socketPath: p.socket } });
    expect(reader.size).to.equal(4 * MiB);
    expect(sha256(await reader.read(0, reader.size))).to.equal(sha256(image));
    expect(await reader.allocatedExtents()).to.deep.equal([{ offset: 0, length: MiB }, { offset: 3 * MiB, length: MiB }]);
    await reader.close();

    await p.stop();
    expect(p.running).to.equal(false);
    expect(processAlive(p.pid)).to.equal(false);
    expect(existsSync(p.dir)).to.equal(false);
    await p.stop(); // idempotent
  });

  it('hands secrets over inherited descriptors (password=-FD): the plugin logs in with it, and neither argv nor disk holds it', async () => {
    const secret = `s3cret ${randomBytes(8).toString('hex')}`;
    const body = randomBytes(256 * 1024);
    const expected = `Basic ${Buffer.from(`backup:${secret}`).toString('base64')}`;
    let refused = 0;
    // a web server that wants the password: nbdkit's curl plugin reads it from the descriptor
    const server = http.createServer((req, res) => {
      if (req.headers.authorization !== expected) {
        refused++;
        res.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end();
        return;
      }
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      const part = m ? body.subarray(Number(m[1]), Number(m[2]) + 1) : body;
      res.writeHead(m ? 206 : 200, { 'content-length': part.length, 'accept-ranges': 'bytes' });
      res.end(req.method === 'HEAD' ? undefined : part);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/disk`;
      let fds: Record<string, number> = {};
      const p = await launchNbdkit({
        secrets: { password: secret },
        args: (given) => {
          fds = given;
          return { filters: [], plugin: 'curl', params: [url, 'user=backup', `password=-${given.password}`] };
        },
      });
      procs.push(p);
      expect(fds).to.deep.equal({ password: 3 });
      const reader = await NbdDiskReader.open({ address: { socketPath: p.socket } });
      expect(sha256(await reader.read(0, reader.size))).to.equal(sha256(body));
      await reader.close();
      expect(readFileSync(`/proc/${p.pid}/cmdline`, 'utf8')).to.contain('password=-3').and.not.contain(secret);
      for (const f of await readdir(p.dir)) {
        if (statSync(join(p.dir, f)).isFile()) expect(readFileSync(join(p.dir, f)).toString('latin1'), f).to.not.contain(secret);
      }
      expect(refused).to.equal(0);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('a plugin that cannot start fails with its stderr, permanently, and leaves no directory or process', async () => {
    const before = await launchDirs();
    const err = await rejection(launchNbdkit({ args: { filters: [], plugin: 'file', params: [join(dir, 'missing.raw')] } }));
    expect(err).to.include({ code: 'NBDKIT_START_FAILED', transient: false });
    expect(err.message).to.contain('missing.raw');
    const filter = await rejection(launchNbdkit({ args: { filters: ['no-such-filter'], plugin: 'file', params: [`file=${imagePath}`] } }));
    expect(filter.code).to.equal('NBDKIT_START_FAILED');
    const missing = await rejection(launchNbdkit({ command: join(dir, 'no-nbdkit'), args: { filters: [], plugin: 'file', params: [] } }));
    expect(missing).to.include({ code: 'NBDKIT_NOT_FOUND', transient: false });
    expect(await launchDirs()).to.deep.equal(before);
  });

  it('a start that hangs is abandoned at the timeout (transient) or on abort, killing nbdkit', async () => {
    const before = await launchDirs();
    const slow = { filters: [], plugin: 'eval', params: ['config_complete=sleep 20', 'get_size=echo 1024', 'pread=exit 1'] };
    let t = Date.now();
    const timeout = await rejection(launchNbdkit({ args: slow, startTimeoutMs: 300 }));
    expect(timeout).to.include({ code: 'NBDKIT_START_TIMEOUT', transient: true });
    expect(Date.now() - t).to.be.below(3000);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 200);
    t = Date.now();
    const aborted = await rejection(launchNbdkit({ args: slow, signal: ac.signal }));
    expect(aborted.code).to.equal('NBDKIT_ABORTED');
    expect(Date.now() - t).to.be.below(3000);
    expect(await launchDirs()).to.deep.equal(before);
  });

  it('NbdkitDiskReader reads through its own nbdkit and stops it on close; a failed connect stops it too', async () => {
    const reader = await NbdkitDiskReader.open({ args: { filters: ['delay'], plugin: 'file', params: [`file=${imagePath}`, 'rdelay=1ms'] } });
    expect(sha256(await reader.read(3 * MiB, MiB))).to.equal(sha256(image.subarray(3 * MiB)));
    expect(await reader.allocatedExtents()).to.deep.equal([{ offset: 0, length: MiB }, { offset: 3 * MiB, length: MiB }]);
    const { pid, dir: launchDir } = reader.process;
    await Promise.all([reader.close(), reader.close()]);
    expect(processAlive(pid)).to.equal(false);
    expect(existsSync(launchDir)).to.equal(false);
    const late = await reader.read(0, 10).then(() => undefined, (e: unknown) => e);
    expect(late).to.be.instanceOf(NbdError);

    const before = await launchDirs();
    const err = await NbdkitDiskReader.open({ args: { filters: [], plugin: 'eval', params: ['get_size=exit 1', 'pread=exit 1'] } }, { attempts: 1 })
      .then(() => undefined, (e: unknown) => e as Error);
    expect(err).to.be.instanceOf(NbdError);
    expect(await launchDirs()).to.deep.equal(before);
  });

  it('dies with its parent on SIGKILL; the stale directory is swept afterwards', async () => {
    const launcher = fileURLToPath(new URL('./nbdkit-launcher.ts', import.meta.url));
    const script = `import { launchNbdkit } from ${JSON.stringify(launcher)};
      const p = await launchNbdkit({ args: { filters: [], plugin: 'file', params: [${JSON.stringify(`file=${imagePath}`)}] } });
      console.log(JSON.stringify({ pid: p.pid, dir: p.dir }));
      setInterval(() => {}, 1000);`;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: parent.stdout! }).once('line', resolve);
      parent.once('exit', (code) => reject(new Error(`launcher child exited ${code}`)));
    });
    const { pid, dir: launchDir } = JSON.parse(line) as { pid: number; dir: string };
    expect(processAlive(pid)).to.equal(true);
    const gone = new Promise((resolve) => parent.once('exit', resolve));
    parent.kill('SIGKILL');
    await gone;
    const end = Date.now() + 5000;
    while (processAlive(pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(processAlive(pid), 'nbdkit outlived its parent').to.equal(false);
    expect(existsSync(launchDir)).to.equal(true);
    expect(await sweepStaleNbdkitDirs()).to.be.at.least(1);
    expect(existsSync(launchDir)).to.equal(false);
  });
});
