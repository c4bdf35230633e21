import { randomUUID } from 'node:crypto';
import type { Db, Stores } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { AppError, conflict, notFound } from '@vaultflow/errors';
import type { FlowRunProducer } from '@vaultflow/queue';
import type { Canceller } from '@vaultflow/engine';
import type { ExecutionDetailResponse, ExecutionListQuery, ExecutionResponse, FlowStatus } from '@vaultflow/schemas';
import { toExecutionDetail, toExecutionResponse, toFlowStatus, toJobLog } from '../mappers/flow.mapper.js';

/** Starting flows on demand and reading their executions. */
export class FlowRunService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly producer: FlowRunProducer,
    private readonly canceller: Canceller,
  ) {}

  /**
   * Creates a pending execution and queues it on `flow-runs`, in one step: if the queue cannot take
   * the job the execution is not kept (503 QUEUE_UNAVAILABLE). Refused while the flow is disabled or
   * already has an execution pending or running.
   */
  async execute(flowId: string, op: Operation): Promise<ExecutionResponse> {
    const id = randomUUID();
    await this.db.transaction(async (trx) => {
      const flow = await this.stores.flows.get(flowId, trx);
      if (!flow) throw notFound('FLOW_NOT_FOUND', `Protection flow ${flowId} does not exist`);
      await this.stores.flows.lockExisting([flowId], trx);
      if (!flow.enabled) throw conflict('FLOW_DISABLED', `Flow "${flow.name}" is disabled: enable it before running it`);
      const active = await this.stores.executions.active(flowId, trx);
      if (active) {
        throw conflict('EXECUTION_IN_PROGRESS', `Flow "${flow.name}" already has a ${active.status} execution (${active.id})`, [
          { field: 'execution_id', message: active.id },
        ]);
      }
      await this.stores.executions.insert(
        { id, flow_id: flowId, execution_type: op.actor.via === 'session' ? 'manual' : 'api', triggered_by: op.actor.username },
        trx,
      );
      await this.stores.audit.record({ actor: op.actor.username, action: 'flow.execute', entity_type: 'protection_flow', entity_id: flowId, details: { execution_id: id }, request_id: op.requestId }, trx);
      try {
        await this.producer.enqueueExecution({ flow_id: flowId, execution_id: id });
      } catch (err) {
        throw new AppError('unavailable', 'QUEUE_UNAVAILABLE', `The job queue is not reachable, nothing was started: ${(err as Error).message}`);
      }
    });
    return toExecutionResponse((await this.stores.executions.get(id, flowId))!);
  }

  async executions(flowId: string, q: ExecutionListQuery): Promise<{ executions: ExecutionResponse[]; total: number }> {
    await this.requireFlow(flowId);
    const { rows, total } = await this.stores.executions.listForFlow(flowId, q);
    return { executions: rows.map(toExecutionResponse), total };
  }

  /** One execution with live progress and its per-VM rows. */
  async execution(flowId: string, executionId: string): Promise<ExecutionDetailResponse> {
    const e = await this.requireExecution(flowId, executionId);
    return toExecutionDetail(e, await this.stores.vmRuns.forExecution(executionId));
  }

  /** Cancels a pending or running execution (409 when it has ended already). */
  async cancel(flowId: string, executionId: string, op: Operation): Promise<ExecutionDetailResponse> {
    await this.requireExecution(flowId, executionId);
    const res = await this.canceller.cancel(executionId, op.actor.username);
    if (res.state === 'final') throw conflict('EXECUTION_FINISHED', `Execution ${executionId} has ended (${res.status}): there is nothing to cancel`);
    await this.stores.audit.record({ actor: op.actor.username, action: 'execution.cancel', entity_type: 'protection_flow_execution', entity_id: executionId, details: { flow_id: flowId }, request_id: op.requestId });
    return this.execution(flowId, executionId);
  }

  async logs(flowId: string, executionId: string, q: { limit: number; after_id?: number; level?: 'debug' | 'info' | 'warn' | 'error' }) {
    await this.requireExecution(flowId, executionId);
    return { logs: (await this.stores.jobLogs.forExecution(executionId, q)).map(toJobLog) };
  }

  private async requireExecution(flowId: string, executionId: string) {
    await this.requireFlow(flowId);
    const e = await this.stores.executions.get(executionId, flowId);
    if (!e) throw notFound('EXECUTION_NOT_FOUND', `Execution ${executionId} of flow ${flowId} does not exist`);
    return e;
  }

  async status(flowId: string): Promise<FlowStatus> {
    return toFlowStatus(await this.requireFlow(flowId));
  }

  private async requireFlow(flowId: string) {
    const f = await this.stores.flows.get(flowId);
    if (!f) throw notFound('FLOW_NOT_FOUND', `Protection flow ${flowId} does not exist`);
    return f;
  }
}
