import { buildOpenApiDocument } from '@mlbg/contract';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ModelService } from '../model/model.service';

export const DOCS_PREFIX = '/docs';
export const OPENAPI_PATH = '/openapi.json';

/**
 * `/openapi.json` and Swagger UI at `/docs`, both from the contract's schemas. Swagger UI's files
 * come from the installed package, never a CDN. The server URL is relative ("..", from
 * /docs/json) so "Try it out" also works behind a path prefix such as nginx's /preview/.
 */
export async function registerDocs(app: NestFastifyApplication, model: ModelService): Promise<void> {
  const plan = model.loaded.answer;
  const answer =
    plan.task === 'classification'
      ? 'ClassificationPredictResponse'
      : plan.targets === 1
        ? 'PredictResponse'
        : 'MultiTargetPredictResponse';
  const document = {
    ...buildOpenApiDocument({
      modelVersion: model.version,
      featureCount: model.featureCount,
      model: { name: model.name, signature: model.signature, answer },
    }),
    servers: [{ url: '..', description: 'this service' }],
  };
  const fastify = app.getHttpAdapter().getInstance();
  fastify.get(OPENAPI_PATH, (_request, reply) => reply.send(document));
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: DOCS_PREFIX, uiConfig: { tryItOutEnabled: true } });
}
