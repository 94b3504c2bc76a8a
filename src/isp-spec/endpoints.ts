/** The ISP paths (spec §1, §3–§7), written clean (open point 4: no stray spaces). */
export const ENDPOINTS = {
  token: '/oauth/token',
  parks: '/park/spot',
  spotNums: '/park/spot-num',
  entrances: '/park/entrance',
  departures: '/park/departure',
} as const;

/** Business codes of the common response (spec §2, open point 2). */
export const RESPONSE_CODES = { ok: [0, 200], rejected: 1, unauthorized: 401, systemError: 500 } as const;
