import { useQuery } from '@tanstack/react-query';
import { flowEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import type { Flow } from '../../api/types.js';
import { BlockSkeleton, ErrorMessage } from '../../components/feedback.js';
import { Modal } from '../../components/modal.js';
import { Time } from '../../components/time.js';

const MARK = { info: '✓', warning: '!', error: '✗' } as const;

/** The dry run of a flow (POST .../test): every check the API made, and the next fire times. */
export function FlowTestDialog({ flow, onClose }: { flow: Flow; onClose: () => void }) {
  const q = useQuery({
    queryKey: ['testFlow', flow.id],
    queryFn: () => call(flowEndpoints.test, { params: { id: flow.id } }),
    staleTime: 0,
    gcTime: 0,
  });
  const t = q.data;
  return (
    <Modal
      title={`Test: ${flow.name}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={() => q.refetch()} disabled={q.isFetching}>
            Test again
          </button>
          <button type="button" className="btn btn-primary" onClick={onClose}>
            Close
          </button>
        </>
      }
    >
      {q.isPending && <BlockSkeleton lines={5} />}
      <ErrorMessage error={q.error} onRetry={() => q.refetch()} />
      {t && (
        <div aria-live="polite">
          <p className={`alert ${t.valid ? 'alert-ok' : 'alert-error'}`} role="status">
            {t.valid
              ? t.warnings.length
                ? `Ready to run, with ${t.warnings.length} warning${t.warnings.length > 1 ? 's' : ''}.`
                : 'Ready to run: every check passed.'
              : `Not ready: ${t.errors.length} problem${t.errors.length > 1 ? 's' : ''} must be fixed first.`}
          </p>
          <ul className="checks" aria-label="Checks">
            {t.checks.map((c, i) => (
              <li key={i} className={`check check-${c.severity}`}>
                <span className="check-mark" aria-hidden="true">
                  {MARK[c.severity]}
                </span>
                <span className="check-name">{c.name}</span>
                <span>{c.message}</span>
                <span className="sr-only">{c.ok ? '(passed)' : '(failed)'}</span>
              </li>
            ))}
          </ul>
          {t.next_fire_times.length > 0 && (
            <>
              <h3>Next runs</h3>
              <ol className="fire-list">
                {t.next_fire_times.map((at) => (
                  <li key={at}>
                    <Time value={at} />
                  </li>
                ))}
              </ol>
            </>
          )}
        </div>
      )}
    </Modal>
  );
}
