import { MODEL_INPUT_NAME, MODEL_OUTPUT_NAME } from '@mlbg/contract';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';

/** The workspace root, where the artifact paths start. */
export const WORKSPACE_ROOT = resolve(__dirname, '../../../..');

/** Reads a workspace-relative file. */
export function readWorkspaceFile(path: string): Buffer {
  return readFileSync(resolve(WORKSPACE_ROOT, path));
}

/** Runs ONNX bytes through onnxruntime-node on a batch of rows and returns one number per row. */
export async function predictWithOrt(model: Uint8Array, rows: readonly (readonly number[])[]): Promise<number[]> {
  const session = await InferenceSession.create(model);
  try {
    const input = new Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0].length]);
    const output = (await session.run({ [MODEL_INPUT_NAME]: input }))[MODEL_OUTPUT_NAME];
    expect(output.dims).toEqual([rows.length, 1]);
    return Array.from(output.data as Float32Array);
  } finally {
    await session.release();
  }
}
