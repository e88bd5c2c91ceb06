// WebSocket test with k6/ws: each VU opens a socket, sends a few messages, checks the echoes
// and closes. ws.connect() blocks until the socket closes, so the iteration lasts the session.
import ws from 'k6/ws'
import { check } from 'k6'
import { Counter } from 'k6/metrics'

// The socket URL comes from WS_URL; the default is a public echo server.
const WS_URL = __ENV.WS_URL || 'wss://echo.websocket.org'
const echoes = new Counter('echoes_received')

export const options = {
  vus: 2,
  iterations: 4,
  thresholds: {
    ws_connecting: ['p(95)<1000'], // time to open the socket
    ws_session_duration: ['p(95)<10000'],
    echoes_received: ['count>0'],
  },
}

export default function () {
  const res = ws.connect(WS_URL, { tags: { name: 'echo' } }, (socket) => {
    let sent = 0
    socket.on('open', () => {
      // Send one message every 100 ms; setInterval here is the socket's own timer.
      socket.setInterval(() => {
        if (sent < 3) socket.send(`hello ${__VU}-${__ITER}-${sent++}`)
      }, 100)
    })
    socket.on('message', (msg) => {
      if (msg.startsWith('hello')) echoes.add(1)
      if (sent >= 3) socket.close()
    })
    // Never wait forever: close the socket after 5 s whatever happened.
    socket.setTimeout(() => socket.close(), 5000)
  })
  check(res, { 'handshake status is 101': (r) => r && r.status === 101 })
}
