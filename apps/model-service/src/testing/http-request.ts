import { request, type IncomingHttpHeaders } from 'node:http';

/** A request as the specs send it to a real port on loopback, each on a connection of its own. */
export interface SentRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A string, raw bytes (both sent with their Content-Length), or chunks written without one (chunked). */
  body?: string | Buffer | string[];
  /** Send a string body (with its Content-Length) in two writes, 20 ms apart. */
  split?: boolean;
}

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Sends `sent` over node:http (no agent: a new connection, closed after the answer) and reads the whole answer. */
export function sendRequest(port: number, sent: SentRequest, defaults: { method: string; path: string }): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const { body } = sent;
    const headers: Record<string, string | number> = { ...(sent.headers ?? {}) };
    if (typeof body === 'string' || Buffer.isBuffer(body)) headers['content-length'] = Buffer.byteLength(body);
    const req = request(
      { host: '127.0.0.1', port, method: sent.method ?? defaults.method, path: sent.path ?? defaults.path, headers, agent: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
          res.socket?.destroy();
        });
      },
    );
    req.on('error', reject);
    if (Array.isArray(body)) {
      for (const chunk of body) req.write(chunk);
      req.end();
    } else if (sent.split && typeof body === 'string') {
      req.write(body.slice(0, body.length / 2));
      setTimeout(() => req.end(body.slice(body.length / 2)), 20);
    } else {
      req.end(body);
    }
  });
}
