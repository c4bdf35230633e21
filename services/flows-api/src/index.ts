export { buildApi, type Api, type ApiDeps } from './app.js';
export { loadApiConfig, CONFIG_SPEC, type ApiConfig } from './config.js';
