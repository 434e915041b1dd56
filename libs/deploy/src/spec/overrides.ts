import { z } from 'zod';
import { DEFAULT_DEPLOYMENT_SPEC, DeploymentSpec, deepFreeze } from './deployment-spec';
import { DeploymentSpecError, describeIssues } from './spec-error';
import { dropUndefined } from '../util/drop-undefined';

// Flags and env vars arrive as text, so numbers are coerced; the full spec re-validates the result.
const PortText = z.coerce.number().pipe(z.int().min(1).max(65_535));
const PositiveText = z.coerce.number().pipe(z.int().min(1));

/**
 * Values from command-line flags or the environment that replace fields of the spec,
 * e.g. `{ routerPort: '8080' }` to run nginx without root.
 */
export const DeploymentOverrides = z.strictObject({
  routerPort: PortText.optional(),
  bluePort: PortText.optional(),
  greenPort: PortText.optional(),
  blueModel: z.string().optional(),
  greenModel: z.string().optional(),
  bodyLimitBytes: PositiveText.optional(),
  maxBatchRows: PositiveText.optional(),
});
export type DeploymentOverrides = z.infer<typeof DeploymentOverrides>;

const OVERRIDE_SOURCE = 'overrides (flags or environment)';
const OVERRIDE_HINT = 'Fix the flag or environment variable that set it; the spec was not changed.';

/**
 * Returns a new validated spec with the overrides applied; `undefined` values are ignored.
 * @throws DeploymentSpecError when an override is malformed or makes the spec invalid
 *         (for example two listeners on the same port)
 */
export function applyOverrides(spec: DeploymentSpec, overrides: z.input<typeof DeploymentOverrides>): DeploymentSpec {
  const parsed = DeploymentOverrides.safeParse(dropUndefined(overrides));
  if (!parsed.success) {
    throw new DeploymentSpecError(OVERRIDE_SOURCE, describeIssues(parsed.error.issues, {}), OVERRIDE_HINT);
  }
  const o = parsed.data;
  const merged = {
    ...spec,
    router: { ...spec.router, port: o.routerPort ?? spec.router.port },
    colors: {
      blue: { ...spec.colors.blue, port: o.bluePort ?? spec.colors.blue.port, model: o.blueModel ?? spec.colors.blue.model },
      green: { ...spec.colors.green, port: o.greenPort ?? spec.colors.green.port, model: o.greenModel ?? spec.colors.green.model },
    },
    limits: {
      bodyLimitBytes: o.bodyLimitBytes ?? spec.limits.bodyLimitBytes,
      maxBatchRows: o.maxBatchRows ?? spec.limits.maxBatchRows,
    },
  };
  const result = DeploymentSpec.safeParse(merged);
  if (!result.success) {
    throw new DeploymentSpecError(
      `the spec with ${OVERRIDE_SOURCE} ${JSON.stringify(o)}`,
      describeIssues(result.error.issues, DEFAULT_DEPLOYMENT_SPEC),
      OVERRIDE_HINT,
    );
  }
  return deepFreeze(result.data);
}
