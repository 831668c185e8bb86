import type { ReactNode } from 'react';
import type { ShownError } from './api.js';

const STATUS_CLASS: Record<string, string> = {
  QUEUED: 'queued',
  RUNNING: 'running',
  SUCCEEDED: 'ok',
  FAILED: 'bad',
  CANCELLED: 'muted',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <span className={`badge ${STATUS_CLASS[status] ?? 'muted'}`} data-testid="status">
      {status.toLowerCase()}
    </span>
  );
}

export function Badge({ children, tone = 'muted' }: { children: ReactNode; tone?: 'ok' | 'bad' | 'muted' | 'running' | 'queued' | 'info' }) {
  return <span className={`badge ${tone}`}>{children}</span>;
}

/** An API error with its code, as the API gave it. */
export function ErrorBox({ error }: { error: ShownError | undefined }) {
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      <code data-testid="error-code">{error.code}</code> <span data-testid="error-message">{error.message}</span>
    </div>
  );
}

export function Stat({ label, value, testId, hint }: { label: string; value: ReactNode; testId?: string; hint?: string }) {
  return (
    <div className="stat" title={hint}>
      <div className="stat-value" data-testid={testId}>
        {value}
      </div>
      <div className="stat-label">{label}</div>
    </div>
  );
}

export function Card({ title, actions, children, className }: { title?: ReactNode; actions?: ReactNode; children: ReactNode; className?: string }) {
  return (
    <section className={`card ${className ?? ''}`}>
      {(title || actions) && (
        <header className="card-head">
          {title && <h2>{title}</h2>}
          {actions && <div className="actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

export function Loading({ what }: { what: string }) {
  return <p className="muted">Loading {what}…</p>;
}

export function Progress({ value }: { value: number }) {
  const pct = Math.max(0, Math.min(1, value)) * 100;
  return (
    <div className="progress" role="progressbar" aria-valuenow={Math.round(pct)} aria-valuemin={0} aria-valuemax={100}>
      <div className="progress-bar" style={{ width: `${pct}%` }} />
    </div>
  );
}

export const terminal = (status: string) => status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';
