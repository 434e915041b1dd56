import { numericValueProblem, V2InferRequest, type TensorDatatype, type V2ResponseOutput } from '@mlbg/contract';
import type { Tensor } from 'onnxruntime-node';
import { ApiError } from '../errors/api-error';
import { shortestFloat32 } from '../model/float32';
import { numericTensor } from '../model/model.service';
import { DATATYPE_OF, type LoadedModel, type ServedInput } from '../model/onnx-model';

/** A V2 inference request checked against the model: its tensors, the outputs to return, and its id. */
export interface CheckedInferRequest {
  readonly id?: string;
  readonly feeds: Record<string, Tensor>;
  readonly outputNames: readonly string[];
}

const invalid = (message: string) => new ApiError('INFER_REQUEST_INVALID', message);
const names = (items: readonly { name: string }[]) => items.map((item) => `'${item.name}'`).join(', ');
const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** What a zod issue in the request's structure means, naming the input or output it is in. */
function structureProblem(body: unknown, path: readonly PropertyKey[], message: string): string {
  const [list, index, field] = path;
  if ((list === 'inputs' || list === 'outputs') && typeof index === 'number') {
    const items = (body as Record<string, unknown[]>)[list];
    const name = (items?.[index] as { name?: unknown } | undefined)?.name;
    const which = typeof name === 'string' ? `${list.slice(0, -1)} '${name}'` : `${list.slice(0, -1)} ${index}`;
    return field === undefined ? `${which}: ${message}` : `${which}: "${String(field)}" ${message}`;
  }
  return path.length === 0 ? `the body ${message}` : `"${path.join('.')}" ${message}`;
}

/**
 * Row-major elements of flat or nested data, nested at most as deep as the shape (`[[1], [2]]` for
 * [2, 1]); undefined when deeper. Never `flat(Infinity)`: a body nested 200,000 deep would overflow the stack.
 */
function flatten(data: readonly unknown[], rank: number): unknown[] | undefined {
  if (!data.some(Array.isArray)) return data as unknown[];
  const elements: unknown[] = [];
  const walk = (items: readonly unknown[], depth: number): boolean => {
    for (const item of items) {
      if (!Array.isArray(item)) elements.push(item);
      else if (depth >= rank || !walk(item, depth + 1)) return false;
    }
    return true;
  };
  return walk(data, 1) ? elements : undefined;
}

/**
 * Checks a V2 inference request against the model (names, datatypes, shapes, element values, the batch
 * limit) and builds its input tensors. Every problem is an `ApiError` whose message names the tensor.
 */
export function checkInferRequest(body: unknown, model: LoadedModel, maxBatchRows: number): CheckedInferRequest {
  const parsed = V2InferRequest.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(
      `${structureProblem(body, issue.path, issue.message.replace(/^Invalid input: /, ''))}. An inference request is {"inputs": [{"name", "shape", "datatype", "data"}, ...]}.`,
    );
  }
  const request = parsed.data;
  const byName = new Map<string, (typeof request.inputs)[number]>();
  for (const input of request.inputs) {
    if (byName.has(input.name)) throw invalid(`input '${input.name}' is given twice; send each input once.`);
    if (!model.inputs.some((served) => served.name === input.name)) {
      throw invalid(`input '${input.name}' is not an input of this model; it takes ${names(model.inputs)}.`);
    }
    byName.set(input.name, input);
  }
  const feeds: Record<string, Tensor> = {};
  let batch: { rows: number; input: string } | undefined;
  for (const served of model.inputs) {
    const input = byName.get(served.name);
    if (!input) throw invalid(`input '${served.name}' is missing; the model takes ${names(model.inputs)}.`);
    const rows = checkShape(served, input.shape);
    if (batch && batch.rows !== rows)
      throw invalid(
        `input '${served.name}' has ${rows} rows, input '${batch.input}' has ${batch.rows}; every input needs the same number.`,
      );
    batch ??= { rows, input: served.name };
    if (input.datatype !== served.datatype)
      throw invalid(`input '${served.name}' has datatype ${input.datatype}; the model takes ${served.datatype}.`);
    feeds[served.name] = numericTensor(served.datatype, checkedValues(served, input.shape, input.data), input.shape);
  }
  if (batch && batch.rows > maxBatchRows) {
    throw new ApiError(
      'BATCH_TOO_LARGE',
      `${batch.rows} rows in one request; this service takes at most ${maxBatchRows} (MAX_BATCH_ROWS). Split the batch.`,
    );
  }
  const outputNames = (request.outputs ?? model.outputs).map(({ name }) => {
    if (!model.outputs.some((output) => output.name === name))
      throw invalid(`output '${name}' is not an output of this model; it gives ${names(model.outputs)}.`);
    return name;
  });
  return { ...(request.id === undefined ? {} : { id: request.id }), feeds, outputNames };
}

