import { appRouter, type ModelProcedures, type PredictResponse, type TrpcContext } from '@mlbg/contract';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import { ApiError } from '../errors/api-error';
import { HealthService } from '../health/health.service';
import { ModelService } from '../model/model.service';
import { PredictService } from '../predict/predict.service';

export const TRPC_PREFIX = '/trpc';

/** HTTP statuses of the error catalogue, as tRPC error codes. */
function toTrpcError(error: ApiError): TRPCError {
  const code = error.status === 413 ? 'PAYLOAD_TOO_LARGE' : error.status === 503 ? 'SERVICE_UNAVAILABLE' : 'BAD_REQUEST';
  return new TRPCError({ code, message: error.message, cause: error });
}

/** Serves the contract's tRPC router at /trpc, backed by the same services as the HTTP routes. */
export async function registerTrpc(app: NestFastifyApplication): Promise<void> {
  const health = app.get(HealthService);
  const predictions = app.get(PredictService);
  const plan = app.get(ModelService).loaded.answer;
  // The router's `predict` answers the original shape, one number per row; other models answer over HTTP.
  const servesOriginalShape = plan.task === 'regression' && plan.targets === 1;
  const procedures: ModelProcedures = {
    health: async () => health.report(),
    predict: async (input) => {
      if (!servesOriginalShape) {
        const kind = plan.task === 'regression' ? `a regression model with ${plan.targets} targets` : 'a classifier';
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message: `this service serves ${kind}; tRPC predict answers one number per row only. Use POST /predict or POST /v2/models/{name}/infer.`,
        });
      }
      try {
        return (await predictions.predict(input)) as PredictResponse;
      } catch (error) {
        throw error instanceof ApiError ? toTrpcError(error) : error;
      }
    },
  };
  const context: TrpcContext = { procedures };
  await app.register(fastifyTRPCPlugin, {
    prefix: TRPC_PREFIX,
    trpcOptions: { router: appRouter, createContext: () => context },
  } satisfies FastifyTRPCPluginOptions<typeof appRouter>);
}
