import type { Color } from '@mlbg/contract';
import {
  type ColorAccess,
  type Gate,
  type GateContext,
  type GateFacts,
  type GateResult,
  type ReplicaAccess,
  type ReplicaQuorum,
  failed,
  passed,
} from './gate';

/** The results of a list of gates, run in order until the first failure (the rest are not run). */
export interface GateRun {
  readonly ok: boolean;
  readonly results: GateResult[];
  readonly failure?: GateResult;
}

/** The name of the result that says how many of the target's replicas passed. */
export const REPLICAS_GATE = 'replicas';

/** Runs the gates one after the other; a gate that throws is a failure that says so, never a pass. */
export async function runGates(gates: readonly Gate[], context: GateContext, onResult?: (result: GateResult) => void): Promise<GateRun> {
  const results: GateResult[] = [];
  for (const gate of gates) {
    let result: GateResult;
    try {
      result = await gate.run(context);
    } catch (error) {
      result = {
        name: gate.name,
        ok: false,
        observed: `the check itself failed: ${(error as Error).message}`,
        expected: 'a result',
        hint: 'This is a bug in the gate; report it with this output.',
      };
    }
    results.push(result);
    onResult?.(result);
    if (!result.ok) return { ok: false, results, failure: result };
  }
  return { ok: true, results };
}

/**
 * The preflight of a switch or canary: the gates on the target color, or, where it has several
 * replicas, each replica-scoped gate on each replica on its own (at the same time): the color
 * passes when at least `quorum` of them pass every such gate and they all serve one model. Each of
 * those gates' results lists what each replica showed; one more result, `replicas`, says how many
 * passed. Then the color-scoped gates (the prediction diff) run once on the color as a whole. As
 * with one process, the results end at the first failure. The facts (the target's version, ...)
 * are those of the first replica that passed.
 */
export async function runPreflight(gates: readonly Gate[], context: GateContext, quorum: ReplicaQuorum = 'all'): Promise<GateRun> {
  const members = context.colors.replicas?.(context.to) ?? [];
  if (members.length <= 1) return runGates(gates, context);
  const perReplica = gates.filter((gate) => gate.scope !== 'color');
  const runs = await Promise.all(
    members.map(async (member) => {
      const facts: GateFacts = {};
      const run = await runGates(perReplica, { ...context, colors: onReplica(context.colors, context.to, member), facts });
      return { member, facts, run };
    }),
  );
  const required = quorum === 'all' ? members.length : Math.min(quorum, members.length);
  const passing = runs.filter((item) => item.run.ok);
  Object.assign(context.facts, (passing[0] ?? runs[0])?.facts ?? {});
  const results: GateResult[] = [];
  for (const gate of perReplica) {
    const merged = mergeResults(gate.name, runs, required);
    if (!merged) break;
    results.push(merged);
    if (!merged.ok) return { ok: false, results, failure: merged };
  }
  const summary = replicasResult(context.to, members.length, required, runs);
  results.push(summary);
  if (!summary.ok) return { ok: false, results, failure: summary };
  const whole = await runGates(
    gates.filter((gate) => gate.scope === 'color'),
    context,
  );
  return { ok: whole.ok, results: [...results, ...whole.results], ...(whole.failure ? { failure: whole.failure } : {}) };
}

/** How many replicas passed every gate, and whether they serve one model (a release stopped half way would not). */
function replicasResult(
  color: Color,
  count: number,
  required: number,
  runs: readonly { readonly member: ReplicaAccess; readonly facts: GateFacts; readonly run: GateRun }[],
): GateResult {
  const passing = runs.filter((item) => item.run.ok);
  const wanted = `${required === count ? 'all' : `at least ${required} of`} ${count} replicas of ${color} pass every gate`;
  const models = new Set(passing.map((item) => `${item.facts.target?.version} ${item.facts.target?.model_sha256}`));
  if (models.size > 1)
    return failed(
      REPLICAS_GATE,
      `the replicas of ${color} serve different models: ${passing.map((item) => `${item.member.name} ${item.facts.target?.version} (sha256 ${item.facts.target?.model_sha256.slice(0, 12)})`).join(', ')}`,
      `every replica of ${color} serves the same model`,
      `Release the model you mean to ${color} again (deploy:release), so every replica runs it.`,
    );
  const tally = `${passing.length} of ${count} replicas of ${color} passed every gate${
    passing.length < count
      ? ` (not: ${runs
          .filter((item) => !item.run.ok)
          .map((item) => item.member.name)
          .join(', ')})`
      : ''
  }`;
  return passing.length >= required
    ? passed(REPLICAS_GATE, tally, wanted)
    : failed(
        REPLICAS_GATE,
        tally,
        wanted,
        `Check each replica of ${color} with deploy:status and its log; a replica the supervisor is restarting passes once it is ready again.`,
      );
}

/** One gate's results on every replica that got to it, as one result: ok when at least `required` passed it. */
function mergeResults(
  name: string,
  runs: readonly { readonly member: ReplicaAccess; readonly run: GateRun }[],
  required: number,
): GateResult | undefined {
  const reached = runs.flatMap(({ member, run }) => {
    const result = run.results.find((item) => item.name === name);
    return result ? [{ member, result }] : [];
  });
  const first = reached[0]?.result;
  if (!first) return undefined;
  const okCount = reached.filter((item) => item.result.ok).length;
  const observed = reached.map(({ member, result }) => `${member.name}: ${result.observed}`).join(' | ');
  const hint = reached.find((item) => !item.result.ok)?.result.hint ?? first.hint;
  return okCount >= required
    ? passed(name, observed, first.expected)
    : failed(name, observed, first.expected, hint ?? 'See each replica with deploy:status.');
}

/** The colors as a gate sees them when `color` is one replica of it. */
function onReplica(colors: ColorAccess, color: Color, member: ReplicaAccess): ColorAccess {
  const request = member.request;
  return {
    health: (which) => (which === color ? member.health() : colors.health(which)),
    predict: (which, body) => (which === color ? member.predict(body) : colors.predict(which, body)),
    recorded: (which) => colors.recorded(which),
    ...(colors.request
      ? {
          request: (which: Color, call: Parameters<NonNullable<ColorAccess['request']>>[1]) =>
            which === color && request ? request(call) : (colors.request as NonNullable<ColorAccess['request']>)(which, call),
        }
      : {}),
  };
}
