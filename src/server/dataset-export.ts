import { stringify } from 'csv-stringify';
import type { Request, RequestHandler } from 'express';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from '../errors.js';
import type { Runtime } from '../runtime.js';
import { DATASET_FORMATS, type DatasetFormat, type DatasetVersionView } from '../services/index.js';
import { sendGuardError, type RequestGuard } from './guard.js';
import { sendJsonError } from './http-errors.js';

export const DATASET_EXPORT_ROUTE = '/datasets/:dataset/versions/:version/export';

const STATUS: Partial<Record<AppError['code'], number>> = { BAD_USER_INPUT: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409 };

const CONTENT_TYPE: Record<DatasetFormat, string> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8' };

function sendAppError(res: ServerResponse, error: AppError): void {
  if (error.code === 'RATE_LIMITED' || error.code === 'UNAUTHENTICATED') return sendGuardError(res, error);
  sendJsonError(res, STATUS[error.code] ?? 500, error.code, error.message, { ...error.details });
}

function parseRequest(req: Request): { ref: string; version: number; format: DatasetFormat } {
  const version = Number(req.params['version']);
  if (!Number.isInteger(version) || version < 1) throw new AppError('BAD_USER_INPUT', 'The version must be a whole number from 1.', { field: 'version' });
  const format = String(req.query['format'] ?? 'csv').toLowerCase();
  if (!(DATASET_FORMATS as readonly string[]).includes(format)) {
    throw new AppError('BAD_USER_INPUT', `format must be one of ${DATASET_FORMATS.join(', ')}; got ${JSON.stringify(format)}.`, { field: 'format' });
  }
  return { ref: String(req.params['dataset']), version, format: format as DatasetFormat };
}

/**
 * GET /datasets/<id or name>/versions/<n>/export?format=csv|jsonl: the version's examples as a
 * file, streamed a keyset page at a time with backpressure (a slow client slows the reads; a
 * client that goes away stops them). The caller must be allowed to read the dataset: 401 without
 * credentials, 404 for what is missing or private to someone else, exactly as the GraphQL API.
 */
export function datasetExportHandler(runtime: Runtime, guard: RequestGuard): RequestHandler {
  return (req, res) => {
    void (async () => {
      let version: DatasetVersionView;
      let format: DatasetFormat;
      const em = runtime.db.fork();
      try {
        const identity = await guard.http(req);
        const parsed = parseRequest(req);
        format = parsed.format;
        version = await runtime.services.datasets.openExport(em, identity.principal, parsed.ref, parsed.version);
      } catch (error) {
        if (error instanceof AppError) return sendAppError(res, error);
        throw error;
      }
      res.statusCode = 200;
      res.setHeader('content-type', CONTENT_TYPE[format]);
      res.setHeader('content-disposition', `attachment; filename="${version.datasetName}-v${version.version}.${format}"`);
      res.setHeader('x-row-count', String(version.rowCount));
      const pages = runtime.services.datasets.exportPages(em, version);
      if (format === 'csv') {
        async function* rows() {
          for await (const page of pages) for (const r of page) yield [r.text, r.label, r.source ?? '', r.split];
        }
        await pipeline(Readable.from(rows()), stringify({ header: true, columns: ['text', 'label', 'source', 'split'] }), res);
      } else {
        async function* lines() {
          for await (const page of pages) {
            let chunk = '';
            for (const r of page) chunk += `${JSON.stringify({ text: r.text, label: r.label, source: r.source, split: r.split })}\n`;
            yield chunk;
          }
        }
        await pipeline(Readable.from(lines()), res);
      }
    })().catch((error: unknown) => {
      // A client that hangs up mid-stream ends the pipeline with a premature close: not a bug.
      if ((error as { code?: string }).code === 'ERR_STREAM_PREMATURE_CLOSE') return;
      runtime.log.error({ err: error, url: req.originalUrl }, 'dataset export failed');
      if (!res.headersSent) sendJsonError(res, 500, 'INTERNAL_SERVER_ERROR', 'Internal server error.');
      else res.destroy();
    });
  };
}
