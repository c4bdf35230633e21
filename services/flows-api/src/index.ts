export { buildApi, type Api, type ApiDeps } from './app.js';
export { loadApiConfig, CONFIG_SPEC, type ApiConfig } from './config.js';
export { DiscoveryService, type DiscoveryResult, type DuePassResult } from './services/discovery.service.js';
export { DiscoveryScheduler, DISCOVERY_INTERVAL_MS } from './services/discovery-scheduler.js';
export { RedisLocks, type Locks, type Lease } from './services/discovery-lock.js';
export { VsphereConnector, type VcenterConnector, type VcenterSession, type VcenterTarget, type DiscoveredVm, type DiscoveredDisk } from './services/vcenter-connector.js';
