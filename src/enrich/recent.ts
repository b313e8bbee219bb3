/**
 * A bounded memo of recent entries: two generations of at most `max / 2` entries each. When the
 * young one fills, it becomes the old one and the previous old one is dropped; a hit in the old
 * generation moves the entry back to the young one. Every operation is O(1): unlike evicting a
 * Map's first key one at a time, which degrades V8 Maps badly under constant churn.
 */
export interface Recent<K, V> {
  get(key: K): V | undefined;
  set(key: K, value: V): void;
}

export const createRecent = <K, V>(max: number): Recent<K, V> => {
  const half = Math.max(1, Math.floor(max / 2));
  let young = new Map<K, V>();
  let old = new Map<K, V>();
  const set = (key: K, value: V): void => {
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(key, value);
  };
  return {
    get(key) {
      const hit = young.get(key);
      if (hit !== undefined) return hit;
      const aged = old.get(key);
      if (aged !== undefined) set(key, aged);
      return aged;
    },
    set,
  };
};
