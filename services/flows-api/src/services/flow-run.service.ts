import { randomUUID } from 'node:crypto';
import type { Db, Stores } from '@vaultflow/db';
import type { Operation } from '@vaultflow/domain';
import { AppError, conflict, notFound } from '@vaultflow/errors';
import type { FlowRunProducer } from '@vaultflow/queue';
import type { ExecutionListQuery, ExecutionResponse, FlowStatus } from '@vaultflow/schemas';
import { toExecutionResponse, toFlowStatus } from '../mappers/flow.mapper.js';

/** Starting flows on demand and reading their executions. */
export class FlowRunService {
  constructor(
    private readonly db: Db,
    private readonly stores: Stores,
    private readonly producer: FlowRunProducer,
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
    return this.execution(flowId, id);
  }

  async executions(flowId: string, q: ExecutionListQuery): Promise<{ executions: ExecutionResponse[]; total: number }> {
    await this.requireFlow(flowId);
    const { rows, total } = await this.stores.executions.listForFlow(flowId, q);
    return { executions: rows.map(toExecutionResponse), total };
  }

  async execution(flowId: string, executionId: string): Promise<ExecutionResponse> {
    await this.requireFlow(flowId);
    const e = await this.stores.executions.get(executionId, flowId);
    if (!e) throw notFound('EXECUTION_NOT_FOUND', `Execution ${executionId} of flow ${flowId} does not exist`);
    return toExecutionResponse(e);
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
