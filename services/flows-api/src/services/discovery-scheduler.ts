import type { Logger } from '@vaultflow/logging';
import type { DuePassResult } from './discovery.service.js';

/** The part of DiscoveryService the timer drives. */
export interface DuePass {
  discoverDue(maxAgeMs: number, shouldStop: () => boolean): Promise<DuePassResult>;
}

/** Every 15 minutes, as the issue asks. */
export const DISCOVERY_INTERVAL_MS = 15 * 60_000;

/**
 * Runs the periodic discovery pass: first shortly after start, then `intervalMs` after the end of
 * each pass (passes never overlap). A vCenter counts as due a little before a full interval has
 * passed, so timer jitter does not make it skip a round; replicas do not repeat each other's work
 * (see DiscoveryService.discoverDue). Started by main.ts only.
 */
export class DiscoveryScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly discovery: DuePass,
    private readonly logger: Logger,
    private readonly intervalMs = DISCOVERY_INTERVAL_MS,
    private readonly firstDelayMs = 30_000,
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule(this.firstDelayMs);
  }

  /** Stops the timer and waits for a running pass, which ends after the vCenter it is on. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.pass().finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    }, ms);
    this.timer.unref();
  }

  private async pass(): Promise<void> {
    const maxAgeMs = Math.max(this.intervalMs / 2, this.intervalMs - 60_000);
    const r = await this.discovery.discoverDue(maxAgeMs, () => this.stopped);
    if (r.discovered || r.failed) this.logger.info(r, 'periodic vCenter discovery');
  }
}
