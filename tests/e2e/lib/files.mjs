// The file tools' fixture, shared by file_tools.test.mjs and file_links.test.mjs: a broker with
// its tunnel, a real sshd trusting its SSH user CA, one agent "web1" (env=staging) in front of
// it, a tree ROOT/allowed (with allowed/private denied) and ROOT/outside, the role "files" on
// it, and a bot with that role connected with the official MCP SDK client.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  admin, applyRole, botToken, brokerFetch, sdk, startAgent, startBroker, stopChecked, tmpdir,
  until,
} from './zt.mjs';
import { startSshd } from './sshd.mjs';

// Starts it all; fileMax is the broker's --file-max. Returns { S, broker, sshd, user, root,
// allowed, outside, agent, token, bot, call(name, args), stop() }; call names web1 and the
// login itself.
export async function startFiles({ fileMax = '1M', botName = 'file-bot' } = {}) {
  const f = { S: await sdk() };
  f.broker = await startBroker({ args: ['--tunnel-listen', '127.0.0.1:0', '--file-max', fileMax] });
  f.sshd = startSshd({ userCa: admin(f.broker, 'ca', 'ssh-user-pub').stdout });
  f.user = f.sshd.user;
  f.root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'zt-files-')));
  f.allowed = path.join(f.root, 'allowed');
  f.outside = path.join(f.root, 'outside');
  fs.mkdirSync(path.join(f.allowed, 'private'), { recursive: true });
  fs.mkdirSync(f.outside);
  applyRole(f.broker, `kind: role\nname: files\nallow:\n  hosts: {env: staging}\n  logins: [${f.user}]\n`
    + `  tools: ["file_*", list_hosts]\n  paths: ["${f.allowed}/**"]\n`
    + `deny:\n  paths: ["${f.allowed}/private/**"]\n`);
  const join = admin(f.broker, 'tokens', 'add').stdout.match(/^token: (\S+)$/m)[1];
  f.agent = await startAgent(f.broker, path.join(tmpdir('zt-agent-'), 'data'), 'web1', {
    token: join, hostKey: f.sshd.hostKey, labels: 'env=staging', ssh: `127.0.0.1:${f.sshd.port}`, extra: [] });
  assert.ok(f.agent.joined, f.agent.out?.stderr);
  f.token = botToken(f.broker, botName, { roles: 'files' });
  f.bot = new f.S.Client({ name: `zt-e2e-${botName}`, version: '1.0.0' }, { capabilities: {} });
  await f.bot.connect(new f.S.StreamableHTTPClientTransport(new URL(`${f.broker.url}/mcp`), {
    fetch: brokerFetch(f.broker), requestInit: { headers: { Authorization: `Bearer ${f.token}` } },
  }));
  await until(async () => {
    const r = await f.bot.callTool({ name: 'list_hosts', arguments: {} });
    return r.structuredContent.hosts.some((h) => h.online);
  }, 'web1 online');
  f.call = (name, args) => f.bot.callTool({ name, arguments: { host: 'web1', login: f.user, ...args } });
  f.stop = async () => {
    await f.bot?.close();
    await f.agent?.stop();
    await stopChecked(f.broker);
    f.sshd?.stop();
    fs.rmSync(f.root, { recursive: true, force: true });
  };
  return f;
}
