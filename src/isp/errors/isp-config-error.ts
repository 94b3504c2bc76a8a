/**
 * The ISP part of the configuration cannot work (no credentials, unreadable CA file, bad base URL).
 * Thrown at construction, never per request, so a deployment fails at start with the key to fix.
 */
export class IspConfigError extends Error {
  override readonly name = 'IspConfigError';
}
