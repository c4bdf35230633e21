import { faultFromLocalizedMethodFault, NotAuthenticatedFault, VsphereError, type VimFault } from './errors.js';
import { parseMoRef } from './moref.js';
import type { VsphereSession } from './session.js';
import type { MoRef } from './types.js';
import { vim, type PropertyFilterSpec } from './vim-requests.js';
import { child, childrenNamed, childText, type XmlElement } from './xml.js';

/** One object's properties as the collector returned them. */
export interface ObjectContent {
  obj: MoRef;
  /** Property path -> its `<val>` element (read it with the xml helpers; `xsiType(val)` gives its type). */
  props: Map<string, XmlElement>;
  /** Paths the server could not read, with why. */
  missing: Array<{ path: string; fault: VimFault }>;
}

/** One page of RetrievePropertiesEx / ContinueRetrievePropertiesEx. */
export interface RetrieveResult {
  objects: ObjectContent[];
  /** Set when more pages follow. */
  token: string | undefined;
}

/**
 * Reads a RetrieveResult. A `missingSet` entry whose fault is NotAuthenticated (vcsim answers an
 * unauthenticated RetrievePropertiesEx that way rather than with a fault) is thrown, so the session
 * logs in again.
 */
export function parseRetrieveResult(response: XmlElement): RetrieveResult {
  const rv = child(response, 'returnval');
  const objects = childrenNamed(rv, 'objects').map((o): ObjectContent => {
    const obj = parseMoRef(child(o, 'obj'));
    if (!obj) throw new VsphereError('BAD_RESPONSE', 'ObjectContent without obj');
    const props = new Map<string, XmlElement>();
    for (const p of childrenNamed(o, 'propSet')) {
      const name = childText(p, 'name');
      const val = child(p, 'val');
      if (name !== undefined && val) props.set(name, val);
    }
    const missing = childrenNamed(o, 'missingSet').map((m) => ({ path: childText(m, 'path') ?? '', fault: faultFromLocalizedMethodFault(child(m, 'fault')) }));
    const unauth = missing.find((m) => m.fault instanceof NotAuthenticatedFault);
    if (unauth) throw unauth.fault;
    return { obj, props, missing };
  });
  return { objects, token: childText(rv, 'token') };
}

/**
 * RetrievePropertiesEx, then ContinueRetrievePropertiesEx while the server hands out a token.
 * `maxObjects` bounds each page (vcsim ignores it). On failure mid-way the token is cancelled.
 */
export async function retrieveAll(session: VsphereSession, specSet: PropertyFilterSpec[], maxObjects = 100): Promise<ObjectContent[]> {
  let page = await session.invoke((sc) => vim.retrievePropertiesEx(sc.propertyCollector, specSet, maxObjects), parseRetrieveResult);
  const out = [...page.objects];
  const seen = new Set<string>();
  while (page.token !== undefined) {
    const token = page.token;
    if (seen.has(token)) throw new VsphereError('BAD_RESPONSE', `RetrievePropertiesEx repeated token ${token}`);
    seen.add(token);
    try {
      page = await session.invoke((sc) => vim.continueRetrievePropertiesEx(sc.propertyCollector, token), parseRetrieveResult);
    } catch (err) {
      await session.invoke((sc) => vim.cancelRetrievePropertiesEx(sc.propertyCollector, token), () => undefined).catch(() => undefined);
      throw err;
    }
    out.push(...page.objects);
  }
  return out;
}

/** The given properties of one object; the object's own ManagedObjectNotFound fault is thrown. */
export async function retrieveOne(session: VsphereSession, obj: MoRef, paths: string[]): Promise<ObjectContent> {
  const [found] = await retrieveAll(session, [{ propSet: [{ type: obj.type, pathSet: paths }], objectSet: [{ obj }] }]);
  return found ?? { obj, props: new Map(), missing: [] };
}

/**
 * Runs `fn` with a ContainerView of `types` under `container` (recursive), destroying the view after.
 * If the session was replaced while `fn` ran (the view and any token died with it), runs once more.
 */
export async function withContainerView<T>(
  session: VsphereSession,
  container: MoRef,
  types: string[],
  fn: (view: MoRef) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const epoch = session.epoch;
    let view: MoRef | undefined;
    try {
      view = await session.invoke((sc) => vim.createContainerView(sc.viewManager, container, types, true), (r) => parseMoRef(child(r, 'returnval')));
      if (!view) throw new VsphereError('BAD_RESPONSE', 'CreateContainerView returned no view');
      return await fn(view);
    } catch (err) {
      if (attempt === 0 && session.epoch !== epoch) continue;
      throw err;
    } finally {
      if (view && session.epoch === epoch) {
        const v = view;
        await session.invoke(() => vim.destroyView(v), () => undefined).catch(() => undefined);
      }
    }
  }
}

/** A filter over everything a ContainerView holds, reading `paths` of objects of `type`. */
export function viewFilter(view: MoRef, props: Array<{ type: string; pathSet: string[] }>): PropertyFilterSpec {
  return {
    propSet: props,
    objectSet: [{ obj: view, skip: true, selectSet: [{ type: 'ContainerView', path: 'view', skip: false }] }],
  };
}
