import http from 'k6/http'
import crypto from 'k6/crypto'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

export default function () {
  const digest = crypto.sha256('hello', 'hex')
  const mac = crypto.hmac('sha256', 'secret', 'message', 'base64')
  const bytes = crypto.randomBytes(8)
  http.get(`__TARGET__/?d=${digest}&m=${encodeURIComponent(mac)}&n=${bytes.byteLength}`)
}
