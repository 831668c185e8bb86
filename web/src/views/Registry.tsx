import { useState } from 'react';
import {
  DatasetVersionIndexDocument,
  ModelAliasChangedDocument,
  ModelsDocument,
  PromoteModelVersionDocument,
  SetModelAliasDocument,
  VersionLineageDocument,
  type ModelFieldsFragment,
} from '../../../src/sdk/index.js';
import { describeError, type ShownError } from '../api.js';
import { fmtBytes, fmtNum, fmtTime, metric, shortId } from '../format.js';
import { useQuery, useSubscription } from '../hooks.js';
import { href } from '../router.js';
import { useSession } from '../session.js';
import { Badge, Card, ErrorBox, Loading } from '../ui.js';

type DatasetIndex = Map<string, { name: string; version: number; parentVersion: number | null; rowCount: number }>;

export function RegistryView({ selected }: { selected: string | undefined }) {
  const overview = useQuery(ModelsDocument, { first: 100 }, { pollMs: 5000 });
  const index = useQuery(DatasetVersionIndexDocument, {}, { pollMs: 15000 });
  const models = overview.data?.models.nodes ?? [];
  const datasets: DatasetIndex = new Map();
  for (const d of index.data?.datasets.nodes ?? []) for (const v of d.versions) datasets.set(v.id, { name: d.name, version: v.version, parentVersion: v.parentVersion, rowCount: v.rowCount });
  const model = models.find((m) => m.name === selected) ?? models[0];
  return (
    <>
      <div className="page-head">
        <h1>Model registry</h1>
      </div>
      <ErrorBox error={overview.error ?? index.error} />
      {!overview.data && !overview.error && <Loading what="models" />}
      {overview.data && models.length === 0 && <p className="muted">No models yet.</p>}
      {models.length > 0 && (
        <div className="sidebar-layout">
          <nav className="side" data-testid="model-list">
            {models.map((m) => (
              <a key={m.id} href={href('registry', m.name)} className={m === model ? 'active' : ''}>
                <strong>{m.name}</strong>
                <span className="muted small">
                  {m.versions.length} versions · {m.aliases.map((a) => `${a.name} v${a.version}`).join(', ') || 'no aliases'}
                </span>
              </a>
            ))}
          </nav>
          {model && <ModelDetail key={model.id} model={model} datasets={datasets} reload={overview.reload} />}
        </div>
      )}
    </>
  );
}

