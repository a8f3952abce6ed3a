/**
 * The page's title counts unread replies while the tab is hidden, "(1) Shop", and is given
 * back as it was once the tab shows again or nothing is unread. A title the page itself sets
 * meanwhile is the one kept.
 */
let unread = 0;
let original: string | null = null;
let ours: string | null = null;
let listening = false;

function apply(): void {
  if (unread > 0 && document.visibilityState === 'hidden') {
    // Not the title we set: the page has changed it, and that is the one to restore.
    if (document.title !== ours) original = document.title;
    ours = `(${unread > 9 ? '9+' : unread}) ${original}`;
    document.title = ours;
  } else if (original !== null) {
    if (document.title === ours) document.title = original;
    original = ours = null;
  }
}

export function followInTitle(count: number): void {
  unread = count;
  if (!listening) {
    listening = true;
    document.addEventListener('visibilitychange', apply);
  }
  apply();
}
