import { useState, type FormEvent } from 'react';
import {
  CreateDatasetDocument,
  CreateDatasetVersionDocument,
  DatasetDocument,
  DatasetExamplesDocument,
  DatasetsDocument,
  StartTrainingRunDocument,
  type DatasetVersionFieldsFragment,
  type ExampleSplit,
} from '../../../src/sdk/index.js';
import { describeError, type ShownError } from '../api.js';
import { CategoryChart } from '../charts.js';
import { clip, fmtInt, fmtPct, fmtTime } from '../format.js';
import { useQuery } from '../hooks.js';
import { go, href } from '../router.js';
import { useSession } from '../session.js';
import { Badge, Card, ErrorBox, Loading } from '../ui.js';

export function DatasetsView({ selected }: { selected: string | undefined }) {
  const list = useQuery(DatasetsDocument, { first: 100 });
  const datasets = list.data?.datasets.nodes ?? [];
  const name = selected ?? datasets[0]?.name;
  return (
    <>
      <div className="page-head">
        <h1>Datasets</h1>
      </div>
      <ErrorBox error={list.error} />
      {!list.data && !list.error && <Loading what="datasets" />}
      <div className="sidebar-layout">
        <nav className="side" data-testid="dataset-list">
          {datasets.map((d) => (
            <a key={d.id} href={href('datasets', d.name)} className={d.name === name ? 'active' : ''}>
              <strong>{d.name}</strong>
              <span className="muted small">
                {d.versions.length} versions · {d.labels.join(', ')}
              </span>
            </a>
          ))}
          <NewDataset onCreated={(n) => { list.reload(); go('datasets', n); }} />
        </nav>
        {name && <DatasetDetail key={name} name={name} onChanged={list.reload} />}
      </div>
    </>
  );
}

function NewDataset({ onCreated }: { onCreated: (name: string) => void }) {
  const { client } = useSession();
  const [name, setName] = useState('');
  const [labels, setLabels] = useState('ham, spam');
  const [error, setError] = useState<ShownError>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const labelList = labels.split(',').map((l) => l.trim()).filter(Boolean);
      await client.request(CreateDatasetDocument, { input: { name, labels: labelList } });
      onCreated(name);
      setName('');
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <form className="new-dataset" onSubmit={(e) => void submit(e)}>
      <strong>New dataset</strong>
      <input placeholder="name" value={name} onChange={(e) => setName(e.target.value)} required />
      <input placeholder="labels, comma separated" value={labels} onChange={(e) => setLabels(e.target.value)} />
      <ErrorBox error={error} />
      <button type="submit">Create</button>
    </form>
  );
}

function DatasetDetail({ name, onChanged }: { name: string; onChanged: () => void }) {
  const q = useQuery(DatasetDocument, { name });
  const [picked, setPicked] = useState<number | null>(null);
  const dataset = q.data?.dataset;
  if (q.error) return <ErrorBox error={q.error} />;
  if (!q.data) return <Loading what={name} />;
  if (!dataset) return <ErrorBox error={{ code: 'NOT_FOUND', message: `No dataset ${name} that you may read.` }} />;
  const versions = [...dataset.versions].sort((a, b) => b.version - a.version);
  const version = versions.find((v) => v.version === picked) ?? versions[0];
  return (
    <div className="detail">
      <Card title={dataset.name} actions={<span className="muted small">{dataset.visibility.toLowerCase()} · created {fmtTime(dataset.createdAt)}</span>}>
        {dataset.description && <p>{dataset.description}</p>}
        <div className="row">
          {versions.map((v) => (
            <button key={v.id} className={v === version ? 'chip active' : 'chip'} onClick={() => setPicked(v.version)}>
              v{v.version} <span className="muted small">{fmtInt(v.rowCount)} rows</span>
            </button>
          ))}
        </div>
        <Upload
          dataset={dataset.name}
          onUploaded={(v) => {
            q.reload();
            onChanged();
            setPicked(v);
          }}
        />
      </Card>
      {version && <VersionDetail key={version.id} dataset={dataset.name} labels={dataset.labels} version={version} />}
    </div>
  );
}

