/** The part of a prom-client metric that hands out a child bound to label values. */
type WithLabels<Child> = { labels(...values: string[]): Child };

/**
 * Most label values a metric keeps before folding new ones into "other". The values are bounded by
 * configuration already (target kinds, queues, rotations, roles); this guards the process if a
 * caller ever passes something unbounded.
 */
export const MAX_LABEL_VALUES = 500;

/**
 * Binds a metric's children once per label value, so a hot path's `inc()` or `observe()` allocates
 * no label object and hashes no labels.
 */
export function labelled<Child>(metric: WithLabels<Child>): (...values: string[]) => Child {
  const children = new Map<string, Child>();
  return (...values) => {
    const key = values.length === 1 ? (values[0] ?? "") : values.join("\u0000");
    let child = children.get(key);
    if (child === undefined) {
      const bounded = children.size < MAX_LABEL_VALUES ? values : values.map(() => "other");
      child = metric.labels(...bounded);
      if (children.size < MAX_LABEL_VALUES) children.set(key, child);
    }
    return child;
  };
}
