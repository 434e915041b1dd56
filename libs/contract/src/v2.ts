import { z } from 'zod';
import { TensorDatatype, TensorSignature } from './signature';

/**
 * The Open Inference Protocol (V2, REST), as KServe, Triton, MLServer and Seldon clients speak it:
 * https://github.com/kserve/open-inference-protocol/blob/main/specification/protocol/inference_rest.md
 */

/** Free-form key/values a request, input or output may carry. */
const Parameters = z.record(z.string(), z.unknown());

/**
 * A tensor's contents in row-major order, flat (`[1, 2, 3, 4]`) or nested (`[[1, 2], [3, 4]]`):
 * numbers, strings (BYTES) or booleans. The service checks the elements against the datatype and shape.
 */
export const V2TensorData = z.array(z.unknown());
export type V2TensorData = z.infer<typeof V2TensorData>;

export const V2RequestInput = z.object({
  name: z.string().min(1),
  shape: z.array(z.int().min(0)),
  datatype: z.string().min(1),
  parameters: Parameters.optional(),
  data: V2TensorData,
});
export type V2RequestInput = z.infer<typeof V2RequestInput>;

export const V2RequestOutput = z.object({ name: z.string().min(1), parameters: Parameters.optional() });
export type V2RequestOutput = z.infer<typeof V2RequestOutput>;

/** `POST /v2/models/{name}[/versions/{version}]/infer` body. */
export const V2InferRequest = z.object({
  id: z.string().optional(),
  parameters: Parameters.optional(),
  inputs: z.array(V2RequestInput).min(1),
  /** Only these outputs; all when absent. */
  outputs: z.array(V2RequestOutput).optional(),
});
export type V2InferRequest = z.infer<typeof V2InferRequest>;

export const V2ResponseOutput = z.object({
  name: z.string(),
  shape: z.array(z.int().min(0)),
  datatype: TensorDatatype,
  parameters: Parameters.optional(),
  /** Flat, row-major. */
  data: z.array(z.union([z.number(), z.string(), z.boolean()])),
});
export type V2ResponseOutput = z.infer<typeof V2ResponseOutput>;

export const V2InferResponse = z.object({
  model_name: z.string(),
  model_version: z.string().optional(),
  id: z.string().optional(),
  parameters: Parameters.optional(),
  outputs: z.array(V2ResponseOutput),
});
export type V2InferResponse = z.infer<typeof V2InferResponse>;

/** `GET /v2/models/{name}[/versions/{version}]`. */
export const V2ModelMetadataResponse = z.object({
  name: z.string(),
  versions: z.array(z.string()).optional(),
  platform: z.string(),
  inputs: z.array(TensorSignature),
  outputs: z.array(TensorSignature),
});
export type V2ModelMetadataResponse = z.infer<typeof V2ModelMetadataResponse>;

/** `GET /v2`. */
export const V2ServerMetadataResponse = z.object({ name: z.string(), version: z.string(), extensions: z.array(z.string()) });
export type V2ServerMetadataResponse = z.infer<typeof V2ServerMetadataResponse>;

/** `GET /v2/health/live`. */
export const V2ServerLiveResponse = z.object({ live: z.boolean() });
export type V2ServerLiveResponse = z.infer<typeof V2ServerLiveResponse>;

/** `GET /v2/health/ready`. */
export const V2ServerReadyResponse = z.object({ ready: z.boolean() });
export type V2ServerReadyResponse = z.infer<typeof V2ServerReadyResponse>;

/** `GET /v2/models/{name}[/versions/{version}]/ready`. */
export const V2ModelReadyResponse = z.object({ name: z.string(), ready: z.boolean() });
export type V2ModelReadyResponse = z.infer<typeof V2ModelReadyResponse>;

/** Every V2 error answer, as the protocol defines it. */
export const V2ErrorBody = z.object({ error: z.string() });
export type V2ErrorBody = z.infer<typeof V2ErrorBody>;

/** The platform name V2 metadata reports for an ONNX model served by onnxruntime (as Triton names it). */
export const V2_PLATFORM = 'onnxruntime_onnx';
