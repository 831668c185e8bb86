export { DatasetService, MAX_NOTE_LENGTH, noSuchDataset } from './dataset.service.js';
export type {
  CreateDatasetInput,
  CreatedVersion,
  DatasetVersionView,
  DatasetView,
  DeriveDatasetVersionInput,
  ExampleView,
  NewExample,
  UploadedDatasetVersion,
} from './dataset.service.js';
export { DATASET_FORMATS, formatOfFileName } from './records.js';
export type { DatasetFormat } from './records.js';
export { SPAM_ASSASSIN_LABELS, SPAM_ASSASSIN_PACKAGE, importSpamAssassin } from './spam-assassin.js';
export type { ImportProgress, SpamAssassinImport } from './spam-assassin.js';
