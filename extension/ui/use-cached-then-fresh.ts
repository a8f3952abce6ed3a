import { useEffect, useState } from 'preact/hooks';

export interface CachedState<T> {
  value: T | undefined;
  /** When the value shown was fetched. */
  savedAt: number | undefined;
  refreshing: boolean;
  /** Why the refresh failed (the cached value, if any, stays on screen). */
  error: string | null;
}

/** Shows the last known value at once, then fetches a fresh one and keeps it for next time. */
export function useCachedThenFresh<T>(
  readCache: () => Promise<{ value: T; savedAt: number } | undefined>,
  fetchFresh: () => Promise<T>,
  writeCache: (value: T) => Promise<void>,
  deps: unknown[],
): CachedState<T> {
  const [state, setState] = useState<CachedState<T>>({ value: undefined, savedAt: undefined, refreshing: true, error: null });
  useEffect(() => {
    let live = true;
    void readCache()
      .then((cached) => {
        if (live && cached) setState((s) => (s.savedAt && s.savedAt > cached.savedAt ? s : { ...s, value: cached.value, savedAt: cached.savedAt }));
      })
      .catch(() => undefined);
    fetchFresh()
      .then(async (value) => {
        if (live) setState({ value, savedAt: Date.now(), refreshing: false, error: null });
        await writeCache(value);
      })
      .catch((err: Error) => live && setState((s) => ({ ...s, refreshing: false, error: err.message })));
    return () => {
      live = false;
    };
  }, deps);
  return state;
}
