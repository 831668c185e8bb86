import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { VERSION } from './expected.js';
import { serveChild } from './protocol.js';

const typeDefs = `type Query { serverInfo: ServerInfo! } type ServerInfo { version: String! }`;

/** Apollo Server 5 with its defaults and nothing else: the cost of GraphQL itself. */
await serveChild(async () => {
  const server = new ApolloServer({ typeDefs, resolvers: { Query: { serverInfo: () => ({ version: VERSION }) } } });
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
  return {
    url: new URL('graphql', url).href,
    info: 'Apollo Server standalone, default options',
    close: () => server.stop(),
  };
});
