import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from '@vaultflow/logging';
import { AppError } from '@vaultflow/errors';

function body(code: string, message: string, requestId: string, details: { field: string; message: string }[] = []) {
  return { error: { code, message, details, request_id: requestId } };
}

/** JSON 404 for every path no route matched. */
export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json(body('ROUTE_NOT_FOUND', `No route ${req.method} ${req.path}`, String(res.getHeader('x-request-id') ?? '')));
};

/**
 * Turns errors into the API's error body. AppErrors keep their status and code; body-parser errors
 * become 400/413/415; anything else is a 500 INTERNAL with a generic message, logged with its stack.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const rid = String(res.getHeader('x-request-id') ?? '');
    if (err instanceof AppError) {
      if (err.status >= 500) logger.warn({ err, requestId: rid }, err.message);
      if (err.retryAfter) res.setHeader('Retry-After', String(err.retryAfter));
      res.status(err.status).json(body(err.code, err.message, rid, err.details));
      return;
    }
    const type = (err as { type?: string }).type;
    if (type === 'entity.parse.failed') {
      res.status(400).json(body('INVALID_JSON', 'The request body is not valid JSON', rid, [{ field: 'body', message: 'is not valid JSON' }]));
      return;
    }
    if (type === 'entity.too.large') {
      res.status(413).json(body('PAYLOAD_TOO_LARGE', 'The request body is larger than 1 MiB', rid, [{ field: 'body', message: 'is too large' }]));
      return;
    }
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      res.status(415).json(body('UNSUPPORTED_ENCODING', 'Send the body as UTF-8 JSON', rid));
      return;
    }
    logger.error({ err, requestId: rid, method: req.method, path: req.path }, 'unhandled error');
    if (res.headersSent) return;
    res.status(500).json(body('INTERNAL', 'Internal error; the request id identifies it in the hub logs', rid));
  };
}
