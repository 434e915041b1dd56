import { ImageReference, ModelPathArgument } from '@mlbg/contract';

/** The schemas live in the contract (the dashboard's request bodies use them); the CLI's flags and the backends too. */
export { ImageReference, ModelPathArgument };

/** What is wrong with a release's --model or --image, as one sentence; undefined when both are fine. */
export function releaseValuesProblem(values: {
  readonly model?: string | undefined;
  readonly image?: string | undefined;
}): string | undefined {
  for (const [flag, value, schema] of [
    ['--model', values.model, ModelPathArgument],
    ['--image', values.image, ImageReference],
  ] as const) {
    if (value === undefined) continue;
    const checked = schema.safeParse(value);
    if (!checked.success) return `${flag}=${JSON.stringify(value)} ${checked.error.issues[0]?.message ?? 'is not valid'}.`;
  }
  return undefined;
}
