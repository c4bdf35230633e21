import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './api-error.js';

/** Server state: answers stay fresh for a few seconds; only failures worth retrying are retried. */
export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        retry: (count, err) => count < 2 && !(err instanceof ApiError && err.status >= 400 && err.status < 500),
      },
      mutations: { retry: false },
    },
  });
}
