/**
 * Transforms: vendor rows to exact ISP payloads (pure, per stream), photos to the wire string (the
 * one I/O part), and the limiter photo work runs in. The pipeline imports from here.
 */
export { createDictionaries, type Dictionary, type DictionaryName } from './codes.js';
export {
  createTransformContext,
  type TransformContext,
  type TransformContextOptions,
  type UseTimeRounding,
} from './context.js';
export {
  type CoordinatesNote,
  type CoordinatesOptions,
  type CoordinatesResult,
  convertCoordinates,
} from './coordinates.js';
export { type DepartureTransformed, minutesFrom, transformDeparture } from './departures.js';
export { transformEntrance } from './entrances.js';
export { fenToYuan, type MoneyUnit, toFen } from './money.js';
export { type ParkResult, transformPark } from './parks.js';
export * from './photo/index.js';
export {
  classifyPlate,
  createPlateReader,
  NO_PLATE_MARKERS,
  NO_PLATE_TEXT,
  normalizePlate,
  type PlateKind,
  type PlateResult,
} from './plates.js';
export { recordWarnings } from './record.js';
export { transformSpotNum } from './spot-nums.js';
export { checkNotFuture, createTimeParser, type TimeFormat, type TimeParser } from './time.js';
export type {
  DepartureDraft,
  EntranceDraft,
  QuarantineCode,
  QuarantineReason,
  Transformed,
  Warning,
  WarningKind,
} from './types.js';
