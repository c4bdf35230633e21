import { attr, type XmlElement } from './xml.js';
import type { MoRef, MoRefLike } from './types.js';

/** A moref element `<x type="T">value</x>`; undefined when it is not one. */
export function parseMoRef(el: XmlElement | undefined): MoRef | undefined {
  const type = attr(el, 'type');
  if (!el || !type) return undefined;
  return { type, value: el.text.trim() };
}

/** A moref from a moref or a bare value of the expected type. */
export function toMoRef(ref: MoRefLike, type: string): MoRef {
  return typeof ref === 'string' ? { type, value: ref } : ref;
}
