import type { z } from 'zod';

/**
 * A deployment spec (or an override of it) that can not be used. The message names the source,
 * every bad field, and what to do; nothing was changed.
 */
export class DeploymentSpecError extends Error {
  constructor(
    /** The file (or "overrides") the bad input came from. */
    readonly source: string,
    /** One line per problem, each starting with the field's dotted path. */
    readonly problems: readonly string[],
    /** What to do about it. */
    readonly hint: string,
  ) {
    super(`${source} is not a valid deployment spec:\n${problems.map((problem) => `  - ${problem}`).join('\n')}\n${hint}`);
    this.name = 'DeploymentSpecError';
  }
}

/** One readable line per zod issue: `colors.blue.port: Too big ... (default: 8081)`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], defaults: unknown): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String);
    const where = path.length > 0 ? path.join('.') : '(top level)';
    const fallback = valueAt(defaults, path);
    const suffix = fallback === undefined || typeof fallback === 'object' ? '' : ` (default: ${JSON.stringify(fallback)})`;
    return `${where}: ${explain(issue)}${suffix}`;
  });
}

function explain(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')}; remove ${issue.keys.length > 1 ? 'them' : 'it'} (check the spelling)`;
  }
  return issue.message;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (const key of path) {
    if (!value || typeof value !== 'object' || !(key in value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
