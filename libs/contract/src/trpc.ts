import { initTRPC } from '@trpc/server';
import { HealthResponse } from './health';
import { PredictRequest, PredictResponse } from './predict';

/** What a service hands the router: the same two operations its HTTP routes run. */
export interface ModelProcedures {
  health(): Promise<HealthResponse>;
  predict(input: PredictRequest): Promise<PredictResponse>;
}

export interface TrpcContext {
  procedures: ModelProcedures;
}

// isDev false: error answers never carry a stack trace.
const t = initTRPC.context<TrpcContext>().create({ isDev: false });

/**
 * The tRPC API served at `/trpc`, from the same schemas as the HTTP routes.
 * It lives here so that clients `import type { AppRouter }` without importing the service.
 */
export const appRouter = t.router({
  health: t.procedure.output(HealthResponse).query(({ ctx }) => ctx.procedures.health()),
  predict: t.procedure
    .input(PredictRequest)
    .output(PredictResponse)
    .mutation(({ ctx, input }) => ctx.procedures.predict(input)),
});

export type AppRouter = typeof appRouter;
