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

/**
 * Turns the constraint errors a user can cause into AppErrors; anything else is returned as is.
 * Services still check first and give precise messages: this is the safety net for races.
 */
export function translateSqlError(err: unknown, entity: string): unknown {
  const e = err as SqlError;
  if (err instanceof AppError) return err;
  switch (e?.errno) {
    case ER_DUP_ENTRY:
      return conflict(`${entity.toUpperCase()}_DUPLICATE`, `A ${entity} with the same unique value already exists`);
    case ER_ROW_IS_REFERENCED:
      return conflict(`${entity.toUpperCase()}_IN_USE`, `The ${entity} is still referenced by other objects`);
    case ER_NO_REFERENCED_ROW:
      return unprocessable('REFERENCE_NOT_FOUND', `A referenced object of this ${entity} does not exist`);
    case ER_CHECK_CONSTRAINT_VIOLATED:
      return unprocessable('CONSTRAINT_VIOLATED', `The ${entity} breaks a rule of the database: ${e.sqlMessage ?? ''}`);
    case ER_DATA_TOO_LONG:
    case ER_BAD_NULL:
      return unprocessable('INVALID_VALUE', `A value of this ${entity} is not accepted: ${e.sqlMessage ?? ''}`);
    default:
      return err;
  }
}
