import { useMemo, useState, type FormEvent } from 'react';
import { BattleFormOptionsDocument, BattlesDocument, CreateBattleDocument, type CreateBattleInput } from '../../../src/sdk/index.js';
import { describeError, type ShownError } from '../api.js';
import { fmtInt, fmtPct, fmtTime, shortId } from '../format.js';
import { useQuery } from '../hooks.js';
import { go, href } from '../router.js';
import { useSession } from '../session.js';
import { Card, ErrorBox, Loading, Progress, StatusBadge, terminal } from '../ui.js';

export function BattlesView() {
  const list = useQuery(BattlesDocument, { first: 50 }, { pollMs: 3000 });
  const [showForm, setShowForm] = useState(false);
  const battles = list.data?.battles.nodes ?? [];
  return (
    <>
      <div className="page-head">
        <h1>Battles</h1>
        <button className="primary" onClick={() => setShowForm((s) => !s)} data-testid="new-battle">
          {showForm ? 'Close' : 'Start a battle'}
        </button>
      </div>
      {showForm && <BattleForm />}
      <Card title={`Battles (${fmtInt(list.data?.battles.totalCount ?? 0)})`}>
        <ErrorBox error={list.error} />
        {!list.data && !list.error && <Loading what="battles" />}
        {list.data && battles.length === 0 && <p className="muted">No battles yet. Start one: the attacker against a model’s champion.</p>}
        {battles.length > 0 && (
          <table data-testid="battles-table">
            <thead>
              <tr>
                <th>Battle</th>
                <th>Status</th>
                <th>Defender</th>
                <th className="num">Rounds</th>
                <th className="num">Evasion</th>
                <th className="num">Test split</th>
                <th>Retrain</th>
                <th>Started</th>
              </tr>
            </thead>
            <tbody>
              {battles.map((b) => (
                <tr key={b.id}>
                  <td>
                    <a href={href('battles', b.id)} data-testid="battle-link">
                      {shortId(b.id)}
                    </a>
                    {b.rematchOf && <span className="muted small"> rematch</span>}
                  </td>
                  <td>
                    <StatusBadge status={b.status} />
                  </td>
                  <td>
                    {b.model} v{b.defenderVersion} <span className="muted small">({b.alias})</span>
                  </td>
                  <td className="num">
                    {fmtInt(b.roundsDone)} / {fmtInt(b.totalRounds)}
                    {!terminal(b.status) && <Progress value={b.roundsDone / Math.max(1, b.totalRounds)} />}
                  </td>
                  <td className="num">{fmtPct(b.evasionRate)}</td>
                  <td className="num">{fmtPct(b.testEvasionRate)}</td>
                  <td>{b.retrainRunId ? <a href={href('training', b.retrainRunId)}>run {shortId(b.retrainRunId)}</a> : <span className="muted">–</span>}</td>
                  <td>{fmtTime(b.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Card>
    </>
  );
}

function BattleForm() {
  const { client } = useSession();
  const options = useQuery(BattleFormOptionsDocument, {});
  const models = useMemo(() => (options.data?.models.nodes ?? []).filter((m) => m.aliases.length > 0), [options.data]);
  const datasets = options.data?.datasets.nodes ?? [];
  const [model, setModel] = useState('');
  const [alias, setAlias] = useState('champion');
  const [rounds, setRounds] = useState(500);
  const [strategies, setStrategies] = useState<string[]>([]);
  const [seedSource, setSeedSource] = useState<'texts' | 'dataset'>('dataset');
  const [seedTexts, setSeedTexts] = useState('win free money now\nclaim your cash prize today');
  const [datasetName, setDatasetName] = useState('');
  const [versionId, setVersionId] = useState('');
  const [seedLabel, setSeedLabel] = useState('');
  const [threshold, setThreshold] = useState(30);
  const [autoRetrain, setAutoRetrain] = useState(true);
  const [seed, setSeed] = useState('');
  const [intensity, setIntensity] = useState('');
  const [error, setError] = useState<ShownError>();
  const [busy, setBusy] = useState(false);

  const chosenModel = models.find((m) => m.name === model) ?? models[0];
  const dataset = datasets.find((d) => d.name === datasetName) ?? datasets[0];
  const version = dataset?.versions.find((v) => v.id === versionId) ?? dataset?.versions.at(-1);
  const labels = dataset?.labels ?? chosenModel?.labels ?? [];

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!chosenModel) return;
    setBusy(true);
    setError(undefined);
    const input: CreateBattleInput = {
      model: chosenModel.name,
      alias: alias || 'champion',
      rounds,
      threshold: threshold / 100,
      autoRetrain,
      ...(strategies.length > 0 ? { strategies } : {}),
      ...(seed.trim() ? { seed: Number(seed) } : {}),
      ...(intensity.trim() ? { intensity: Number(intensity) } : {}),
      ...(seedSource === 'texts'
        ? { seedTexts: seedTexts.split('\n').map((t) => t.trim()).filter(Boolean) }
        : { seedDatasetVersionId: version?.id ?? null, ...(seedLabel ? { seedLabel } : {}) }),
    };
    try {
      const { createBattle } = await client.request(CreateBattleDocument, { input });
      go('battles', createBattle.battle.id);
    } catch (err) {
      setError(describeError(err));
      setBusy(false);
    }
  };

  if (options.error) return <ErrorBox error={options.error} />;
  if (!options.data) return <Loading what="models and strategies" />;
  return (
    <Card title="Start a battle">
      {models.length === 0 && <p className="muted">No model has a champion yet: train one first (Datasets → a version → train), or register an ONNX version.</p>}
      <form className="form-grid" onSubmit={(e) => void submit(e)} data-testid="battle-form">
        <label>
          Defender model
          <select name="model" value={chosenModel?.name ?? ''} onChange={(e) => setModel(e.target.value)}>
            {models.map((m) => (
              <option key={m.id} value={m.name}>
                {m.name} ({m.aliases.map((a) => `${a.name} v${a.version}`).join(', ')})
              </option>
            ))}
          </select>
        </label>
        <label>
          Alias
          <input name="alias" value={alias} onChange={(e) => setAlias(e.target.value)} />
        </label>
        <label>
          Rounds
          <input name="rounds" type="number" min={1} value={rounds} onChange={(e) => setRounds(Number(e.target.value))} />
        </label>
        <label>
          Retrain threshold (evasion %)
          <input name="threshold" type="number" min={0} max={100} step="any" value={threshold} onChange={(e) => setThreshold(Number(e.target.value))} />
        </label>
        <label className="check">
          <input name="autoRetrain" type="checkbox" checked={autoRetrain} onChange={(e) => setAutoRetrain(e.target.checked)} /> Retrain automatically when over the threshold
        </label>
        <label>
          RNG seed (optional)
          <input name="seed" type="number" value={seed} onChange={(e) => setSeed(e.target.value)} placeholder="random" />
        </label>
        <label>
          Intensity (share of words perturbed, 0–1)
          <input name="intensity" type="number" min={0} max={1} step="any" value={intensity} onChange={(e) => setIntensity(e.target.value)} placeholder="0.4" />
        </label>
        <fieldset className="wide">
          <legend>Strategies {strategies.length === 0 && <span className="muted small">(none ticked: the server’s default mix)</span>}</legend>
          <div className="checks">
            {options.data.attackStrategies.map((s) => (
              <label key={s.id} className="check" title={s.description}>
                <input
                  type="checkbox"
                  name="strategy"
                  value={s.id}
                  checked={strategies.includes(s.id)}
                  onChange={(e) => setStrategies((list) => (e.target.checked ? [...list, s.id] : list.filter((x) => x !== s.id)))}
                />{' '}
                {s.name}
                {s.queriesDefender && <span className="muted small"> (queries)</span>}
              </label>
            ))}
          </div>
        </fieldset>
        <fieldset className="wide">
          <legend>Seed texts</legend>
          <div className="checks">
            <label className="check">
              <input type="radio" name="seedSource" checked={seedSource === 'dataset'} onChange={() => setSeedSource('dataset')} /> From a dataset version
            </label>
            <label className="check">
              <input type="radio" name="seedSource" checked={seedSource === 'texts'} onChange={() => setSeedSource('texts')} /> Typed here
            </label>
          </div>
          {seedSource === 'texts' ? (
            <textarea name="seedTexts" rows={4} value={seedTexts} onChange={(e) => setSeedTexts(e.target.value)} placeholder="one text per line" />
          ) : (
            <div className="row">
              <select name="dataset" value={dataset?.name ?? ''} onChange={(e) => { setDatasetName(e.target.value); setVersionId(''); }}>
                {datasets.map((d) => (
                  <option key={d.id} value={d.name}>
                    {d.name}
                  </option>
                ))}
              </select>
              <select name="datasetVersion" value={version?.id ?? ''} onChange={(e) => setVersionId(e.target.value)}>
                {dataset?.versions.map((v) => (
                  <option key={v.id} value={v.id}>
                    v{v.version} ({fmtInt(v.rowCount)} rows)
                  </option>
                ))}
              </select>
              <select name="seedLabel" value={seedLabel} onChange={(e) => setSeedLabel(e.target.value)}>
                <option value="">harmful label (default)</option>
                {labels.map((l) => (
                  <option key={l} value={l}>
                    label {l}
                  </option>
                ))}
              </select>
            </div>
          )}
        </fieldset>
        <div className="wide">
          <ErrorBox error={error} />
          <button type="submit" className="primary" disabled={busy || !chosenModel} data-testid="start-battle">
            {busy ? 'Starting…' : 'Start battle'}
          </button>
        </div>
      </form>
    </Card>
  );
}
