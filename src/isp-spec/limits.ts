/**
 * Numeric limits of the ISP interface and of our defaults for what the spec leaves open
 * (ISP-INTERFACE.md, "Open points" 4, 5, 11). Config defaults refer to these; nothing else
 * writes the numbers again.
 */

/** Open point 5: the whole photo string we send (data-URI prefix included) stays at or below this. */
export const PHOTO_MAX_BYTES = 512 * 1024;

/** Open point 5: the prefix of the examples. */
export const PHOTO_PREFIX = 'data:image/jpg;base64,';

/** Open point 11: our default batch bounds. */
export const BATCH_MAX_ITEMS = 100;
export const BATCH_MAX_BYTES = 8 * 1024 * 1024;

/** Open point 4: coordinates are validated against China's range, never swapped silently. */
export const CHINA_BOUNDS = { minLng: 73, maxLng: 136, minLat: 3, maxLat: 54 } as const;

/**
 * Epoch seconds beyond this are almost surely milliseconds (year 2286 in seconds). Used by the
 * simulator to reject millisecond timestamps and by transforms to recognize vendor epoch units.
 */
export const MAX_EPOCH_SECONDS = 9_999_999_999;
/** Epoch seconds below this (2000-01-01) are not plausible event times for this interface. */
export const MIN_EPOCH_SECONDS = 946_684_800;

/** Fees are sent in yuan with at most this many decimals (open point 9). */
export const MONEY_DECIMALS = 2;