function Upload({ dataset, onUploaded }: { dataset: string; onUploaded: (version: number) => void }) {
  const { client } = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ShownError>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      // A File in the variables: the SDK sends a GraphQL multipart request.
      const { createDatasetVersion } = await client.request(CreateDatasetVersionDocument, { input: { dataset, file, ...(note ? { note } : {}) } });
      onUploaded(createDatasetVersion.version.version);
      setFile(null);
    } catch (err) {
      setError(describeError(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="row upload" onSubmit={(e) => void submit(e)} data-testid="upload-form">
      <span>Upload a new version (CSV or JSONL: text, label, optional split):</span>
      <input type="file" accept=".csv,.jsonl,.ndjson,text/csv,application/x-ndjson" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
      <input placeholder="note (optional)" value={note} onChange={(e) => setNote(e.target.value)} />
      <button type="submit" disabled={!file || busy}>
        {busy ? 'Uploading…' : 'Upload'}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function VersionDetail({ dataset, labels, version }: { dataset: string; labels: readonly string[]; version: DatasetVersionFieldsFragment }) {
  const v = version.validation;
  const dist = v.classDistribution;
  return (
    <>
      <div className="grid2">
        <Card title={`Validation report · v${version.version}`}>
          <table className="compact" data-testid="validation">
            <tbody>
              <tr>
                <td>Rows</td>
                <td className="num">{fmtInt(v.rows)}</td>
              </tr>
              <tr>
                <td>Train / test</td>
                <td className="num">
                  {fmtInt(v.splits.train)} / {fmtInt(v.splits.test)} {v.splitsFromFile > 0 ? <Badge>{fmtInt(v.splitsFromFile)} from file</Badge> : <span className="muted small">by hash, {fmtPct(version.splitRatio, 0)} test</span>}
                </td>
              </tr>
              <tr>
                <td>Exact / normalized duplicates</td>
                <td className="num">
                  {fmtInt(v.exactDuplicates)} / {fmtInt(v.normalizedDuplicates)}
                </td>
              </tr>
              <tr>
                <td>Empty / oversized texts</td>
                <td className="num">
                  {fmtInt(v.emptyTexts)} / {fmtInt(v.oversizedTexts)}
                </td>
              </tr>
              <tr>
                <td>Unknown labels</td>
                <td className="num">{fmtInt(v.unknownLabels)}</td>
              </tr>
              <tr>
                <td>Source</td>
                <td className="num">
                  {version.changes.source.toLowerCase()}
                  {version.changes.fileName ? ` ${version.changes.fileName}` : ''} (+{fmtInt(version.changes.added)})
                  {version.parentVersion != null && ` from v${version.parentVersion}`}
                </td>
              </tr>
              <tr>
                <td>Export</td>
                <td className="num">
                  <code>{version.csvUrl}</code>
                </td>
              </tr>
            </tbody>
          </table>
          {version.changes.note && <p className="muted small">{version.changes.note}</p>}
          <TrainForm versionId={version.id} />
        </Card>
        <Card title="Class distribution">
          <CategoryChart
            testId="class-chart"
            type="bar"
            stacked
            labels={dist.map((d) => d.label)}
            datasets={[
              { label: 'train', values: dist.map((d) => d.train) },
              { label: 'test', values: dist.map((d) => d.test) },
            ]}
          />
        </Card>
      </div>
      <Examples dataset={dataset} labels={labels} version={version.version} />
    </>
  );
}

function TrainForm({ versionId }: { versionId: string }) {
  const { client } = useSession();
  const [model, setModel] = useState('');
  const [epochs, setEpochs] = useState(5);
  const [error, setError] = useState<ShownError>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    try {
      const { startTrainingRun } = await client.request(StartTrainingRunDocument, { input: { model, datasetVersionId: versionId, hyperparameters: { epochs } } });
      go('training', startTrainingRun.trainingRun.id);
    } catch (err) {
      setError(describeError(err));
    }
  };
  return (
    <form className="row" onSubmit={(e) => void submit(e)}>
      <span>Train</span>
      <input placeholder="model name" value={model} onChange={(e) => setModel(e.target.value)} required size={12} />
      <label className="inline">
        epochs <input type="number" min={1} max={100} value={epochs} onChange={(e) => setEpochs(Number(e.target.value))} style={{ width: '4em' }} />
      </label>
      <button type="submit">Start training run</button>
      <ErrorBox error={error} />
    </form>
  );
}

function Examples({ dataset, labels, version }: { dataset: string; labels: readonly string[]; version: number }) {
  const [label, setLabel] = useState('');
  const [split, setSplit] = useState<'' | ExampleSplit>('');
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors.at(-1) ?? null;
  const q = useQuery(DatasetExamplesDocument, {
    name: dataset,
    version,
    first: 20,
    ...(after ? { after } : {}),
    ...(label ? { label } : {}),
    ...(split ? { split } : {}),
  });
  const conn = q.data?.dataset?.version?.examples;
  const reset = () => setCursors([null]);
  return (
    <Card
      title={`Examples (${fmtInt(conn?.totalCount ?? 0)})`}
      actions={
        <>
          <select value={label} onChange={(e) => { setLabel(e.target.value); reset(); }} data-testid="examples-label">
            <option value="">every label</option>
            {labels.map((l) => (
              <option key={l} value={l}>
                {l}
              </option>
            ))}
          </select>
          <select value={split} onChange={(e) => { setSplit(e.target.value as ExampleSplit | ''); reset(); }} data-testid="examples-split">
            <option value="">both splits</option>
            <option value="TRAIN">train</option>
            <option value="TEST">test</option>
          </select>
        </>
      }
    >
      <ErrorBox error={q.error} />
      <table data-testid="examples-table">
        <thead>
          <tr>
            <th>Text</th>
            <th>Label</th>
            <th>Split</th>
            <th>Source</th>
            <th>In version</th>
          </tr>
        </thead>
        <tbody>
          {conn?.nodes.map((e) => (
            <tr key={e.id}>
              <td className="text" title={e.text.slice(0, 2000)}>
                {clip(e.text, 240)}
              </td>
              <td>
                <Badge tone="info">{e.label}</Badge>
              </td>
              <td>{e.split.toLowerCase()}</td>
              <td className="small">{e.source ?? '–'}</td>
              <td>v{e.version}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row">
        <button disabled={cursors.length <= 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          ← Previous
        </button>
        <span className="muted small">page {cursors.length}</span>
        <button disabled={!conn?.pageInfo.hasNextPage} onClick={() => setCursors((c) => [...c, conn?.pageInfo.endCursor ?? null])}>
          Next →
        </button>
      </div>
    </Card>
  );
}
