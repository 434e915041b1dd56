import type { HealthResponse } from '@mlbg/contract';
import { Injectable, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { ReadinessTracker } from '../lifecycle/readiness';
import { ModelService } from '../model/model.service';
import { ModelHealthIndicator } from './model.health';

const STARTED_AT = Date.now();

/** The /health report: the original `{status, version}` plus color, model facts and terminus details. */
@Injectable()
export class HealthService {
  constructor(
    private readonly health: HealthCheckService,
    private readonly modelHealth: ModelHealthIndicator,
    private readonly readiness: ReadinessTracker,
    private readonly model: ModelService,
  ) {}

  async report(): Promise<HealthResponse> {
    const result = await this.runChecks();
    const status = result.status === 'ok' ? 'ok' : this.notOkStatus();
    return {
      status,
      version: this.model.version,
      color: this.model.color,
      feature_count: this.model.featureCount,
      model_sha256: this.model.sha256,
      uptime_seconds: Math.round((Date.now() - STARTED_AT) / 1000),
      details: result.details,
      signature: this.model.signature,
    };
  }

  private async runChecks(): Promise<HealthCheckResult> {
    try {
      return await this.health.check([() => this.modelHealth.check('model')]);
    } catch (error) {
      // Terminus signals a failed check with a 503 carrying the full result.
      if (error instanceof ServiceUnavailableException) return error.getResponse() as HealthCheckResult;
      throw error;
    }
  }

  /** When a check failed, say why in one word: still starting, draining for shutdown, or broken. */
  private notOkStatus(): HealthResponse['status'] {
    const status = this.readiness.healthStatus();
    return status === 'ok' ? 'error' : status;
  }
}
