/** Demo vendor databases: two schema styles, a seeder and a traffic generator. */

export { demoConfig, presetFile } from './config.js';
export type { BadKind, CarKind, DemoLot, PayKind, Visit } from './data.js';
export { DEMO_LOT_PREFIX, demoLotCode, isDemoLotOf } from './data.js';
export {
  createDemoSchema,
  DemoDatabaseError,
  databaseOf,
  demoStyle,
  demoStyleOf,
  isDemoStyle,
  MARKER_TABLE,
} from './schema.js';
export { type BadRow, type SeedOptions, type SeedReport, seedDemo } from './seed.js';
export { DEMO_STYLES, type DemoStyleName } from './style.js';
export {
  startTraffic,
  type TrafficCounts,
  type TrafficEvent,
  type TrafficHandle,
  type TrafficOptions,
  type TrafficReport,
} from './traffic.js';
