import http from 'k6/http'

export const options = { iterations: 1, thresholds: { http_req_failed: ['rate<0.01'] } }

// The global WebCrypto API (crypto.subtle / crypto.getRandomValues).
export default async function () {
  const data = new TextEncoder().encode('hello')
  const digest = await crypto.subtle.digest('SHA-256', data)
  const random = crypto.getRandomValues(new Uint8Array(4))
  http.get(`__TARGET__/?len=${digest.byteLength}&r=${random.length}`)
}
