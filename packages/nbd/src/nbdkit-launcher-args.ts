/**
 * The nbdkit plugin command template: what follows nbdkit's own options, written as one line with
 * `{placeholders}`, e.g. the VDDK plugin
 * `vddk server={host} user={username} password=-{password_fd} vm=moref={vm} snapshot={snapshot} {disk_path}`
 * or, for a lab, `--filter=delay file file={datastore_url}/{flat_file} rdelay=50ms`.
 *
 * The line is split into arguments at unquoted white space ('…' and "…" quote); a placeholder's value is
 * put inside its argument as it is, spaces included, and never goes through a shell. `{{` and `}}` stand
 * for literal braces.
 */
export interface NbdkitTemplate {
  /** The template line, as configured. */
  readonly source: string;
  /** `--filter=NAME` filters, outermost first. */
  readonly filters: readonly string[];
  /** The plugin name or path. */
  readonly plugin: string;
  /** The plugin's and the filters' parameters, placeholders not yet expanded. */
  readonly params: readonly string[];
  /** The placeholder names the template uses (each once), so a caller computes only those. */
  readonly placeholders: readonly string[];
}

/** What an expanded template gives the launcher. */
export interface NbdkitPluginArgs {
  filters: string[];
  plugin: string;
  params: string[];
}

const PLACEHOLDER = /\{\{|\}\}|\{([a-z][a-z0-9_]*)\}|[{}]/g;
const NAME = /^[A-Za-z0-9_./-]+$/;

/** Splits a line into arguments at unquoted white space; '…' and "…" quote (no escapes inside). */
function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur: string | undefined;
  let quote: string | undefined;
  for (const ch of line) {
    if (quote) {
      if (ch === quote) quote = undefined;
      else cur += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur ??= '';
    } else if (/\s/.test(ch)) {
      if (cur !== undefined) out.push(cur);
      cur = undefined;
    } else {
      cur = (cur ?? '') + ch;
    }
  }
  if (quote) throw new Error(`has an unclosed ${quote} quote`);
  if (cur !== undefined) out.push(cur);
  return out;
}

/** The placeholder names in one argument; throws on a stray brace or a name not in `known`. */
function placeholdersOf(arg: string, known: ReadonlySet<string>): string[] {
  const names: string[] = [];
  for (const m of arg.matchAll(PLACEHOLDER)) {
    if (m[0] === '{{' || m[0] === '}}') continue;
    if (!m[1]) throw new Error(`has a stray "${m[0]}" in ${JSON.stringify(arg)} (write {{ or }} for a literal brace)`);
    if (!known.has(m[1])) throw new Error(`uses the unknown placeholder {${m[1]}}; known: ${[...known].map((k) => `{${k}}`).join(' ')}`);
    names.push(m[1]);
  }
  return names;
}

/**
 * Parses and checks a template: filters first (`--filter=NAME` or `--filter NAME`), then the plugin,
 * then its parameters. nbdkit's own options are the launcher's (socket, read-only, pid file, exit with
 * the parent), so any other option is refused, as are placeholders in the plugin or filter names.
 * Throws an Error whose message says what is wrong (config loading names the variable).
 */
export function parseNbdkitTemplate(source: string, known: readonly string[]): NbdkitTemplate {
  const knownSet = new Set(known);
  const args = tokenize(source);
  const filters: string[] = [];
  let i = 0;
  for (; i < args.length && args[i]!.startsWith('-'); i++) {
    const a = args[i]!;
    let name: string | undefined;
    if (a.startsWith('--filter=')) name = a.slice('--filter='.length);
    else if (a === '--filter') name = args[++i];
    else throw new Error(`may hold --filter=NAME options only before the plugin (the launcher sets nbdkit's other options), got ${JSON.stringify(a)}`);
    if (!name || !NAME.test(name)) throw new Error(`has a bad filter name ${JSON.stringify(name ?? '')}`);
    filters.push(name);
  }
  const plugin = args[i];
  if (plugin === undefined) throw new Error('names no plugin (e.g. "vddk ..." or "file file=...")');
  if (!NAME.test(plugin)) throw new Error(`has a bad plugin name ${JSON.stringify(plugin)}`);
  const params = args.slice(i + 1);
  const placeholders = new Set<string>();
  for (const p of params) for (const n of placeholdersOf(p, knownSet)) placeholders.add(n);
  return { source, filters, plugin, params, placeholders: [...placeholders] };
}

/**
 * Puts the values into a parsed template. Every placeholder the template uses needs a value; a value
 * stays inside its argument whatever it holds (the launcher ends nbdkit's options with `--`, so not even
 * a value starting with `-` can become an option).
 */
export function expandNbdkitTemplate(template: NbdkitTemplate, values: Readonly<Record<string, string | undefined>>): NbdkitPluginArgs {
  const params = template.params.map((p) =>
    p.replace(PLACEHOLDER, (m: string, name: string | undefined) => {
      if (m === '{{') return '{';
      if (m === '}}') return '}';
      const v = name === undefined ? undefined : values[name];
      if (v === undefined) throw new Error(`nbdkit template ${JSON.stringify(template.source)}: no value for {${name}}`);
      return v;
    }),
  );
  return { filters: [...template.filters], plugin: template.plugin, params };
}