function ModelDetail({ model, datasets, reload }: { model: ModelFieldsFragment; datasets: DatasetIndex; reload: () => void }) {
  const { client } = useSession();
  const [error, setError] = useState<ShownError>();
  const [notice, setNotice] = useState<string>();
  const [lineageOf, setLineageOf] = useState<string | null>(null);
  const [aliasName, setAliasName] = useState('staging');
  useSubscription(ModelAliasChangedDocument, { model: model.name }, (e) => {
    setNotice(`Alias ${e.modelAliasChanged.alias} → ${e.modelAliasChanged.version == null ? 'removed' : `v${e.modelAliasChanged.version}`}`);
    reload();
  });
  const champion = model.aliases.find((a) => a.name === 'champion')?.version;

  const promote = async (version: number, force: boolean) => {
    setError(undefined);
    try {
      const { promoteModelVersion: p } = await client.request(PromoteModelVersionDocument, { input: { model: model.name, version, force } });
      setNotice(`v${p.version} is champion${p.previousChampion != null ? ` (was v${p.previousChampion})` : ''}${p.forced ? ', forced' : ''}: F1 ${fmtNum(p.challengerF1, 4)} vs ${fmtNum(p.championF1, 4)}`);
      reload();
    } catch (e) {
      setError(describeError(e));
    }
  };
  const setAlias = async (version: number) => {
    setError(undefined);
    try {
      await client.request(SetModelAliasDocument, { input: { model: model.name, alias: aliasName, version } });
      reload();
    } catch (e) {
      setError(describeError(e));
    }
  };

  const versions = [...model.versions].sort((a, b) => b.version - a.version);
  return (
    <div className="detail">
      <Card
        title={
          <>
            {model.name} <span className="muted small">{model.task}</span>
          </>
        }
      >
        <p className="muted small">
          Labels {model.labels.join(', ')} · promotion {model.promotionPolicy.toLowerCase()} (margin {fmtNum(model.promotionMargin, 3)}) · {model.visibility.toLowerCase()} ·
          created {fmtTime(model.createdAt)}
        </p>
        <div className="row" data-testid="aliases">
          {model.aliases.map((a) => (
            <span key={a.name} className="alias">
              <Badge tone={a.name === 'champion' ? 'ok' : a.name === 'challenger' ? 'queued' : 'info'}>{a.name}</Badge> v{a.version}{' '}
              <span className="muted small">since {fmtTime(a.updatedAt)}</span>
            </span>
          ))}
        </div>
        {notice && <p className="notice">{notice}</p>}
        <ErrorBox error={error} />
      </Card>
      <Card
        title="Versions"
        actions={
          <label className="inline">
            alias to set <input value={aliasName} onChange={(e) => setAliasName(e.target.value)} size={10} />
          </label>
        }
      >
        <table data-testid="versions-table">
          <thead>
            <tr>
              <th>Version</th>
              <th>Aliases</th>
              <th className="num">F1</th>
              <th className="num">Accuracy</th>
              <th>Lineage</th>
              <th>Size</th>
              <th>Created</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => {
              const data = v.datasetVersionId ? datasets.get(v.datasetVersionId) : undefined;
              return (
                <tr key={v.id} data-testid={`version-${v.version}`}>
                  <td>
                    <strong>v{v.version}</strong> <span className="muted small">{v.source.toLowerCase()}</span>
                  </td>
                  <td>
                    {v.aliases.map((a) => (
                      <Badge key={a} tone={a === 'champion' ? 'ok' : a === 'challenger' ? 'queued' : 'info'}>
                        {a}
                      </Badge>
                    ))}
                  </td>
                  <td className="num">{fmtNum(metric(v.metrics, 'f1'), 4)}</td>
                  <td className="num">{fmtNum(metric(v.metrics, 'accuracy'), 4)}</td>
                  <td className="small">
                    {data ? (
                      <a href={href('datasets', data.name)}>
                        {data.name} v{data.version}
                      </a>
                    ) : v.datasetVersionId ? (
                      `dataset ${shortId(v.datasetVersionId)}`
                    ) : (
                      'uploaded'
                    )}
                    {data?.parentVersion != null && <span className="muted"> (from v{data.parentVersion})</span>}
                    {v.trainingRunId && (
                      <>
                        {' · '}
                        <a href={href('training', v.trainingRunId)}>run {shortId(v.trainingRunId)}</a>{' '}
                        <button className="link" onClick={() => setLineageOf(lineageOf === v.trainingRunId ? null : v.trainingRunId)}>
                          {lineageOf === v.trainingRunId ? 'hide' : 'details'}
                        </button>
                      </>
                    )}
                  </td>
                  <td>{fmtBytes(v.sizeBytes)}</td>
                  <td>{fmtTime(v.createdAt)}</td>
                  <td className="actions">
                    {v.version !== champion && (
                      <button onClick={() => void promote(v.version, false)} data-testid={`promote-${v.version}`} title="Becomes champion if its test F1 beats the champion's">
                        Promote
                      </button>
                    )}
                    <button className="link" onClick={() => void setAlias(v.version)}>
                      set {aliasName}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {lineageOf && <Lineage runId={lineageOf} datasets={datasets} />}
      </Card>
    </div>
  );
}

function Lineage({ runId, datasets }: { runId: string; datasets: DatasetIndex }) {
  const q = useQuery(VersionLineageDocument, { runId });
  const run = q.data?.trainingRun;
  const data = run ? datasets.get(run.datasetVersionId) : undefined;
  return (
    <div className="lineage">
      <ErrorBox error={q.error} />
      {run && (
        <>
          <p>
            Made by run <a href={href('training', run.id)}>{shortId(run.id)}</a> ({run.runner}, {run.status.toLowerCase()}, {fmtTime(run.finishedAt)}) on{' '}
            {data ? `${data.name} v${data.version} (${data.rowCount} rows${data.parentVersion != null ? `, derived from v${data.parentVersion}` : ''})` : shortId(run.datasetVersionId)}
            {run.promoted ? ', promoted to champion' : ''}.
          </p>
          <pre>{JSON.stringify({ hyperparameters: run.hyperparameters, evaluation: run.evaluation }, null, 2)}</pre>
        </>
      )}
    </div>
  );
}
