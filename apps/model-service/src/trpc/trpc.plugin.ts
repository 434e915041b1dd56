import { appRouter, type ModelProcedures, type TrpcContext } from '@mlbg/contract';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin, type FastifyTRPCPluginOptions } from '@trpc/server/adapters/fastify';
import { ApiError } from '../errors/api-error';
import { HealthService } from '../health/health.service';
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
  const procedures: ModelProcedures = {
    health: () => health.report(),
    predict: async (input) => {
      try {
        return await predictions.predict(input);
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
