/** Parsers for VarSpec.parse: each throws an Error that says what was expected. */

export function port(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > 65535) throw new Error(`must be a TCP port 1-65535, got "${raw}"`);
  return n;
}

export function positiveInt(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1) throw new Error(`must be a positive integer, got "${raw}"`);
  return n;
}

export function url(protocols: string[]) {
  return (raw: string): URL => {
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw new Error(`must be a URL like ${protocols[0]}//host:port, got "${raw}"`);
    }
    if (!protocols.includes(u.protocol)) {
      throw new Error(`must use ${protocols.join(' or ')}, got "${u.protocol}"`);
    }
    return u;
  };
}

export function oneOf<T extends string>(values: readonly T[]) {
  return (raw: string): T => {
    if (!values.includes(raw as T)) throw new Error(`must be one of ${values.join(', ')}, got "${raw}"`);
    return raw as T;
  };
}

export function pattern(re: RegExp, what: string) {
  return (raw: string): string => {
    if (!re.test(raw)) throw new Error(`must be ${what}`);
    return raw;
  };
}

export function minLength(n: number, what: string) {
  return (raw: string): string => {
    if (raw.length < n) throw new Error(`must be ${what} of at least ${n} characters`);
    return raw;
  };
}

export function text(raw: string): string {
  return raw;
}
