import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessTracker } from '../lifecycle/readiness';
import { ModelService } from '../model/model.service';

/** Terminus indicator: up once the model is loaded and the warm-up inference passed. */
@Injectable()
export class ModelHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessTracker,
    private readonly model: ModelService,
  ) {}

  check(key: string) {
    const indicator = this.indicators.check(key);
    const readiness = this.readiness.get();
    const facts = { version: this.model.version, feature_count: this.model.featureCount };
    return readiness.state === 'ready'
      ? indicator.up(facts)
      : indicator.down({ ...facts, state: readiness.state, ...(readiness.state === 'failed' ? { reason: readiness.reason } : {}) });
  }
}
