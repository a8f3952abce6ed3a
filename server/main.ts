import { loadConfig } from './config/config.ts';
import { startServer } from './server.ts';

const config = loadConfig();
const running = await startServer(config);

console.log(`Clicktrail is listening on port ${running.port}
  public URL   ${config.publicUrl}
  admin token  ${config.adminToken}
  database     ${config.dbPath}
  delivery     ${config.smtpUrl ? 'SMTP' : `outbox folder ${config.outbox}`}`);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    running.stop().then(
      () => process.exit(0),
      (err) => {
        console.error('[clicktrail] unclean shutdown:', err);
        process.exit(1);
      },
    );
  });
}
