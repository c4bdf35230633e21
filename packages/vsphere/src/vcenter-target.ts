import type { TlsPolicy } from './tls.js';

/** Where and how to log in to one vCenter (the password in clear, only in memory). */
export interface VcenterTarget {
  host: string;
  port: number;
  protocol: 'https' | 'http';
  username: string;
  password: string;
  tls_thumbprint: string | null;
  insecure: boolean;
}

/** The SDK URL of a target; IPv6 literals get their brackets. */
export function sdkUrlOfTarget(t: Pick<VcenterTarget, 'host' | 'port' | 'protocol'>): string {
  const host = t.host.includes(':') && !t.host.startsWith('[') ? `[${t.host}]` : t.host;
  return `${t.protocol}://${host}:${t.port}/sdk`;
}

/** thumbprint -> pinned, insecure (or plain http, which has no certificate) -> accept any. */
export function tlsPolicyOf(t: Pick<VcenterTarget, 'protocol' | 'tls_thumbprint' | 'insecure'>): TlsPolicy {
  if (t.protocol === 'https' && t.tls_thumbprint) return { mode: 'thumbprint', thumbprint: t.tls_thumbprint };
  if (t.insecure || t.protocol === 'http') return { mode: 'insecure' };
  return { mode: 'verify' };
}
