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
 * become 400/413/415 and other 4xx http-errors keep their status; anything else is a 500 INTERNAL
 * with a generic message, logged with its stack.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const rid = String(res.getHeader('x-request-id') ?? '');
    if (err instanceof AppError) {
      if (err.status >= 500) logger.warn({ err, requestId: rid }, err.message);
      // e.g. a database constraint caught by the safety net: the client gets the generic message,
      // the log keeps what the server said
      else if (err.cause !== undefined) logger.warn({ requestId: rid, code: err.code, cause: err.cause }, err.message);
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
    // Other client errors raised by Express and body-parser (http-errors with a 4xx status), e.g.
    // a path parameter that is not valid percent-encoding: the client's fault, never a 500.
    const status = Number((err as { status?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode);
    if (status >= 400 && status < 500) {
      if (err instanceof URIError) {
        res.status(400).json(body('INVALID_PATH', 'The request path is not valid percent-encoding', rid, [{ field: 'path', message: 'is not valid percent-encoding' }]));
      } else {
        res.status(status).json(body('BAD_REQUEST', 'The request cannot be processed as sent', rid, [{ field: 'request', message: String((err as Error).message ?? 'is invalid').slice(0, 200) }]));
      }
      return;
    }
    logger.error({ err, requestId: rid, method: req.method, path: req.path }, 'unhandled error');
    if (res.headersSent) return;
    res.status(500).json(body('INTERNAL', 'Internal error; the request id identifies it in the hub logs', rid));
  };
}
