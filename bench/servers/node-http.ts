import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EXPECTED_BODY } from './expected.js';
import { serveChild } from './protocol.js';

/** The ceiling: what Node itself costs per request, with no framework at all. */
await serveChild(async () => {
  const body = Buffer.from(EXPECTED_BODY);
  const server = createServer((req, res) => {
    // Drain the request body like a real handler must before it can answer.
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/graphql`,
    info: `node:http ${process.version}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
});