/** The batch size, once `shape` is checked against the model's (-1 takes any size, the batch at least 1). */
function checkShape(served: ServedInput, shape: readonly number[]): number {
  const fits = shape.length === served.shape.length && served.shape.every((dim, i) => dim === -1 || dim === shape[i]);
  if (!fits)
    throw invalid(`input '${served.name}' has shape ${shapeText(shape)}; the model takes ${shapeText(served.shape)} (-1: any size).`);
  if (shape[0] < 1) throw invalid(`input '${served.name}' has shape ${shapeText(shape)}: no rows; send at least one.`);
  return shape[0];
}

function checkedValues(served: ServedInput, shape: readonly number[], data: readonly unknown[]): Float32Array | Float64Array {
  const elements = flatten(data, shape.length);
  if (!elements)
    throw invalid(
      `input '${served.name}' has data nested deeper than its shape ${shapeText(shape)} (${shape.length} levels at most); send it flat or nested as the shape.`,
    );
  const expected = shape.reduce((product, dim) => product * dim, 1);
  if (elements.length !== expected) {
    throw invalid(
      `input '${served.name}' has ${elements.length} values but its shape ${shapeText(shape)} holds ${expected}; send the data in row-major order.`,
    );
  }
  const values = served.datatype === 'FP32' ? new Float32Array(expected) : new Float64Array(expected);
  for (let i = 0; i < expected; i++) {
    const value = elements[i];
    const problem =
      typeof value === 'number'
        ? numericValueProblem(value, served.datatype)
        : `is ${value === null ? 'null' : `a ${typeof value}`}; ${served.datatype} takes numbers`;
    if (problem) throw invalid(`input '${served.name}' element ${i}${typeof value === 'number' ? ` (${value})` : ''} ${problem}.`);
    values[i] = value as number;
  }
  return values;
}

/** The model's outputs as V2 response tensors: flat, row-major, JSON-safe. */
export function toResponseOutputs(outputs: Record<string, Tensor>, outputNames: readonly string[]): V2ResponseOutput[] {
  return outputNames.map((name) => {
    const tensor = outputs[name];
    const datatype: TensorDatatype = DATATYPE_OF[tensor.type] ?? 'BYTES';
    return { name, datatype, shape: [...tensor.dims], data: jsonValues(name, tensor) };
  });
}

function jsonValues(name: string, tensor: Tensor): (number | string | boolean)[] {
  const data = tensor.data;
  if (tensor.type === 'bool') return Array.from(data as Uint8Array, Boolean);
  if (Array.isArray(data)) return data as string[];
  const format = data instanceof Float32Array ? shortestFloat32 : (value: number) => value;
  return Array.from(data as ArrayLike<number | bigint>, (value, i) => {
    const number = typeof value === 'bigint' ? Number(value) : value;
    if (!Number.isFinite(number)) throw new Error(`the model returned ${number} in output '${name}' element ${i}; JSON can not carry it`);
    return format(number);
  });
}
