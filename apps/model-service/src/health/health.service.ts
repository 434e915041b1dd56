import type { HealthResponse } from '@mlbg/contract';
import { Injectable } from '@nestjs/common';
import { ReadinessTracker } from '../lifecycle/readiness';
import { ModelService } from '../model/model.service';
import { ModelHealthIndicator } from './model.health';

const STARTED_AT = Date.now();

/** The /health report as JSON text, whether it is ready, and the text's byte length (a Content-Length). */
export interface HealthJson {
  readonly ok: boolean;
  readonly json: string;
  readonly length: string;
}
/** The one check behind readiness, under this key in `details` (terminus's shape). */
const MODEL_CHECK = 'model';

/** The /health report: the original `{status, version}` plus color, model facts and terminus details. */
@Injectable()
export class HealthService {
  constructor(
    private readonly modelHealth: ModelHealthIndicator,
    private readonly readiness: ReadinessTracker,
    private readonly model: ModelService,
  ) {}

  /**
   * Synchronous and cheap: nginx and the deploy tool ask often. The one indicator is asked directly
   * (terminus's HealthCheckService would give the same `details` for it, with a promise, a try/catch
   * and an exception per failed check around it).
   */
  report(): HealthResponse {
    const details = this.modelHealth.check(MODEL_CHECK);
    const status = details[MODEL_CHECK]?.status === 'up' ? 'ok' : this.notOkStatus();
    return {
      status,
      version: this.model.version,
      color: this.model.color,
      feature_count: this.model.featureCount,
      model_sha256: this.model.sha256,
      uptime_seconds: Math.round((Date.now() - STARTED_AT) / 1000),
      details,
      signature: this.model.signature,
    };
  }

  /**
   * The report as JSON text and whether it is ready, rebuilt only when it can change: when the
   * readiness changes or the uptime reaches its next second (what a readiness probe asks most).
   */
  reportJson(): HealthJson {
    const readiness = this.readiness.get();
    const uptime = Math.round((Date.now() - STARTED_AT) / 1000);
    const cached = this.cached;
    if (cached && cached.readiness === readiness && cached.uptime === uptime) return cached;
    const report = this.report();
    const json = JSON.stringify(report);
    this.cached = { readiness, uptime: report.uptime_seconds, ok: report.status === 'ok', json, length: String(Buffer.byteLength(json)) };
    return this.cached;
  }

  private cached?: HealthJson & { readonly readiness: object; readonly uptime: number };

  /** When a check failed, say why in one word: still starting, draining for shutdown, or broken. */
  private notOkStatus(): HealthResponse['status'] {
    const status = this.readiness.healthStatus();
    return status === 'ok' ? 'error' : status;
  }
}
