// Launches a real @elizaos/server (pinned in package.json) as a local peer for the side-by-side tests.
//
// Loopback only, embedded PGLite, no web UI, no model provider. Started by tests/integration/conftest.py,
// which runs it from an empty temporary working directory: the server loads the first `.env` it finds
// walking up from the cwd, and a project `.env` with real keys must never leak into a test server.
//
// Environment (all optional except PGLITE_DATA_DIR):
//   SERVER_PORT              requested port; the server silently moves to the next free one, so the bound
//                            port is printed on the READY line and must be read from there
//   PGLITE_DATA_DIR          database directory (a fresh temporary directory per run)
//   ELIZA_TEST_AGENT_NAME    agent started at boot; its id is stringToUuid(name), so it is deterministic
//   ELIZA_SERVER_AUTH_TOKEN  when set, every /api/* request needs the header X-API-KEY: <token>
//
// Output: one line `READY {"baseUrl": ..., "agents": [...]}` on stdout once the agent is running.
// The process exits when its stdin closes, so a crashed test runner never leaves a server behind.

// Fixed before the server module is loaded: it reads these at import and start time.
process.env.SERVER_HOST = '127.0.0.1'; // the default is 0.0.0.0
process.env.ELIZA_UI_ENABLE = 'false';
// An empty SENTRY_DSN does not disable Sentry (the server falls back to a built-in DSN); a dead
// loopback address does.
process.env.SENTRY_DSN = 'http://public@127.0.0.1:9/1';
process.env.LOG_LEVEL ??= 'warn';
if (!process.env.PGLITE_DATA_DIR) {
  console.error('server.mjs: set PGLITE_DATA_DIR to a fresh temporary directory');
  process.exit(2);
}
process.env.ELIZA_DATA_DIR ??= process.env.PGLITE_DATA_DIR;

const { AgentServer } = await import('@elizaos/server');

const agentName = process.env.ELIZA_TEST_AGENT_NAME;
const agents = agentName
  ? [{ character: { name: agentName, bio: ['Side-by-side test peer'], plugins: [] } }]
  : [];

const server = new AgentServer();
const requestedPort = Number(process.env.SERVER_PORT || 3111);
// Where the agent posts its own messages back; must point at this very server.
process.env.CENTRAL_MESSAGE_SERVER_URL = `http://127.0.0.1:${requestedPort}`;
await server.start({ port: requestedPort, dataDir: process.env.PGLITE_DATA_DIR, agents });

// start() writes the port it really bound to back into SERVER_PORT.
const baseUrl = `http://127.0.0.1:${process.env.SERVER_PORT}`;
process.env.CENTRAL_MESSAGE_SERVER_URL = baseUrl;
const agentIds = server.getAllAgents().map((runtime) => runtime.agentId);
console.log(`READY ${JSON.stringify({ baseUrl, agents: agentIds })}`);

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
