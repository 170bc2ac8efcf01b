// Started by NetnsTransport inside another network namespace (`nsenter --net=<path>`): Node
// cannot setns(2) itself and a netlink socket belongs to the namespace it was created in, so this
// process owns the socket and relays requests. Protocol: one JSON object per line on stdin/stdout.
//   → {"id":1,"type":16,"flags":0,"payload":"<base64>"}
//   ← {"id":1,"replies":["<base64>",...]}  or  {"id":1,"errno":17}
import { createInterface } from 'node:readline';
import netlink from 'netlink';

const NETLINK_GENERIC = 16;
const NLMSG_ERROR = 2;
const NLMSG_NOOP = 1;
const NLMSG_DONE = 3;

const socket = netlink.createNetlink(NETLINK_GENERIC, { recvBufferSize: 8 << 20, sendBufferSize: 8 << 20 });
socket.on('error', (err) => {
  process.stderr.write(`netns relay: ${err.message}\n`);
});

const reply = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);

async function handle(req) {
  try {
    const [msgs] = await socket.request(req.type, Buffer.from(req.payload, 'base64'), {
      flags: req.flags,
      checkError: false,
    });
    const replies = [];
    for (const m of msgs) {
      if (m.type === NLMSG_ERROR) {
        const code = m.data.length >= 4 ? m.data.readInt32LE(0) : 0;
        if (code !== 0) return reply({ id: req.id, errno: -code });
        continue;
      }
      if (m.type === NLMSG_NOOP || m.type === NLMSG_DONE) continue;
      replies.push(m.data.toString('base64'));
    }
    reply({ id: req.id, replies });
  } catch (err) {
    reply({ id: req.id, failure: String(err?.message ?? err) });
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  if (line.trim()) void handle(JSON.parse(line));
});
rl.on('close', () => {
  socket.close();
  process.exit(0);
});
reply({ ready: true });
