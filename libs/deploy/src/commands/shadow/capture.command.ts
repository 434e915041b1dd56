import { resolve } from 'node:path';
import { z } from 'zod';
import { MAX_CAPTURE_BODIES } from '../../backends/local/shadow/relay/relay';
import { defineCommand } from '../command';
import { Seconds, textFlag, wholeNumber } from '../flags';
import { captureLive } from './shadow';

/** How long `capture` waits for its bodies unless --timeout says otherwise. */
const DEFAULT_CAPTURE_TIMEOUT_MS = 60_000;

const NEEDS = 'capture needs --n=<how many live bodies> and --out=<file.jsonl>, e.g. --n=1000 --out=live.jsonl';

export const captureDescriptor = defineCommand({
  name: 'capture',
  summary: 'write the next N live request bodies (mirrored by nginx) to a JSON Lines file for diff --replay',
  flags: z
    .object({
      n: textFlag(wholeNumber(1, NEEDS), { value: 'N' }),
      out: textFlag(z.string({ error: NEEDS }).min(1, NEEDS), { value: 'F.jsonl' }),
      timeout: textFlag(Seconds.optional(), { value: `S (default ${DEFAULT_CAPTURE_TIMEOUT_MS / 1000})` }),
    })
    .superRefine((flags, context) => {
      if (flags.n > MAX_CAPTURE_BODIES)
        context.addIssue({ code: 'custom', message: `--n must be at most ${MAX_CAPTURE_BODIES}, not ${flags.n}` });
    }),
  options: ({ n, out, timeout }) => ({ n, out, ...(timeout === undefined ? {} : { timeoutMs: timeout }) }),
  run: (context, options, env) =>
    captureLive(context, {
      n: options.n,
      file: resolve(env.cwd, options.out),
      timeoutMs: options.timeoutMs ?? DEFAULT_CAPTURE_TIMEOUT_MS,
      queueSize: env.spec().shadow.queueSize,
    }),
});
