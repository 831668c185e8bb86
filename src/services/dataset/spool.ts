import type { Readable } from 'node:stream';
import type { Config } from '../../config/index.js';
import { badInput } from '../../errors.js';
import { FileTooLargeError, spoolToFile, type SpooledFile } from '../../storage/spool.js';
import { uploadDir } from '../uploads.js';

/**
 * Streams an uploaded dataset file to the upload directory under ARENA_DATASET_UPLOAD_LIMIT_BYTES.
 * Over the limit — cut off here, or already by graphql-upload (413) — is BAD_USER_INPUT, with no
 * file left behind.
 */
export async function spoolDatasetUpload(config: Pick<Config, 'dataDir' | 'dataset'>, file: Readable): Promise<SpooledFile> {
  const limit = config.dataset.uploadLimitBytes;
  try {
    return await spoolToFile(file, uploadDir(config), limit);
  } catch (error) {
    if (error instanceof FileTooLargeError || (error as { status?: number }).status === 413) {
      throw badInput(`The file is larger than the upload limit of ${limit} bytes (ARENA_DATASET_UPLOAD_LIMIT_BYTES). Nothing was stored.`, {
        field: 'file',
        limitBytes: limit,
        problems: [],
        problemCount: 0,
      });
    }
    throw error;
  }
}
