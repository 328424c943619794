import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorCatalog, type ErrorCode } from '@oms/contracts';
import { AppError, isTransient } from '../errors.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  instance: string;
  [extension: string]: unknown;
}

export function problem(code: ErrorCode, detail: string, instance: string, extensions: Record<string, unknown> = {}): Problem {
  const { status, title } = errorCatalog[code];
  return { type: `urn:oms:problem:${code.toLowerCase().replaceAll('_', '-')}`, title, status, code, detail, instance, ...extensions };
}

const fastifyCodes: Partial<Record<string, ErrorCode>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
};

/** The single place where errors become problem+json (RFC 9457). Unknown errors are logged in full and answered as a bare 500. */
export function sendProblem(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  let body: Problem;
  if (error instanceof AppError) {
    body = problem(error.code, error.message, request.url, error.extensions);
  } else if ('validation' in error && error.validation) {
    const errors = error.validation.map((v) => ({
      path: `${(error).validationContext ?? 'body'}${v.instancePath || ''}`,
      message: v.message ?? 'is invalid',
      ...((v.params as { additionalProperty?: string }).additionalProperty ? { field: (v.params as { additionalProperty: string }).additionalProperty } : {}),
    }));
    body = problem('VALIDATION_FAILED', errors.map((e) => `${e.path} ${e.message}${e.field ? ` (${e.field})` : ''}`).join('; '), request.url, { errors });
  } else if ('code' in error && fastifyCodes[error.code]) {
    body = problem(fastifyCodes[error.code]!, error.message, request.url);
  } else if (error instanceof SyntaxError && (error as FastifyError).statusCode === 400) {
    body = problem('MALFORMED_JSON', error.message, request.url);
  } else if (isTransient(error)) {
    // The database is restarting or unreachable: the client may try again shortly, nothing was written.
    request.log.warn({ err: error }, 'request failed transiently');
    reply.header('retry-after', '1');
    body = problem('SERVICE_UNAVAILABLE', 'A backing service is briefly unavailable; try again.', request.url);
  } else {
    request.log.error({ err: error }, 'unhandled error');
    body = problem('INTERNAL_ERROR', 'An unexpected error occurred; it has been logged.', request.url);
  }
  return reply.status(body.status).type(PROBLEM_CONTENT_TYPE).send(body);
}
