/**
 * The platform's own featurizer and exporter from the compiled dist/ the servers run, so the
 * in-process baselines run the very code the server does; types from src/, as in
 * servers/full-stack.ts. Loaded on first use: dist/ exists only once `npm run bench` has built.
 */
export type DomainModel = typeof import('../../src/domain/model/index.js');

let loading: Promise<DomainModel> | undefined;

export function domainModel(): Promise<DomainModel> {
  return (loading ??= import(new URL('../../dist/domain/model/index.js', import.meta.url).href) as Promise<DomainModel>);
}
