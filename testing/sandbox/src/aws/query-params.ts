/**
 * Reading query-protocol parameters: a flat form body (`Tags.member.1.Key=…`) into plain values and
 * lists. A repeated parameter keeps its first value, which is what a form decoder on the AWS side
 * would see first; the SDK never repeats one.
 */
export type QueryParams = ReadonlyMap<string, string>;

export function parseQueryParams(form: string): QueryParams {
  const params = new Map<string, string>();
  for (const [key, value] of new URLSearchParams(form)) {
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}

/**
 * Members of a list parameter in index order: `Prefix.member.N` (or `Prefix.member.N.Field`). An
 * empty list arrives as `Prefix=` and yields no members.
 */
export function listIndexes(params: QueryParams, prefix: string): number[] {
  const pattern = new RegExp(`^${prefix.replaceAll(".", "\\.")}\\.member\\.(\\d+)(?:\\.|$)`);
  const indexes = new Set<number>();
  for (const key of params.keys()) {
    const match = pattern.exec(key);
    if (match?.[1] !== undefined) indexes.add(Number.parseInt(match[1], 10));
  }
  return [...indexes].sort((a, b) => a - b);
}

/** `Prefix.member.N` values, in index order. */
export function stringList(params: QueryParams, prefix: string): string[] {
  return listIndexes(params, prefix).flatMap((index) => {
    const value = params.get(`${prefix}.member.${index}`);
    return value === undefined ? [] : [value];
  });
}
