import { useState } from 'react';
import { CreateVcenterRequest, UpdateVcenterRequest, vcenterEndpoints, vmEndpoints } from '@vaultflow/schemas';
import { call } from '../../api/client.js';
import { useInvalidate } from '../../api/queries.js';
import type { Vcenter } from '../../api/types.js';
import { Field } from '../../forms/field.js';
import { FormModal } from '../../forms/form-modal.js';

/**
 * Register a vCenter (the hub logs in with these settings first and stores nothing if that fails;
 * then it discovers the VMs), or edit `vc` (a changed connection is checked the same way).
 */
export function VcenterFormModal({ vc, onClose }: { vc?: Vcenter; onClose: () => void }) {
  const [f, setF] = useState({
    name: vc?.name ?? '',
    host: vc?.host ?? '',
    port: String(vc?.port ?? 443),
    protocol: vc?.protocol ?? ('https' as 'https' | 'http'),
    username: vc?.username ?? '',
    password: '',
    tls_thumbprint: vc?.tls_thumbprint ?? '',
    insecure: vc?.insecure ?? false,
    enabled: vc?.enabled ?? true,
  });
  const set = <K extends keyof typeof f>(k: K, v: (typeof f)[K]) => setF((x) => ({ ...x, [k]: v }));
  const invalidate = useInvalidate(vcenterEndpoints.list, vmEndpoints.list);
  const build = () => ({
    name: f.name.trim(),
    host: f.host.trim(),
    port: Number(f.port),
    protocol: f.protocol,
    username: f.username.trim(),
    ...(f.password || !vc ? { password: f.password } : {}),
    tls_thumbprint: f.tls_thumbprint.trim() || null,
    insecure: f.insecure,
    enabled: f.enabled,
  });
  return (
    <FormModal
      wide
      title={vc ? `Edit vCenter: ${vc.name}` : 'Register vCenter'}
      submitLabel={vc ? 'Test connection and save' : 'Test connection and register'}
      schema={vc ? UpdateVcenterRequest : CreateVcenterRequest}
      build={build}
      send={async (body) => {
        if (vc) await call(vcenterEndpoints.update, { params: { id: vc.id }, body });
        else await call(vcenterEndpoints.create, { body: body as CreateVcenterRequest });
        await invalidate();
      }}
      onClose={onClose}
    >
      {(e) => (
        <>
          <div className="form-row">
            <Field label="Name" error={e.name}>
              {(p) => <input {...p} value={f.name} onChange={(ev) => set('name', ev.target.value)} data-autofocus />}
            </Field>
            <Field label="Host" error={e.host}>
              {(p) => <input {...p} value={f.host} onChange={(ev) => set('host', ev.target.value)} placeholder="vcenter.example.com" />}
            </Field>
            <Field label="Port" error={e.port}>
              {(p) => <input {...p} type="number" min={1} max={65535} value={f.port} onChange={(ev) => set('port', ev.target.value)} />}
            </Field>
            <Field label="Protocol" error={e.protocol}>
              {(p) => (
                <select {...p} value={f.protocol} onChange={(ev) => set('protocol', ev.target.value as 'https' | 'http')}>
                  <option value="https">https</option>
                  <option value="http">http (lab simulators only)</option>
                </select>
              )}
            </Field>
          </div>
          <div className="form-row">
            <Field label="vCenter user" error={e.username}>
              {(p) => <input {...p} autoComplete="off" value={f.username} onChange={(ev) => set('username', ev.target.value)} placeholder="administrator@vsphere.local" />}
            </Field>
            <Field label="vCenter password" error={e.password} hint={vc ? 'Leave empty to keep the stored password.' : 'Stored encrypted; never shown again.'}>
              {(p) => <input {...p} type="password" autoComplete="new-password" value={f.password} onChange={(ev) => set('password', ev.target.value)} />}
            </Field>
          </div>
          <Field label="Certificate thumbprint" error={e.tls_thumbprint} hint="SHA-1 or SHA-256 fingerprint (AA:BB:…): only this certificate is trusted.">
            {(p) => <input {...p} className="mono" value={f.tls_thumbprint} onChange={(ev) => set('tls_thumbprint', ev.target.value)} />}
          </Field>
          <div className="form-row">
            <label className="checkbox">
              <input type="checkbox" checked={f.insecure} onChange={(ev) => set('insecure', ev.target.checked)} /> Trust any certificate (lab use only)
            </label>
            <label className="checkbox">
              <input type="checkbox" checked={f.enabled} onChange={(ev) => set('enabled', ev.target.checked)} /> Enabled (discovered every 15 minutes)
            </label>
          </div>
        </>
      )}
    </FormModal>
  );
}
