import { createServer } from 'node:http';

/**
 * The floor for the redirect benchmark: node:http answering the same 302 with the same
 * Set-Cookie and no work at all. Prints its port.
 */
const location = process.env.LOCATION ?? 'https://www.shop.test/a';
const cookie = process.env.COOKIE ?? 'clicktrail_id=x; Max-Age=2592000; Path=/; SameSite=Lax';
const server = createServer((_req, res) => {
  res.writeHead(302, {
    location,
    'cache-control': 'no-store',
    'referrer-policy': 'no-referrer',
    'set-cookie': cookie,
  });
  res.end();
});
server.listen(0, '127.0.0.1', () => console.log(`listening on port ${(server.address() as { port: number }).port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
