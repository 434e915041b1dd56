import { readFileSync } from 'node:fs';
import { DeployError } from '../errors';

/** Bodies a replay sends at most: a replay is a check before a switch, not a load test. */
export const MAX_REPLAY_BODIES = 10_000;

/**
 * The /predict bodies of a JSON Lines replay file (one JSON object with `features` per line; blank
 * lines skipped), each as the exact text to send.
 * @throws DeployError REPLAY_FILE_INVALID naming the file and line
 */
export function readReplayFile(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new DeployError(
      'REPLAY_FILE_INVALID',
      `${file} can not be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
    );
  }
  const bodies: string[] = [];
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new DeployError('REPLAY_FILE_INVALID', `${file} line ${index + 1} is not JSON (${(error as Error).message}).`);
    }
    if (!parsed || typeof parsed !== 'object' || !Array.isArray((parsed as { features?: unknown }).features)) {
      throw new DeployError('REPLAY_FILE_INVALID', `${file} line ${index + 1} is not a /predict body: it has no "features" array.`);
    }
    bodies.push(line.trim());
  });
  if (bodies.length === 0) throw new DeployError('REPLAY_FILE_INVALID', `${file} has no bodies.`);
  if (bodies.length > MAX_REPLAY_BODIES)
    throw new DeployError('REPLAY_FILE_INVALID', `${file} has ${bodies.length} bodies; a replay sends at most ${MAX_REPLAY_BODIES}.`);
  return bodies;
}
