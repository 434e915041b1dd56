import { classifierBody, predictBody } from './payloads';

/** What the bench sends: the health check, `/predict` with the original 3-row example, 100 and 10,000 rows, and a classifier. */
export interface Endpoint {
  readonly name: EndpointName;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Rows per /predict request (0 for /health). */
  readonly rows: number;
  /** The body to send, when not the regression body of `rows` rows. */
  readonly body?: string;
  readonly label: string;
  /**
   * A model of its own (workspace-relative): the case then runs against a service and a bare baseline
   * started on it, directly (not the stack's colors, which serve the regression models).
   */
  readonly model?: string;
}

export const ENDPOINT_NAMES = ['health', 'predict-3', 'predict-100', 'predict-10000', 'classify-100'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

/** The shipped classifier example: 4 features, 3 classes (string labels and probabilities). */
export const CLASSIFIER_MODEL = 'models/classifier/model.onnx';

export const ENDPOINTS: Readonly<Record<EndpointName, Endpoint>> = {
  health: { name: 'health', method: 'GET', path: '/health', rows: 0, label: 'GET /health' },
  'predict-3': { name: 'predict-3', method: 'POST', path: '/predict', rows: 3, label: 'POST /predict, 3 rows' },
  'predict-100': { name: 'predict-100', method: 'POST', path: '/predict', rows: 100, label: 'POST /predict, 100 rows' },
  'predict-10000': { name: 'predict-10000', method: 'POST', path: '/predict', rows: 10_000, label: 'POST /predict, 10,000 rows' },
  'classify-100': {
    name: 'classify-100',
    method: 'POST',
    path: '/predict',
    rows: 100,
    label: 'POST /predict, classifier (3 classes), 100 rows',
    model: CLASSIFIER_MODEL,
    body: classifierBody(100),
  },
};

export function bodyOf(endpoint: Endpoint): string | undefined {
  return endpoint.method === 'POST' ? (endpoint.body ?? predictBody(endpoint.rows)) : undefined;
}
