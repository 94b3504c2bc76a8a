/**
 * The ISP request and response bodies as zod schemas (spec §1–§7). The simulator validates every
 * request with these; the transforms' property tests check their output against them; the client
 * parses ISP's answers with them. Objects are strict: a key ISP does not know (such as the
 * examples' `"park_code "` with a trailing space) is an error, not silently dropped.
 */
import { z } from 'zod';
import { COORDINATE_SYSTEMS, carTypeFromWire, payTypeFromWire } from './codes.js';
import {
  CHINA_BOUNDS,
  MAX_EPOCH_SECONDS,
  MIN_EPOCH_SECONDS,
  MONEY_DECIMALS,
  PHOTO_MAX_BYTES,
} from './limits.js';

/**
 * Required text, checked as sent: no trimming transform, so a value such as the examples'
 * `" ATXL/1"` is reported instead of silently cleaned (ISP would see a different code).
 */
const requiredText = z
  .string()
  .min(1, 'must not be empty')
  .refine((value) => value.trim() === value, { message: 'has leading or trailing spaces' });

/** Plates are sent normalized (open point 4): no space inside, unlike the examples' "鲁 A12345". */
const plateNumber = requiredText.refine((value) => !/\s/.test(value), {
  message: 'contains a space (send the plate normalized, e.g. 鲁A12345)',
});

/** Unix seconds; a value in milliseconds gets a message that says so (a frequent vendor mistake). */
export const epochSeconds = z
  .number()
  .int('must be a whole number of seconds')
  .superRefine((value, ctx) => {
    if (value > MAX_EPOCH_SECONDS) {
      ctx.addIssue({
        code: 'custom',
        message: `looks like milliseconds (${value}); send Unix seconds`,
      });
    } else if (value < MIN_EPOCH_SECONDS) {
      ctx.addIssue({ code: 'custom', message: `is before 2000-01-01 (${value}); send Unix seconds` });
    }
  });

const money = z
  .number()
  .nonnegative('must not be negative')
  .refine((value) => Number.isFinite(value) && Number(value.toFixed(MONEY_DECIMALS)) === value, {
    message: `must have at most ${MONEY_DECIMALS} decimals (yuan)`,
  });

const carType = z.string().refine((value) => carTypeFromWire(value) !== undefined, {
  message: 'is not a car type code 1-6 (or its label)',
});

const payType = z.string().refine((value) => payTypeFromWire(value) !== undefined, {
  message: 'is not a pay type code 1-7 (or its label)',
});

/** Byte length of the whole string, prefix included (open point 5). */
export function photoBytes(value: string): number {
  return Buffer.byteLength(value, 'utf8');
}

const photo = z
  .string()
  .superRefine((value, ctx) => {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: short strings need no byte count.
    if (value.length * 3 <= PHOTO_MAX_BYTES) return;
    const bytes = photoBytes(value);
    if (bytes > PHOTO_MAX_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `is ${bytes} bytes, over the limit of ${PHOTO_MAX_BYTES} bytes`,
      });
    }
  })
  .refine((value) => value === '' || /^(data:image\/[a-z]+;base64,)?[A-Za-z0-9+/]+={0,2}$/.test(value), {
    message: 'is not Base64 (optionally with a data:image/...;base64, prefix)',
  });

const LNG_OUTSIDE_CHINA = `is outside China (longitude ${CHINA_BOUNDS.minLng}-${CHINA_BOUNDS.maxLng})`;
const LAT_OUTSIDE_CHINA = `is outside China (latitude ${CHINA_BOUNDS.minLat}-${CHINA_BOUNDS.maxLat})`;

