import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Config } from '../config/index.js';
import { badInput } from '../errors.js';
import { FileTooLargeError, spoolToFile, type SpooledFile } from '../storage/spool.js';

/** Where uploads wait while they are checked: `<ARENA_DATA_DIR>/tmp`. */
export const uploadDir = (config: Pick<Config, 'dataDir'>) => path.join(config.dataDir, 'tmp');

/**
 * Streams an uploaded file (a model, a bulk job's texts) to the upload directory under
 * ARENA_MODEL_UPLOAD_LIMIT_BYTES. Over the limit — cut off here, or already by graphql-upload (413)
 * — is BAD_USER_INPUT, with no file left behind.
 */
export async function spoolUpload(config: Pick<Config, 'dataDir' | 'inference'>, file: Readable): Promise<SpooledFile> {
  const limit = config.inference.uploadLimitBytes;
  try {
    return await spoolToFile(file, uploadDir(config), limit);
  } catch (error) {
    if (error instanceof FileTooLargeError || (error as { status?: number }).status === 413) {
      throw badInput(`The file is larger than the upload limit of ${limit} bytes (ARENA_MODEL_UPLOAD_LIMIT_BYTES).`, { field: 'file', limitBytes: limit });
    }
    throw error;
  }
}
