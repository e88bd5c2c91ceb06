import ws from 'k6/ws'
import { check } from 'k6'

export const options = { iterations: 1, thresholds: { ws_sessions: ['count==1'] } }

export default function () {
  const res = ws.connect('__WS_TARGET__', null, function (socket) {
    socket.on('open', () => socket.send('ping'))
    socket.on('message', () => socket.close())
    socket.setTimeout(() => socket.close(), 3000)
  })
  check(res, { 'switched protocols': (r) => r && r.status === 101 })
}