export const parkSchema = z
  .strictObject({
    park_code: requiredText,
    park_name: z.string().optional(),
    longitude: z
      .number()
      .min(CHINA_BOUNDS.minLng, LNG_OUTSIDE_CHINA)
      .max(CHINA_BOUNDS.maxLng, LNG_OUTSIDE_CHINA)
      .optional(),
    latitude: z
      .number()
      .min(CHINA_BOUNDS.minLat, LAT_OUTSIDE_CHINA)
      .max(CHINA_BOUNDS.maxLat, LAT_OUTSIDE_CHINA)
      .optional(),
    address: z.string().optional(),
    coordinate_system: z.enum(COORDINATE_SYSTEMS),
  })
  .refine((park) => (park.longitude === undefined) === (park.latitude === undefined), {
    message: 'longitude and latitude must be sent together',
    path: ['longitude'],
  });

export const parkDeletionSchema = z.strictObject({
  park_code: z.string().regex(/^[^,\s][^,]*(,[^,\s][^,]*)*$/, 'must be one or more park codes joined by ","'),
});

export const spotNumSchema = z
  .strictObject({
    park_code: requiredText,
    total_spots_num: z.number().int().nonnegative(),
    remain_spots_num: z.number().int().nonnegative(),
    used_spots_num: z.number().int().nonnegative(),
  })
  // An overfull lot (more cars than spaces, which happens) is sent with remain 0 and used as counted.
  .refine(
    (s) =>
      s.remain_spots_num + s.used_spots_num === s.total_spots_num ||
      (s.remain_spots_num === 0 && s.used_spots_num > s.total_spots_num),
    {
      message:
        'remain_spots_num + used_spots_num must equal total_spots_num (or remain_spots_num be 0 when the lot is overfull)',
      path: ['total_spots_num'],
    },
  );

export const entranceSchema = z.strictObject({
  park_code: requiredText,
  plate_number: plateNumber,
  enter_time: epochSeconds,
  car_type: carType,
  car_logo: z.string(),
  enter_pic: photo,
});

export const departureSchema = z.strictObject({
  park_code: requiredText,
  plate_number: plateNumber,
  depart_time: epochSeconds,
  car_type: carType,
  car_logo: z.string(),
  depart_pic: photo,
  use_time: z.number().int().nonnegative(),
  payable_fee: money,
  paid_fee: money,
  pay_time: epochSeconds,
  pay_type: payType,
});

export const parksBodySchema = z.array(parkSchema).min(1);
export const spotNumsBodySchema = z.array(spotNumSchema).min(1);
export const entrancesBodySchema = z.array(entranceSchema).min(1);
export const departuresBodySchema = z.array(departureSchema).min(1);

export type Park = z.infer<typeof parkSchema>;
export type ParkDeletion = z.infer<typeof parkDeletionSchema>;
export type SpotNum = z.infer<typeof spotNumSchema>;
export type Entrance = z.infer<typeof entranceSchema>;
export type Departure = z.infer<typeof departureSchema>;

/** Token answer (spec §1, open point 1): `access_token` or `token`; `expires_in` may be a string. */
export const tokenResponseSchema = z
  .object({
    access_token: z.string().min(1).optional(),
    token: z.string().min(1).optional(),
    token_type: z.string().default('bearer'),
    expires_in: z.union([z.number(), z.string().regex(/^\d+$/)]).transform(Number),
    scope: z.string().optional(),
  })
  .refine((t) => t.access_token !== undefined || t.token !== undefined, {
    message: 'has neither access_token nor token',
  })
  .transform((t) => ({
    accessToken: (t.access_token ?? t.token) as string,
    tokenType: t.token_type,
    expiresInSeconds: t.expires_in,
  }));

export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** Common answer (spec §2, open point 2): `code` plus `msg` or `message`. */
export const commonResponseSchema = z
  .object({
    code: z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]),
    msg: z.string().optional(),
    message: z.string().optional(),
  })
  .transform((r) => ({ code: r.code, message: r.msg ?? r.message ?? '' }));

export type CommonResponse = z.infer<typeof commonResponseSchema>;

/** One line per problem, `[index].field: message`, for ISP-style code 1 answers and our errors. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((part) => (typeof part === 'number' ? `[${part}]` : `.${String(part)}`))
        .join('')
        .replace(/^\./, '');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
