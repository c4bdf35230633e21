import { expect } from 'chai';
import { createLogger } from '@vaultflow/logging';
import { DiscoveryScheduler, type DuePass } from './discovery-scheduler.js';
import type { DuePassResult } from './discovery.service.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pass that takes `ms` and records when it ran and whether another was running. */
class FakePass implements DuePass {
  readonly calls: { maxAgeMs: number; at: number }[] = [];
  running = 0;
  overlapped = false;
  stopSeen = false;
  constructor(private readonly ms: number) {}
  async discoverDue(maxAgeMs: number, shouldStop: () => boolean): Promise<DuePassResult> {
    this.calls.push({ maxAgeMs, at: Date.now() });
    if (++this.running > 1) this.overlapped = true;
    await sleep(this.ms);
    this.stopSeen ||= shouldStop();
    this.running--;
    return { discovered: 1, failed: 0, skipped: 0 };
  }
}

describe('discovery scheduler', () => {
  const logger = createLogger('spec', 'silent');

  it('runs the first pass after its delay, then one interval after each pass ends, never overlapping', async () => {
    const pass = new FakePass(40);
    const s = new DiscoveryScheduler(pass, logger, 30, 10);
    const t0 = Date.now();
    s.start();
    await sleep(300);
    await s.stop();
    expect(pass.overlapped).to.equal(false);
    expect(pass.calls.length).to.be.within(2, 5);
    expect(pass.calls[0]!.at - t0).to.be.within(5, 100);
    for (let i = 1; i < pass.calls.length; i++) expect(pass.calls[i]!.at - pass.calls[i - 1]!.at).to.be.at.least(40 + 30 - 5);
  });

  it('counts a vCenter due a minute before a full 15-minute interval (never less than half of it)', async () => {
    const pass = new FakePass(0);
    const s = new DiscoveryScheduler(pass, logger, 15 * 60_000, 0);
    s.start();
    await sleep(30);
    await s.stop();
    expect(pass.calls.map((c) => c.maxAgeMs)).to.deep.equal([14 * 60_000]);
    const short = new FakePass(0);
    const t = new DiscoveryScheduler(short, logger, 60_000, 0);
    t.start();
    await sleep(30);
    await t.stop();
    expect(short.calls[0]!.maxAgeMs).to.equal(30_000);
  });

  it('stop() waits for the running pass, tells it to stop, and starts no other', async () => {
    const pass = new FakePass(80);
    const s = new DiscoveryScheduler(pass, logger, 10, 0);
    s.start();
    await sleep(20);
    expect(pass.running).to.equal(1);
    await s.stop();
    expect(pass.running).to.equal(0);
    expect(pass.stopSeen).to.equal(true);
    const n = pass.calls.length;
    await sleep(60);
    expect(pass.calls.length).to.equal(n);
  });
});
