import type { Knex } from 'knex';
import type { Direct } from '../direct.js';
import { json, num, type Queryable } from '../rows.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface JobLogEntry {
  level: LogLevel;
  step: string;
  message: string;
  context?: Record<string, unknown> | null;
  flow_id?: string | null;
  execution_id?: string | null;
  job_id?: string | null;
}

export interface JobLogRecord extends JobLogEntry {
  id: number;
  at: Date;
}

/** A page of a job log: at most `limit` entries after `after_id`, of `level` and above. */
export interface JobLogPage {
  limit: number;
  after_id?: number;
  level?: LogLevel;
}

/** SQL for job_logs: the step log of every execution and VM job. */
export class JobLogStore {
  constructor(
    private readonly db: Knex,
    private readonly direct: Direct,
  ) {}

  async write(e: JobLogEntry, q: Queryable = this.db): Promise<void> {
    await q('job_logs').insert({ ...e, message: e.message.slice(0, 60_000), context: e.context ? JSON.stringify(e.context) : null });
  }

  /** Writes several entries in one statement (straight to the connection: the engine logs every VM's steps). */
  async writeMany(entries: JobLogEntry[]): Promise<void> {
    if (!entries.length) return;
    const rows = entries.map((e) => [e.level, e.step, e.flow_id ?? null, e.execution_id ?? null, e.job_id ?? null, e.message.slice(0, 60_000), e.context ? JSON.stringify(e.context) : null]);
    await this.direct.query('INSERT INTO job_logs (level, step, flow_id, execution_id, job_id, message, context) VALUES ?', [rows]);
  }

  async forExecution(executionId: string, page: JobLogPage): Promise<JobLogRecord[]> {
    return this.page(this.db('job_logs').where({ execution_id: executionId }), page);
  }

  /** The log of one job (a VM job of a flow, or a backup started through the API), oldest first. */
  async forJob(jobId: string, page: JobLogPage): Promise<JobLogRecord[]> {
    return this.page(this.db('job_logs').where({ job_id: jobId }), page);
  }

  private async page(b: Knex.QueryBuilder, page: JobLogPage): Promise<JobLogRecord[]> {
    if (page.after_id) b.where('id', '>', page.after_id);
    if (page.level) b.whereIn('level', (['debug', 'info', 'warn', 'error'] as LogLevel[]).slice(['debug', 'info', 'warn', 'error'].indexOf(page.level)));
    const rows = (await b.orderBy('id').limit(page.limit)) as Record<string, unknown>[];
    return rows.map((r) => ({ ...(r as unknown as JobLogRecord), id: num(r.id), context: json<Record<string, unknown>>(r.context) }));
  }
}
