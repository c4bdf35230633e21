import { keepPreviousData, queryOptions, useQueryClient } from '@tanstack/react-query';
import type { Endpoint } from '@vaultflow/schemas';
import { call, type Input, type Output } from './client.js';

/**
 * Query options for a read endpoint: the cache key is the operation and its input, so every page
 * asking the same thing shares one cached answer.
 */
export function endpointQuery<E extends Endpoint>(e: E, input: Input<E> = {} as Input<E>) {
  return queryOptions<Output<E>>({
    queryKey: [e.operationId, input],
    queryFn: ({ signal }) => call(e, input, { signal }),
  });
}

/** Like endpointQuery, for lists: the previous page stays on screen while the next one loads. */
export function listQuery<E extends Endpoint>(e: E, input: Input<E> = {} as Input<E>) {
  return queryOptions<Output<E>>({ ...endpointQuery(e, input), placeholderData: keepPreviousData });
}

/** The key prefix of every cached answer of `e`, for invalidation after a change. */
export function keyOf(e: Endpoint): readonly [string] {
  return [e.operationId];
}

/** A function that marks every cached answer of `endpoints` stale (they refetch where shown). */
export function useInvalidate(...endpoints: Endpoint[]) {
  const qc = useQueryClient();
  return () => Promise.all(endpoints.map((e) => qc.invalidateQueries({ queryKey: keyOf(e) })));
}
