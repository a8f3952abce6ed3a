import type { Config } from './config/config.ts';
import type { Mailer } from './delivery/mailer.ts';
import type { Messenger } from './messenger/messenger.ts';
import type { Store } from './store/store.ts';
import type { Keyring } from './tokens/tokens.ts';
import type { Tracking } from './tracking/tracking.ts';

/** What every part of the server is built from; made once in main.ts (or a test). */
export interface AppContext {
  config: Config;
  store: Store;
  keys: Keyring;
  mailer: Mailer;
  messenger: Messenger;
  tracking: Tracking;
}
