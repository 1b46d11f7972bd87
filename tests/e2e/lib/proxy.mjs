// An HTTPS proxy on loopback for the tests of HTTPS_PROXY: it answers
// CONNECT host:port by connecting there and relaying both ways, and keeps
// the targets it was asked for. Resolves {port, seen, close()}.
import http from 'node:http';
import net from 'node:net';

export async function connectProxy() {
  const seen = [];
  const proxy = http.createServer((_, res) => { res.writeHead(405); res.end(); });
  proxy.on('connect', (req, sock, head) => {
    seen.push(req.url);
    sock.on('error', () => {});
    const [host, port] = req.url.split(':');
    const up = net.connect(Number(port), host, () => {
      sock.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      up.write(head);
      up.pipe(sock);
      sock.pipe(up);
    });
    up.on('error', () => sock.destroy());
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    port: proxy.address().port,
    seen,
    close() {
      proxy.closeAllConnections?.();
      proxy.close();
    },
  };
}
