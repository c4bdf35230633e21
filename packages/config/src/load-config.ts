/** How one environment variable is read. `parse` throws an Error whose message says what is wrong. */
export interface VarSpec<T> {
  /** Environment variable name. */
  name: string;
  /** One line for the docs and the error message. */
  description: string;
  /** Used when the variable is unset or empty; undefined means "required". */
  default?: string;
  /** Set for variables that may stay unset (the parser then gets undefined). */
  optional?: boolean;
  parse: (raw: string) => T;
}

export type ConfigSpec = Record<string, VarSpec<unknown>>;
export type ConfigOf<S extends ConfigSpec> = {
  [K in keyof S]: S[K] extends VarSpec<infer T> ? (S[K]['optional'] extends true ? T | undefined : T) : never;
};

/** Thrown when one or more variables are wrong; the message names every one of them. */
export class ConfigError extends Error {
  constructor(readonly problems: { name: string; message: string }[]) {
    super(
      'Invalid configuration:\n' + problems.map((p) => `  ${p.name}: ${p.message}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

/**
 * Reads and validates every variable of `spec` from `env`. Throws a ConfigError naming each bad
 * variable; never returns a partly valid configuration.
 */
export function loadConfig<S extends ConfigSpec>(spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: { name: string; message: string }[] = [];
  for (const [key, v] of Object.entries(spec)) {
    const raw = env[v.name];
    const value = raw === undefined || raw === '' ? v.default : raw;
    if (value === undefined) {
      if (v.optional) {
        out[key] = undefined;
        continue;
      }
      problems.push({ name: v.name, message: `is required (${v.description})` });
      continue;
    }
    try {
      out[key] = v.parse(value);
    } catch (err) {
      problems.push({ name: v.name, message: (err as Error).message });
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}
