import { z } from 'zod';

/**
 * Values a release takes from a user (the CLI's --model and --image, the dashboard's form, CD's
 * image) and hands on as they are: into `.env` (one `NAME=value` line each, which Compose also
 * interpolates), a pod's environment and a command line. Only characters that mean nothing to any
 * of them are allowed, so a value can never become a second line, a `$(...)`, a comment or a
 * second argument.
 */

/** One path: letters, digits and `_ . / @ + -`. */
export const ModelPathArgument = z
  .string()
  .min(1, 'must name an .onnx file')
  .max(1024, 'must be at most 1024 characters')
  .regex(/^[A-Za-z0-9_./@+-]+$/, 'must be one path of letters, digits and "_ . / @ + -" (no spaces, quotes, "$", "#" or line breaks)');

// Docker's reference grammar (distribution/reference), without the rarely used forms.
const COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN = '(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?';
const TAG = '(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?';
const DIGEST = '(?:@sha256:[a-f0-9]{64})?';
const IMAGE_REFERENCE = new RegExp(`^${DOMAIN}${COMPONENT}(?:/${COMPONENT})*${TAG}${DIGEST}$`);

/** `registry/name:tag`, `name@sha256:<digest>`, ... as Docker reads an image reference. */
export const ImageReference = z
  .string()
  .max(512, 'must be at most 512 characters')
  .regex(IMAGE_REFERENCE, 'must be an image reference such as "ghcr.io/acme/model-service:1.2.3" or "name@sha256:<64 hex digits>"');
