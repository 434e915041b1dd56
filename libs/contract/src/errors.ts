import { z } from 'zod';

/** One problem with a request, in FastAPI's shape so clients of the original keep parsing it. */
export const ValidationIssue = z.object({
  loc: z.array(z.union([z.string(), z.number()])),
  msg: z.string(),
  type: z.string(),
});
export type ValidationIssue = z.infer<typeof ValidationIssue>;

/**
 * Every error answer: FastAPI's `detail` (a message, or a list of issues for 422)
 * plus a stable `code` from the catalogue below.
 */
export const ErrorBody = z.object({
  detail: z.union([z.string(), z.array(ValidationIssue)]),
  code: z.string(),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/**
 * The closed catalogue of errors the service answers with. The HTTP status is part of the
 * contract; messages say what happened and what to do.
 */
export const API_ERRORS = {
  MALFORMED_JSON: { status: 400, message: 'The body is not valid JSON. Send a JSON object such as {"features": [[1], [2], [3]]}.' },
  VALIDATION_FAILED: { status: 422, message: 'The request does not match the schema; see detail for each field.' },
  BATCH_TOO_LARGE: { status: 413, message: 'Too many rows in one request. Split the batch into smaller requests.' },
  BODY_TOO_LARGE: { status: 413, message: 'The request body is larger than the service accepts. Send fewer rows per request.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the body as JSON with the header "Content-Type: application/json".' },
  INFER_REQUEST_INVALID: {
    status: 400,
    message:
      'The inference request does not match the model; the error names the tensor and what to change. See GET /v2/models/{name} for its inputs.',
  },
  MODEL_NOT_FOUND: { status: 404, message: 'This service serves no model of that name or version. GET /model names the one it serves.' },
  NOT_FOUND: { status: 404, message: 'No such route. See /docs for the API.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed on this route. See /docs for the API.' },
  NOT_READY: { status: 503, message: 'The model is not ready (starting or shutting down). Retry shortly or use the other color.' },
  INTERNAL: { status: 500, message: 'The service failed to answer. Check its logs; the request id is in the X-Request-Id header.' },
} as const satisfies Record<string, { status: number; message: string }>;
export type ApiErrorCode = keyof typeof API_ERRORS;
