export { startOrchestrator, type Orchestrator, type OrchestratorDeps } from './orchestrator.js';
export { loadOrchestratorConfig, type OrchestratorConfig } from './config.js';
