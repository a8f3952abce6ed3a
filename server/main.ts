import { loadConfig } from './config/config.ts';
import { startServer } from './server.ts';

const config = loadConfig();
const starting = startServer(config);

// Before anything is printed: whoever starts us may stop us as soon as we say we listen.
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    starting
      .then((running) => running.stop())
      .then(
        () => process.exit(0),
        (err) => {
          console.error('[clicktrail] unclean shutdown:', err);
          process.exit(1);
        },
      );
  });
}

const running = await starting;
console.log(`Clicktrail is listening on port ${running.port}
  public URL   ${config.publicUrl}
  admin token  ${config.adminToken}
  database     ${config.dbPath}
  delivery     ${config.smtpUrl ? 'SMTP' : `outbox folder ${config.outbox}`}`);
