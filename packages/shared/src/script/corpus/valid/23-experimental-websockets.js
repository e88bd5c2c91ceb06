import { WebSocket } from 'k6/experimental/websockets'

export const options = { iterations: 1, thresholds: { ws_msgs_received: ['count>=1'] } }

export default function () {
  const socket = new WebSocket('__WS_TARGET__')
  socket.onopen = () => socket.send('hello')
  socket.onmessage = () => socket.close()
  socket.onerror = (e) => console.error(e.error)
}
