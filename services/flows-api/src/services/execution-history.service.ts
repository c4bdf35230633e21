import type { ExecutionSummaryRecord, Stores } from '@vaultflow/db';
import type { RecentExecution, RecentExecutionListQuery, RecentExecutionListResponse } from '@vaultflow/schemas';
import { iso, isoNN } from '../mappers/time.js';

/** The record with its instants in ISO 8601 UTC (the store selects exactly the answer's fields). */
function toRecentExecution(e: ExecutionSummaryRecord): RecentExecution {
  return { ...e, started_at: iso(e.started_at), completed_at: iso(e.completed_at), created_at: isoNN(e.created_at) };
}

/** The execution history of every flow, for overviews (the dashboard's chart). */
export class ExecutionHistoryService {
  constructor(private readonly stores: Pick<Stores, 'executionHistory'>) {}

  async list(q: RecentExecutionListQuery): Promise<RecentExecutionListResponse> {
    const { rows, total } = await this.stores.executionHistory.list({
      limit: q.limit,
      offset: q.offset,
      order: q.order,
      status: q.status,
      flow_id: q.flow_id,
      since: q.since === undefined ? undefined : new Date(q.since),
    });
    return { executions: rows.map(toRecentExecution), total };
  }
}
