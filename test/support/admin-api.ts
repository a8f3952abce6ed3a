/**
 * The team's API on a running server, called over HTTP as the extension or a script would.
 * `base` is read at each call: tests learn their server's port only once it has started.
 */
export function adminApi(base: () => string, token: string) {
  return async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${base()}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (res.headers.get('content-type') ?? '').includes('json') ? ((await res.json()) as T) : ((await res.text()) as T);
  };
}
