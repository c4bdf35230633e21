import { expect } from 'chai';
import { finalMessage, finalStatus, flowStatusOf, jobPriority } from './execution-rules.js';

describe('domain/execution-rules', () => {
  const base = { jobs_created: 3, jobs_completed: 0, jobs_failed: 0, jobs_skipped: 0, cancelled: false };
  it('derives success, warning, error and cancelled', () => {
    expect(finalStatus({ ...base, jobs_completed: 3 })).to.equal('success');
    expect(finalStatus({ ...base, jobs_completed: 2, jobs_failed: 1 })).to.equal('warning');
    expect(finalStatus({ ...base, jobs_completed: 2, jobs_skipped: 1 })).to.equal('warning');
    expect(finalStatus({ ...base, jobs_failed: 3 })).to.equal('error');
    expect(finalStatus({ ...base, jobs_created: 0 })).to.equal('error');
    expect(finalStatus({ ...base, jobs_completed: 3, flowError: 'repository gone' })).to.equal('error');
    expect(finalStatus({ ...base, jobs_completed: 3, cancelled: true })).to.equal('cancelled');
  });
  it('explains failures', () => {
    expect(finalMessage({ ...base, jobs_completed: 3 })).to.equal(null);
    expect(finalMessage({ ...base, jobs_created: 0 })).to.match(/no VMs/);
    expect(finalMessage({ ...base, jobs_failed: 2, jobs_skipped: 1 })).to.equal('No VM was backed up: 2 failed, 1 skipped');
  });
  it('maps statuses and priorities', () => {
    expect(flowStatusOf('cancelled')).to.equal('warning');
    expect(flowStatusOf('error')).to.equal('error');
    expect(jobPriority(100)).to.equal(1);
    expect(jobPriority(0)).to.equal(101);
    expect(jobPriority(50)).to.equal(51);
  });
});
