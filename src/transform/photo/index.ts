/**
 * Photos, the one I/O part of the transforms: load from the vendor's source, fit under the limit,
 * encode for the wire, and the limiter all photo work runs in (see photo/*.ts).
 */
export { PhotoBuffers, type PhotoBuffersStats } from './buffers.js';
export { detectFormat, type ImageFormat, type JpegInfo, readJpegInfo } from './detect.js';
export { type FitOptions, type FitOutcome, type FitResult, fitPhoto, MAX_ENCODES } from './fit.js';
export { createPhotoLimiter, createSharedLimiter, type PhotoLimiter, type SharedLimiter } from './limiter.js';
export {
  createPhotoDispatcher,
  FILE_READS_PER_ROOT,
  type LoadPhotoOptions,
  loadPhoto,
  type PhotoConfig,
  type PhotoInput,
  type PhotoSource,
  photoFileReads,
  photoShareProblem,
  showPhotoFileReads,
} from './sources.js';
export { type StrippedJpeg, type StripRefusal, stripJpegMetadata } from './strip.js';
export {
  base64Into,
  base64Length,
  countPhoto,
  fitOptionsFrom,
  maxJpegBytesFor,
  type PhotoOutcome,
  type PhotoWire,
  photoToWire,
  wireOf,
} from './wire.js';
