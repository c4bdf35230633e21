import type { ObjectContent } from './property-collector.js';
import type { MoRef } from './types.js';
import { refProp, type VmPlacement } from './vm-parse.js';

/** The container types whose `name` and `parent` locate a VM. */
export const PLACEMENT_TYPES = ['Folder', 'Datacenter', 'ComputeResource', 'ClusterComputeResource', 'HostSystem'];

interface Entity {
  ref: MoRef;
  name: string;
  parent: MoRef | undefined;
}

const keyOf = (ref: MoRef) => `${ref.type}:${ref.value}`;

/**
 * The inventory tree (name and parent of folders, datacenters, compute resources and hosts),
 * resolving where a VM sits. Pure: built from RetrievePropertiesEx results.
 */
export class InventoryTree {
  private readonly entities = new Map<string, Entity>();

  constructor(objects: ObjectContent[]) {
    for (const o of objects) {
      this.entities.set(keyOf(o.obj), { ref: o.obj, name: o.props.get('name')?.text ?? o.obj.value, parent: refProp(o, 'parent') });
    }
  }

  /** Ancestors of `ref`, nearest first (the object itself excluded). Stops at unknown objects and cycles. */
  ancestors(ref: MoRef | undefined): Entity[] {
    const out: Entity[] = [];
    const seen = new Set<string>();
    let cur = ref ? this.entities.get(keyOf(ref))?.parent : undefined;
    while (cur && !seen.has(keyOf(cur))) {
      seen.add(keyOf(cur));
      const e = this.entities.get(keyOf(cur));
      if (!e) break;
      out.push(e);
      cur = e.parent;
    }
    return out;
  }

  /** Datacenter, cluster, host and folder path (`vm/Prod/Web`) of a VM from its `parent` and `runtime.host`. */
  placement(vmParent: MoRef | undefined, host: MoRef | undefined): VmPlacement {
    const hostEntity = host ? this.entities.get(keyOf(host)) : undefined;
    const hostUp = host ? this.ancestors(host) : [];
    const compute = hostUp[0];
    const folders: string[] = [];
    let datacenter: string | undefined;
    if (vmParent) {
      const parent = this.entities.get(keyOf(vmParent));
      const chain = parent ? [parent, ...this.ancestors(vmParent)] : [];
      for (const e of chain) {
        if (e.ref.type === 'Datacenter') {
          datacenter = e.name;
          break;
        }
        if (e.ref.type === 'Folder') folders.unshift(e.name);
      }
      if (!datacenter) folders.length = 0; // not under a datacenter we know: no path to offer
    }
    datacenter ??= hostUp.find((e) => e.ref.type === 'Datacenter')?.name;
    return {
      datacenter,
      cluster: compute?.ref.type === 'ClusterComputeResource' ? compute.name : undefined,
      host: hostEntity?.name,
      folder: folders.length > 0 ? folders.join('/') : undefined,
    };
  }
}
