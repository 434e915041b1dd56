import { predictBody } from './payloads';

/** What the bench sends: the health check and `/predict` with the original 3-row example, 100 and 10,000 rows. */
export interface Endpoint {
  readonly name: EndpointName;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  /** Rows per /predict request (0 for /health). */
  readonly rows: number;
  readonly label: string;
}

export const ENDPOINT_NAMES = ['health', 'predict-3', 'predict-100', 'predict-10000'] as const;
export type EndpointName = (typeof ENDPOINT_NAMES)[number];

export const ENDPOINTS: Readonly<Record<EndpointName, Endpoint>> = {
  health: { name: 'health', method: 'GET', path: '/health', rows: 0, label: 'GET /health' },
  'predict-3': { name: 'predict-3', method: 'POST', path: '/predict', rows: 3, label: 'POST /predict, 3 rows' },
  'predict-100': { name: 'predict-100', method: 'POST', path: '/predict', rows: 100, label: 'POST /predict, 100 rows' },
  'predict-10000': { name: 'predict-10000', method: 'POST', path: '/predict', rows: 10_000, label: 'POST /predict, 10,000 rows' },
};

export function bodyOf(endpoint: Endpoint): string | undefined {
  return endpoint.method === 'POST' ? predictBody(endpoint.rows) : undefined;
}
