/**
 * Everything a transform needs from the config, built once (dictionaries as Maps, cached zone and
 * day offsets, normalized no-plate markers) so that per-row work is lookups only. `now` is passed in
 * so tests and replays control "the future". Holds no I/O; warnings go to `onWarnings` (by default
 * the metrics), so the transforms' results depend on their inputs only.
 */
import type { Config } from '../config/index.js';
import type { CarTypeCode, CoordinateSystem, PayTypeCode } from '../isp-spec/index.js';
import { createDictionaries, type Dictionary } from './codes.js';
import type { MoneyUnit } from './money.js';
import { createPlateReader, type PlateResult } from './plates.js';
import { recordWarnings } from './record.js';
import { createTimeParser, type TimeParser } from './time.js';
import type { Warning } from './types.js';

export type UseTimeRounding = 'ceil' | 'floor' | 'round';

export interface TransformContext {
  readonly config: Config;
  /** Epoch milliseconds. */
  readonly now: () => number;
  readonly carType: Dictionary<CarTypeCode>;
  readonly payType: Dictionary<PayTypeCode>;
  readonly readPlate: (raw: unknown) => PlateResult;
  readonly entranceTime: TimeParser;
  readonly departureTime: TimeParser;
  readonly futureToleranceSeconds: number;
  readonly useTimeRounding: UseTimeRounding;
  readonly useTimeUnit: 'minutes' | 'seconds';
  readonly moneyUnit: MoneyUnit;
  readonly defaultCarLogo: string;
  /**
   * Vendor's coordinate system (streams.parks.coordinateSystem), the one ISP is sent, and whether a
   * swapped pair is swapped back (streams.parks.fixSwappedCoordinates).
   */
  readonly parkCoordinates: { from: CoordinateSystem; to: CoordinateSystem; fixSwapped: boolean };
  /** Overfull lots are sent with used = total (streams.spotNums.clampOverfull). */
  readonly clampOverfull: boolean;
  /** Called with each row's warnings (possibly none). */
  readonly onWarnings: (stream: string, warnings: readonly Warning[]) => void;
}

export interface TransformContextOptions {
  /** Clock in epoch ms; default Date.now. */
  now?: () => number;
  /**
   * Where row warnings go; default: counted in metrics (transformWarnings, unknownValues) under the
   * config's source. Pass `null` for a dry run or a test that must not count.
   */
  onWarnings?: ((stream: string, warnings: readonly Warning[]) => void) | null;
}

export function createTransformContext(
  config: Config,
  options: TransformContextOptions = {},
): TransformContext {
  const dictionaries = createDictionaries(config);
  return {
    config,
    now: options.now ?? Date.now,
    carType: dictionaries.carType,
    payType: dictionaries.payType,
    readPlate: createPlateReader(config.transform.noPlateMarkers),
    entranceTime: createTimeParser(config.vendor.timeZone, config.streams.entrances.timeFormat),
    departureTime: createTimeParser(config.vendor.timeZone, config.streams.departures.timeFormat),
    futureToleranceSeconds: config.transform.futureToleranceSeconds,
    useTimeRounding: config.transform.useTimeRounding,
    useTimeUnit: config.streams.departures.useTimeUnit,
    moneyUnit: config.streams.departures.moneyUnit,
    defaultCarLogo: config.transform.defaultCarLogo,
    parkCoordinates: {
      from: config.streams.parks.coordinateSystem,
      to: config.isp.coordinateSystem,
      fixSwapped: config.streams.parks.fixSwappedCoordinates,
    },
    clampOverfull: config.streams.spotNums.clampOverfull,
    onWarnings:
      options.onWarnings === null
        ? () => {}
        : (options.onWarnings ??
          ((stream, warnings) => recordWarnings(config.source.name, stream, warnings))),
  };
}
