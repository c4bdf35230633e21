import { AppError, conflict, unprocessable } from '@vaultflow/errors';

interface SqlError {
  errno?: number;
  code?: string;
  sqlMessage?: string;
}

const ER_DUP_ENTRY = 1062;
const ER_ROW_IS_REFERENCED = 1451;
const ER_NO_REFERENCED_ROW = 1452;
const ER_CHECK_CONSTRAINT_VIOLATED = 4025; // MariaDB; mysql2 labels it with a MySQL name
const ER_DATA_TOO_LONG = 1406;
const ER_BAD_NULL = 1048;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;

export function isDuplicateKey(err: unknown, key?: string): boolean {
  const e = err as SqlError;
  return e?.errno === ER_DUP_ENTRY && (key === undefined || (e.sqlMessage ?? '').includes(key));
}

export function isReferenced(err: unknown): boolean {
  return (err as SqlError)?.errno === ER_ROW_IS_REFERENCED;
}

export function isMissingReference(err: unknown): boolean {
  return (err as SqlError)?.errno === ER_NO_REFERENCED_ROW;
}

export function isCheckViolation(err: unknown): boolean {
  return (err as SqlError)?.errno === ER_CHECK_CONSTRAINT_VIOLATED;
}

/** True when the database rolled the transaction back to break a deadlock: it may simply be run again. */
export function isDeadlock(err: unknown): boolean {
  return (err as SqlError)?.errno === ER_LOCK_DEADLOCK;
}

/**
 * What the server log needs to know about a database error: the error's number, code, SQL state
 * and the server's own message (which names the database, tables and constraints). Never sent to
 * clients. Undefined for errors that are not from the database.
 */
export function sqlErrorDetail(err: unknown): { errno: number; code?: string; sqlState?: string; sqlMessage?: string } | undefined {
  const e = err as SqlError & { sqlState?: string };
  if (typeof e?.errno !== 'number') return undefined;
  return { errno: e.errno, code: e.code, sqlState: e.sqlState, sqlMessage: e.sqlMessage };
}

/**
 * Turns the constraint errors a user can cause into AppErrors; anything else is returned as is.
 * Services still check first and give precise messages: this is the safety net for races.
 * The message says which kind of rule was broken, never the server's text (it names the database
 * and its tables); that text travels as the AppError's `cause` (sqlErrorDetail) for the log.
 */
export function translateSqlError(err: unknown, entity: string): unknown {
  if (err instanceof AppError) return err;
  const translated = appErrorFor(err, entity);
  if (translated) translated.cause = sqlErrorDetail(err);
  return translated ?? err;
}

function appErrorFor(err: unknown, entity: string): AppError | undefined {
  switch ((err as SqlError)?.errno) {
    case ER_DUP_ENTRY:
      return conflict(`${entity.toUpperCase()}_DUPLICATE`, `A ${entity} with the same unique value already exists`);
    case ER_ROW_IS_REFERENCED:
      return conflict(`${entity.toUpperCase()}_IN_USE`, `The ${entity} is still referenced by other objects`);
    case ER_NO_REFERENCED_ROW:
      return unprocessable('REFERENCE_NOT_FOUND', `A referenced object of this ${entity} does not exist`);
    case ER_CHECK_CONSTRAINT_VIOLATED:
      return unprocessable('CONSTRAINT_VIOLATED', `The ${entity} breaks a consistency rule (a check constraint) of the database; nothing was saved`);
    case ER_DATA_TOO_LONG:
      return unprocessable('INVALID_VALUE', `A value of this ${entity} is too long for the database; nothing was saved`);
    case ER_BAD_NULL:
      return unprocessable('INVALID_VALUE', `A value this ${entity} requires is missing (null); nothing was saved`);
    case ER_LOCK_DEADLOCK:
    case ER_LOCK_WAIT_TIMEOUT:
      return conflict('CONCURRENT_CHANGE', `Another change to the same ${entity} data was being saved at the same time; nothing was saved, try again`);
    default:
      return undefined;
  }
}
