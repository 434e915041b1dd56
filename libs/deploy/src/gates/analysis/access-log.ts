import { Color } from '@mlbg/contract';
import { z } from 'zod';

/**
 * nginx's JSON access log (`render/nginx/nginx.ts`, log_format mlbg_json): one line per request,
 * with the color that answered (its X-Color header) and the socket link nginx connected through.
 */

/** The fields of a log line the analysis reads. */
const AccessLine = z.object({
  status: z.number(),
  request_time: z.number(),
  upstream_addr: z.string().default(''),
  color: z.string().default(''),
});

/** One request as nginx saw it: which color it belongs to, its status, how long the client waited. */
export interface AccessSample {
  readonly color: Color;
  readonly status: number;
  readonly ms: number;
}

/**
 * Parses complete lines; attributes each to the color that answered, or, when nginx answered
 * itself (502/503/504: the color was down or slow, so there is no X-Color), to the color the link
 * it tried pointed at (`linkColor` of the link's file name, e.g. `live-slot-07`). Lines of
 * neither (nginx's own 413, a request that reached no upstream) are not a color's and are left out.
 * Pure.
 */
export function parseAccessLines(text: string, linkColor: (link: string) => Color | undefined): AccessSample[] {
  const samples: AccessSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = AccessLine.safeParse(json);
    if (!parsed.success) continue;
    const { status, request_time: seconds, upstream_addr: upstream, color: answered } = parsed.data;
    const color = Color.safeParse(answered).data ?? linkColor(lastLinkName(upstream));
    if (color) samples.push({ color, status, ms: Math.round(seconds * 1000) });
  }
  return samples;
}

/**
 * `unix:/tmp/x/run/live-slot-07/r2.sock` -> `live-slot-07`: the link a replica's socket was reached
 * through (the last one when nginx lists several tries).
 */
function lastLinkName(upstream: string): string {
  const last =
    upstream
      .split(/[,:] ?/)
      .filter(Boolean)
      .at(-1) ?? '';
  const folder = last.slice(0, last.lastIndexOf('/'));
  return folder.slice(folder.lastIndexOf('/') + 1);
}

/**
 * Reads a growing log in pieces: feed it what was appended, get back the complete lines (a line
 * cut at the end of a read is kept for the next).
 */
export class LineBuffer {
  private rest = '';
  push(text: string): string {
    const all = this.rest + text;
    const end = all.lastIndexOf('\n');
    this.rest = end < 0 ? all : all.slice(end + 1);
    return end < 0 ? '' : all.slice(0, end + 1);
  }
}
