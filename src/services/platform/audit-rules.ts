export type JsonDiff = { field: string; before: unknown; after: unknown }[];

/** The fields that differ between two snapshots, for "view difference". */
export function diffSnapshots(before: unknown, after: unknown): JsonDiff {
  const a = (before ?? {}) as Record<string, unknown>;
  const b = (after ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys
    .filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]))
    .map((k) => ({ field: k, before: a[k] ?? null, after: b[k] ?? null }));
}
