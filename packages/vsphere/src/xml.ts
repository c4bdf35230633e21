import { SaxesParser } from 'saxes';

/** The XML Schema instance namespace: `xsi:type` lives here, whatever prefix a server binds to it. */
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
/** The SOAP 1.1 envelope namespace. */
export const SOAPENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
/** The vim25 namespace of every request and response element. */
export const VIM25_NS = 'urn:vim25';

/** One attribute, resolved: `ns` is the namespace URI ('' when unqualified), `name` the local name. */
export interface XmlAttribute {
  ns: string;
  name: string;
  value: string;
}

/**
 * An element of a parsed document. Names are local names with their namespace URI, never the
 * prefix a server happened to use. `text` is the element's own character data (vim25 has no
 * mixed content).
 */
export interface XmlElement {
  ns: string;
  name: string;
  attributes: XmlAttribute[];
  children: XmlElement[];
  text: string;
}

/**
 * Parses a whole document into a namespace-resolved tree. Throws on malformed XML (the message
 * carries the parser's position). DOCTYPEs are refused: no SOAP server sends one.
 */
export function parseXml(xml: string): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failure: Error | undefined;
  parser.on('error', (err) => {
    failure ??= err;
  });
  parser.on('doctype', () => {
    failure ??= new Error('XML with a DOCTYPE is not accepted');
  });
  parser.on('opentag', (tag) => {
    const el: XmlElement = {
      ns: tag.uri,
      name: tag.local,
      attributes: Object.values(tag.attributes)
        .filter((a) => a.prefix !== 'xmlns' && a.name !== 'xmlns')
        .map((a) => ({ ns: a.uri, name: a.local, value: a.value })),
      children: [],
      text: '',
    };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root ??= el;
    stack.push(el);
  });
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.write(xml).close();
  if (failure) throw new Error(`malformed XML: ${failure.message}`);
  if (!root) throw new Error('malformed XML: no root element');
  return root;
}

/** The first child element named `name` (any namespace), or undefined. */
export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

/** Every child element named `name`, in document order. */
export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Follows a path of child names (`a.b.c` or ['a','b','c']); undefined when any step is missing. */
export function descend(el: XmlElement | undefined, path: string | string[]): XmlElement | undefined {
  let cur = el;
  for (const step of typeof path === 'string' ? path.split('.') : path) cur = child(cur, step);
  return cur;
}

/** The text of a child element, or undefined when it is absent. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  return child(el, name)?.text;
}

/** An attribute's value by local name and namespace ('' for unqualified attributes). */
export function attr(el: XmlElement | undefined, name: string, ns = ''): string | undefined {
  return el?.attributes.find((a) => a.name === name && a.ns === ns)?.value;
}

/**
 * The `xsi:type` of an element, matched by namespace (vcsim writes `XMLSchema-instance:type`,
 * vCenter `xsi:type`), as a local type name: `xsd:string` -> `string`, `VirtualDisk` -> `VirtualDisk`.
 * Undefined when the element has none. A plain `type` attribute (a moref's) is never taken.
 */
export function xsiType(el: XmlElement | undefined): string | undefined {
  const raw = attr(el, 'type', XSI_NS);
  if (raw === undefined) return undefined;
  const colon = raw.indexOf(':');
  return colon < 0 ? raw : raw.slice(colon + 1);
}

/** A boolean child: `true` / `1` are true; absent is undefined. */
export function childBool(el: XmlElement | undefined, name: string): boolean | undefined {
  const t = childText(el, name);
  return t === undefined ? undefined : t.trim() === 'true' || t.trim() === '1';
}

/** A numeric child (xsd:int/long); undefined when absent or not a safe integer. */
export function childInt(el: XmlElement | undefined, name: string): number | undefined {
  return toInt(childText(el, name));
}

/** Parses an xsd integer; undefined unless it is a safe integer. */
export function toInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\s*-?\d+\s*$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes a value for element content or a double-quoted attribute. Characters XML 1.0 cannot carry
 * at all (NUL and other C0 controls but tab, CR, LF) are refused rather than silently dropped.
 */
export function escapeXml(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/.test(value)) {
    throw new RangeError('value contains a character XML cannot represent');
  }
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]!).replace(/\r/g, '&#13;');
}
