import { Injectable } from '@nestjs/common';
import type { HealthStatus } from '@mlbg/contract';

/** Where the process is in its life: only `ready` takes traffic. */
export type Readiness =
  { state: 'starting' } | { state: 'ready'; since: number } | { state: 'draining'; since: number } | { state: 'failed'; reason: string };

/** The process's readiness, which /health reports and SIGTERM turns to `draining`. */
@Injectable()
export class ReadinessTracker {
  private current: Readiness = { state: 'starting' };

  get(): Readiness {
    return this.current;
  }

  markReady(): void {
    this.current = { state: 'ready', since: Date.now() };
  }

  markDraining(): void {
    this.current = { state: 'draining', since: Date.now() };
  }

  markFailed(reason: string): void {
    this.current = { state: 'failed', reason };
  }

  /** The status word /health answers with. */
  healthStatus(): HealthStatus {
    const readiness = this.current;
    switch (readiness.state) {
      case 'ready':
        return 'ok';
      case 'starting':
        return 'starting';
      case 'draining':
        return 'draining';
      case 'failed':
        return 'error';
      default: {
        const unreachable: never = readiness;
        return unreachable;
      }
    }
  }
}
