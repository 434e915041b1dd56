import { Agent, request } from 'node:http';

export interface Answer {
  readonly status: number;
  readonly color: string | undefined;
  readonly version: string | undefined;
  readonly body: string;
}

/** One request to localhost:<port> (a new connection each time), as curl in the seed's README. */
export function ask(port: number, path: string, body?: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: body === undefined ? 'GET' : 'POST',
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        agent: agent ?? false,
        timeout: 10_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            color: header(res.headers['x-color']),
            version: header(res.headers['x-model-version']),
            body: text,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from :${port}${path} within 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

const header = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** The seed's README request. */
export const PREDICT_BODY = '{"features": [[1], [2], [3]]}';

/** `{ color, version }` of what nginx (or a color's port) serves now. */
export async function serving(port: number, path = '/health'): Promise<{ status: number; color?: string; version?: string }> {
  const answer = await ask(port, path);
  return { status: answer.status, color: answer.color, version: answer.version };
}

/** Polls `probe` until it returns true; fails after `deadlineMs` with the last thing it saw. */
export async function waitUntil(what: string, deadlineMs: number, probe: () => Promise<boolean | string>): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = '';
  for (;;) {
    try {
      const result = await probe();
      if (result === true) return;
      last = typeof result === 'string' ? result : 'not yet';
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > until) throw new Error(`${what}: not within ${deadlineMs} ms (last: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
