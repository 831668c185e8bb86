import { checkModelName, type RuleViolation } from '../registry.js';

/** Dataset names follow model names: 1 to 64 of a-z, 0-9, ".", "_", "-"; never a UUID (ids and names share one argument). */
export function checkDatasetName(name: string): RuleViolation | undefined {
  const bad = checkModelName(name);
  if (bad) return bad;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(name)) return { field: 'name', message: 'name must not look like an id (a UUID).' };
  return undefined;
}
