import { API_ERRORS, type ApiErrorCode, type ValidationIssue } from '@mlbg/contract';

/** An error from the contract's catalogue; the HTTP status is chosen only at the edge (the filter). */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    /** What the client sees as `detail`: the catalogue's message unless something more precise is known. */
    readonly detail: string | ValidationIssue[] = API_ERRORS[code].message,
  ) {
    super(typeof detail === 'string' ? detail : API_ERRORS[code].message);
    this.name = 'ApiError';
  }

  get status(): number {
    return API_ERRORS[this.code].status;
  }
}
