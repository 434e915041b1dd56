import { API_ERRORS, type ApiErrorCode, type ErrorBody } from '@mlbg/contract';
import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RequestLog } from '../logging/response-observer';
import { ApiError } from './api-error';

/** Errors raised by Nest or Fastify outside our code, by their HTTP status. */
const CODE_BY_STATUS: Readonly<Record<number, ApiErrorCode>> = {
  400: 'MALFORMED_JSON',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  503: 'NOT_READY',
};

function statusOf(exception: unknown): number | undefined {
  if (exception instanceof HttpException) return exception.getStatus();
  const statusCode = (exception as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** What turning an error into an answer needs from its request (a FastifyRequest is one). */
export interface ErrorRequestContext {
  readonly log: Pick<RequestLog, 'error'>;
  readonly method: string;
  readonly url: string;
}

/** Any error, as one from the catalogue. Unexpected ones are logged and become a 500 that shows no internals. */
export function toApiError(exception: unknown, request: ErrorRequestContext): ApiError {
  if (exception instanceof ApiError) return exception;
  const status = statusOf(exception);
  const code = status === undefined ? undefined : CODE_BY_STATUS[status];
  if (code === 'MALFORMED_JSON') {
    // Fastify says where the JSON broke; keep that.
    return new ApiError(code, `${API_ERRORS.MALFORMED_JSON.message} (${(exception as Error).message})`);
  }
  if (code) return new ApiError(code);
  request.log.error({ err: exception }, `unexpected error answering ${request.method} ${request.url}`);
  return new ApiError('INTERNAL');
}

/** The one shape of every error answer: `{"detail": ..., "code": ...}` with the catalogue's status. */
export function sendApiError(exception: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const error = toApiError(exception, request);
  const body: ErrorBody = { detail: error.detail, code: error.code };
  reply.status(error.status).send(body);
}

/** Errors from Nest controllers and from Fastify before a handler runs. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendApiError(exception, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>());
  }
}
