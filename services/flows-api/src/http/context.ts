import type { Readable } from 'node:stream';
import type { Static, TSchema } from '@sinclair/typebox';
import type { Actor, Operation } from '@vaultflow/domain';
import type { Endpoint } from '@vaultflow/schemas';

type Of<T> = T extends TSchema ? Static<T> : undefined;

/** What a route handler gets: validated input and who is asking. Never the raw request. */
export interface Ctx<E extends Endpoint> {
  params: Of<E['params']>;
  query: Of<E['query']>;
  body: Of<E['body']>;
  /** Set on every route except public ones. */
  actor: Actor;
  requestId: string;
  ip: string;
  /** The request came over HTTPS (directly or through a trusted proxy): cookies get `Secure`. */
  secure: boolean;
  /** The presented bearer token (needed by logout). */
  token: string | undefined;
  /** actor + request id, as services take it. */
  op: Operation;
  /** A request header (lower-case name), for the few routes that honour one (Range, If-Range). */
  header(name: string): string | undefined;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * A binary body instead of JSON, opened only when it is sent (a HEAD request gets the headers
   * alone) and piped to the client; an error after the headers cuts the response short.
   */
  stream?: () => Promise<Readable>;
}
