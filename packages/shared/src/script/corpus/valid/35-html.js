import http from 'k6/http'
import { parseHTML } from 'k6/html'
import { check } from 'k6'

export const options = { iterations: 1, thresholds: { checks: ['rate==1'] } }

export default function () {
  const doc = parseHTML('<html><head><title>Hi</title></head><body><a href="/next">next</a></body></html>')
  const href = doc.find('a').attr('href')
  check(doc, { 'title read': (d) => d.find('title').text() === 'Hi' })
  http.get('__TARGET__' + href)
}
