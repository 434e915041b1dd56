import { ActionRequests } from '@mlbg/contract';
import { z } from 'zod';
import { ImageReference, ModelPathArgument } from '../../spec/release-values';
import { dropUndefined } from '../../util/drop-undefined';
import { defineCommand } from '../command';
import { ColorValue, TIMEOUT_FLAG, switchFlag, textFlag } from '../flags';
import { releaseToIdle } from './stack';

export const releaseDescriptor = defineCommand({
  name: 'release',
  summary:
    'restart the idle color on a new model (--model; Compose: and/or --image), reachable on /preview/, not live;\n' +
    'with --switch, then switch to it under the same lock (put back as it was if the switch fails)',
  flags: z
    .object({
      // Each goes on as it is (into .env, an environment, a command line): one plain value, or a usage error.
      model: textFlag(ModelPathArgument.optional(), { value: 'P' }),
      image: textFlag(ImageReference.optional(), { value: 'I' }),
      switch: switchFlag(),
      expectVersion: textFlag(z.string().optional(), { value: 'V' }),
      color: textFlag(ColorValue.optional(), { value: '<idle color>' }),
      ...TIMEOUT_FLAG,
    })
    .superRefine((flags, context) => {
      if (flags.expectVersion && !flags.switch)
        context.addIssue({ code: 'custom', message: '--expect-version goes with --switch: it is the version the switch insists on' });
    }),
  refuseOn: (backend, given) => {
    if (given.model) return undefined;
    if (backend === 'local') return 'release needs --model=<path to an .onnx file>, e.g. --model=models/v1.1.0/model.onnx';
    return given.image ? undefined : 'release needs --model=<path to an .onnx file> and/or --image=<image reference>';
  },
  options: (flags) => ({
    switch: flags.switch,
    ...dropUndefined({
      model: flags.model,
      image: flags.image,
      expectVersion: flags.expectVersion,
      color: flags.color,
      timeoutMs: flags.timeout,
    }),
  }),
  // With --switch it moves the live route, through the gates.
  preflight: {},
  run: (context, options) => releaseToIdle(context, options),
  actions: {
    release: {
      body: ActionRequests.release,
      options: (body) => ({ switch: body.switch, ...dropUndefined({ model: body.model, color: body.color }) }),
    },
  },
});
