import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { APP_CONFIG, type AppConfig } from '../config/app-config';
import { ApiExceptionFilter } from '../errors/api-exception.filter';
import { HealthController } from '../health/health.controller';
import { HealthService } from '../health/health.service';
import { ModelHealthIndicator } from '../health/model.health';
import { ReadinessTracker } from '../lifecycle/readiness';
import { MetricsController } from '../metrics/metrics.controller';
import { MetricsService } from '../metrics/metrics.service';
import { ModelController } from '../model/model.controller';
import { ModelService } from '../model/model.service';
import { LOADED_MODEL } from '../model/model.tokens';
import type { LoadedModel } from '../model/onnx-model';
import { PredictService } from '../predict/predict.service';
import { PredictionLog } from '../predictions/prediction-log';

@Module({})
export class AppModule {
  /** The whole service for one config and one already loaded model. */
  static forRoot(config: AppConfig, model: LoadedModel): DynamicModule {
    return {
      module: AppModule,
      // Terminus's own failure log would repeat every 503 /health as an error; readiness is logged by us.
      imports: [TerminusModule.forRoot({ logger: false })],
      // POST /predict is a plain Fastify route (see predict.route.ts).
      controllers: [HealthController, MetricsController, ModelController],
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: LOADED_MODEL, useValue: model },
        { provide: APP_FILTER, useClass: ApiExceptionFilter },
        ReadinessTracker,
        MetricsService,
        ModelService,
        PredictService,
        { provide: PredictionLog, useValue: new PredictionLog(config.predictionLogSize) },
        HealthService,
        ModelHealthIndicator,
      ],
    };
  }
}
