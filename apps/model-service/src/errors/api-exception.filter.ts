import { API_ERRORS, type ApiErrorCode, type ErrorBody } from '@mlbg/contract';
import { ArgumentsHost, Catch, HttpException, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from './api-error';

/** Errors raised by Fastify before a handler runs, by the status Fastify gives them. */
const CODE_BY_STATUS: Readonly<Record<number, ApiErrorCode>> = {
  400: 'MALFORMED_JSON',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'BODY_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  503: 'NOT_READY',
};

/**
 * The one place errors become HTTP answers: `{"detail": ..., "code": ...}` with the catalogue's status.
 * Anything unexpected is a 500 that is logged and never shows internals to the client.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const error = this.toApiError(exception, request);
    const body: ErrorBody = { detail: error.detail, code: error.code };
    reply.status(error.status).send(body);
  }

  private toApiError(exception: unknown, request: FastifyRequest): ApiError {
    if (exception instanceof ApiError) return exception;
    if (exception instanceof HttpException) {
      const code = CODE_BY_STATUS[exception.getStatus()];
      if (code) return new ApiError(code, code === 'MALFORMED_JSON' ? malformedJsonDetail(exception) : API_ERRORS[code].message);
    }
    request.log.error({ err: exception }, `unexpected error answering ${request.method} ${request.url}`);
    return new ApiError('INTERNAL');
  }
}

/** Fastify says where the JSON broke ("Unexpected token } in JSON at position 12"); keep that. */
function malformedJsonDetail(exception: HttpException): string {
  return `${API_ERRORS.MALFORMED_JSON.message} (${exception.message})`;
}
