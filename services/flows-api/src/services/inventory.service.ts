import type { Stores } from '@vaultflow/db';
import { notFound } from '@vaultflow/errors';
import type { VmListQuery, VmResponse } from '@vaultflow/schemas';
import { toVmResponse, toVmSummary } from '../mappers/resources.mapper.js';

/** Read side of the VM inventory (restore points: BackupService). */
export class InventoryService {
  constructor(private readonly stores: Stores) {}

  async listVms(q: VmListQuery) {
    const { rows, total } = await this.stores.vms.list(q);
    return { vms: rows.map(toVmSummary), total };
  }

  async getVm(id: string): Promise<VmResponse> {
    const vm = await this.stores.vms.get(id);
    if (!vm) throw notFound('VM_NOT_FOUND', `VM ${id} is not in the inventory`);
    const [disks, groups, flows] = await Promise.all([this.stores.vms.disks(id), this.stores.vms.groupsOf(id), this.stores.vms.flowsOf(id)]);
    return toVmResponse(vm, disks, groups, flows);
  }
}
