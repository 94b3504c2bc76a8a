/** The ConfigError `fn` throws (any other error is thrown on; none at all fails the test). */
import { ConfigError } from '../../src/config/index.js';

export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}
