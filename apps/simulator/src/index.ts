export * from './model/prng';
export * from './model/charging';
export * from './model/plan';
export * from './model/messages';
export { SimClock, Scheduler } from './clock';
export {
  Station,
  type BackoffOptions,
  type Protocol,
  type SimEvent,
  type SessionRecord,
  type StationSummary,
  type StationConfig,
} from './station';
export { MeterSigner, kwhText, ocmfTime, type ReadingToSign, type SigningOptions } from './station/signing';
export {
  Simulation,
  simulate,
  resolveShape,
  stationIdsFor,
  type SimulationOptions,
  type SimulationSummary,
} from './simulator';
