import { expect } from 'chai';
import { FileFault, VimFault } from './errors.js';
import { VsphereSession } from './session.js';
import { SoapClient } from './soap-client.js';
import { waitTask } from './tasks.js';
import { FakeVcenter } from './testing/fake-vcenter.js';
import { fixture } from './testing/fixtures.js';
import { rejection } from './testing/rejection.js';

async function sessionOn(fake: FakeVcenter): Promise<VsphereSession> {
  const s = new VsphereSession(new SoapClient({ sdkUrl: 'https://vc/sdk', transport: fake }), { username: 'user', password: 'pass' }, { keepAliveMs: 0 });
  await s.login();
  return s;
}
const taskRef = (reply: string) => ({ type: 'Task', value: /task-\d+/.exec(reply)![0] });

describe('vsphere waitTask', () => {
  it('polls with a doubling pause up to the maximum, then returns the result moref', async () => {
    const fake = new FakeVcenter();
    const s = await sessionOn(fake);
    const task = taskRef(fake.task({ states: ['queued', 'running', 'running', 'running', 'running', 'success'], result: { type: 'VirtualMachineSnapshot', value: 'snapshot-8' } }));
    const at: number[] = [];
    const progress: number[] = [];
    const orig = fake.request.bind(fake);
    fake.request = async (req) => {
      at.push(performance.now());
      return orig(req);
    };
    const result = await waitTask(s, task, { initialDelayMs: 20, maxDelayMs: 80, onProgress: (p) => progress.push(p) });
    expect(result).to.deep.equal({ type: 'VirtualMachineSnapshot', value: 'snapshot-8' });
    expect(fake.tasks.get(task.value)!.polls).to.equal(6);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // 20, 40, 80, 80, 80 ms (plus scheduling noise)
    expect(gaps[0]).to.be.within(15, 60);
    expect(gaps[1]).to.be.within(35, 90);
    for (const g of gaps.slice(2)) expect(g).to.be.within(70, 160);
  });

  for (const style of ['vcenter', 'vcsim'] as const) {
    it(`throws a failed task's typed fault with its localized message (${style})`, async () => {
      const fake = new FakeVcenter(style);
      const s = await sessionOn(fake);
      const task = taskRef(fake.task({ states: ['running', 'error'], error: { fault: 'FileNotFound', message: 'File [ds] x.vmdk was not found' } }));
      const err = await rejection(waitTask(s, task, { initialDelayMs: 1 }));
      expect(err).to.be.instanceOf(FileFault);
      expect((err as VimFault).faultType).to.equal('FileNotFound');
      expect((err as VimFault).faultMessage).to.equal('File [ds] x.vmdk was not found');
    });
  }

  it('reads recorded task info: success with a moref (both forms), error with ApplicationQuiesceFault', async () => {
    const fake = new FakeVcenter();
    const s = await sessionOn(fake);
    const inner = (name: string, style: 'vcenter' | 'vcsim' = 'vcenter') => fixture(style, name).match(/<returnval>.*<\/returnval>/s)![0];
    fake.on('RetrievePropertiesEx', () => inner('task-success'));
    expect(await waitTask(s, { type: 'Task', value: 'task-5501' })).to.deep.equal({ type: 'VirtualMachineSnapshot', value: 'snapshot-904' });
    fake.on('RetrievePropertiesEx', () => inner('task-success', 'vcsim')); // both a moref type= and XMLSchema-instance:type
    expect(await waitTask(s, { type: 'Task', value: 'task-41' })).to.deep.equal({ type: 'VirtualMachineSnapshot', value: 'snapshot-42' });
    fake.on('RetrievePropertiesEx', () => inner('task-error'));
    const err = await rejection(waitTask(s, { type: 'Task', value: 'task-5502' }));
    expect((err as VimFault).faultType).to.equal('ApplicationQuiesceFault');
    expect(err.code).to.equal('VIM_FAULT');
    expect((err as VimFault).faultMessage).to.equal("An error occurred while quiescing the virtual machine. See the virtual machine's event log for details.");
  });

  it('gives up after the timeout with TASK_TIMEOUT (transient) naming the task', async () => {
    const fake = new FakeVcenter();
    const s = await sessionOn(fake);
    const task = taskRef(fake.task({ states: ['running'] }));
    const t0 = Date.now();
    const err = await rejection(waitTask(s, task, { timeoutMs: 150, initialDelayMs: 10, maxDelayMs: 40 }));
    expect([err.code, err.transient]).to.deep.equal(['TASK_TIMEOUT', true]);
    expect(err.message).to.contain(task.value).and.contain('running');
    expect(Date.now() - t0).to.be.within(140, 400);
  });

  it('stops waiting when aborted', async () => {
    const fake = new FakeVcenter();
    const s = await sessionOn(fake);
    const task = taskRef(fake.task({ states: ['running'] }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = Date.now();
    const err = await rejection(waitTask(s, task, { initialDelayMs: 1000, signal: ac.signal }));
    expect(err.code).to.equal('ABORTED');
    expect(Date.now() - t0).to.be.below(500);
  });
});
