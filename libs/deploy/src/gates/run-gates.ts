import type { Gate, GateContext, GateResult } from './gate';

/** The results of a list of gates, run in order until the first failure (the rest are not run). */
export interface GateRun {
  readonly ok: boolean;
  readonly results: GateResult[];
  readonly failure?: GateResult;
}

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
