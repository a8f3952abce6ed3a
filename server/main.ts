import cluster from 'node:cluster';
import { reportListening, runPrimary } from './cluster.ts';
import { loadConfig } from './config/config.ts';
import { startServer } from './server.ts';

const config = loadConfig();

const banner = (port: number) => `Clicktrail is listening on port ${port}
  public URL   ${config.publicUrl}
  admin token  ${config.adminToken}
  database     ${config.database.kind === 'sqlite' ? config.dbPath : 'PostgreSQL (CLICKTRAIL_DATABASE_URL)'}
  processes    ${config.workers}
  delivery     ${config.smtpUrl ? 'SMTP' : `outbox folder ${config.outbox}`}`;

if (config.workers > 1 && cluster.isPrimary) {
  console.log(banner(await runPrimary(config.workers)));
} else {
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
  if (cluster.isWorker) reportListening(running.port);
  else console.log(banner(running.port));
}
