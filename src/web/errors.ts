/**
 * The dashboard's configuration cannot be served safely (no credentials on a public address, half
 * a Basic pair). Thrown by startWebServer before it binds, so the process fails at start with the
 * variable to set; never thrown per request, and the message never holds a credential.
 */
export class WebConfigError extends Error {
  override readonly name = 'WebConfigError';
}
