import type { TSchema } from '@sinclair/typebox';
import type { Permission } from '@vaultflow/domain';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * One route of the API: the single description from which flows-api validates requests and
 * responses and the OpenAPI document is assembled. `permission: 'public'` routes need no token.
 */
export interface Endpoint {
  operationId: string;
  method: HttpMethod;
  /** Express-style path below /api/v1, e.g. `/protection-flows/:id`. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  permission: Permission | 'public' | 'authenticated';
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  /** Status -> schema of the body; null means no body (204). The first 2xx is the success answer. */
  responses: Record<number, TSchema | null>;
  /** Media type of a binary success body (a stream, e.g. `application/octet-stream`); JSON when absent. */
  produces?: string;
}

/** Declares an endpoint (identity function that keeps the literal types). */
export function endpoint<E extends Endpoint>(e: E): E {
  return e;
}
