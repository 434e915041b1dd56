import type { HealthResponse, LivenessResponse } from '@mlbg/contract';
import { Controller, Get, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { HealthService } from './health.service';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Readiness: 200 only while the model answers; 503 while starting, draining or broken. */
  @Get()
  readiness(@Res({ passthrough: true }) reply: FastifyReply): HealthResponse {
    const report = this.health.report();
    reply.status(report.status === 'ok' ? 200 : 503);
    return report;
  }

  /** Liveness: the process is up, whatever the model's state. */
  @Get('live')
  liveness(): LivenessResponse {
    return { status: 'ok' };
  }
}
